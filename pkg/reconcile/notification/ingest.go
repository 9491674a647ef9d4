package notification

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"k8s.io/klog/v2"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

// maxEventBytes caps one ingested event.
const maxEventBytes = 1 << 20

// IngestHandler is Flux's event ingest API (notification-controller's
// event receiver): a POST of a Flux event's JSON, from other controllers
// that report to Flux (Flagger, tofu-controller, ...). Like Flux's, it
// authenticates nobody: it is meant for the cluster network only, behind a
// NetworkPolicy.
type IngestHandler struct {
	Dispatch func(notify.Event)
}

// ServeHTTP implements http.Handler.
func (h *IngestHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "event too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading the event failed", http.StatusBadRequest)
		return
	}
	var e notify.Event
	if err := json.Unmarshal(body, &e); err != nil {
		http.Error(w, "the body is not a Flux event (JSON)", http.StatusBadRequest)
		return
	}
	switch {
	case e.InvolvedObject.Kind == "" || e.InvolvedObject.Name == "" || e.InvolvedObject.Namespace == "":
		http.Error(w, "involvedObject needs kind, name and namespace", http.StatusBadRequest)
		return
	case e.Severity != SeverityInfo && e.Severity != SeverityError:
		http.Error(w, "severity must be info or error", http.StatusBadRequest)
		return
	case e.Message == "" || e.Reason == "":
		http.Error(w, "message and reason are required", http.StatusBadRequest)
		return
	}
	klog.V(3).InfoS("Event received", "object", e.InvolvedObject.Kind+"/"+e.InvolvedObject.Namespace+"/"+e.InvolvedObject.Name,
		"reason", e.Reason, "controller", e.ReportingController)
	h.Dispatch(e)
	w.WriteHeader(http.StatusAccepted)
}

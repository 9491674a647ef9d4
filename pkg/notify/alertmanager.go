package notify

import (
	"context"
	"net/http"
	"time"
)

// alertmanager posts one firing alert to Alertmanager's v2 API (the address
// is e.g. https://alertmanager/api/v2/alerts), as Flux does: the metadata
// (without "summary") as labels plus alertname "Flux<Kind><Reason>",
// severity, reason, kind, name, namespace and reportingcontroller; the
// message and summary as annotations; the event time as startsAt. Auth is
// a bearer token, basic auth from username and password, or the address's
// own userinfo.
type alertmanager struct {
	s                  *sender
	url                string
	token              string
	username, password string
}

func newAlertmanager(o *Options) (Notifier, error) {
	u, err := parseHTTPAddress(o, o.Address)
	if err != nil {
		return nil, err
	}
	return &alertmanager{s: newSender(o), url: u.String(), token: o.Token, username: o.Username, password: o.Password}, nil
}

type amAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    string            `json:"startsAt"`
}

func (n *alertmanager) Post(ctx context.Context, e Event) error {
	annotations := map[string]string{"message": e.Message}
	labels := make(map[string]string, len(e.Metadata)+7)
	for k, v := range e.Metadata {
		if k == "summary" {
			annotations["summary"] = v
			continue
		}
		labels[k] = v
	}
	o := e.InvolvedObject
	labels["alertname"] = "Flux" + o.Kind + titleWord(e.Reason)
	labels["severity"] = e.Severity
	labels["reason"] = e.Reason
	labels["kind"] = o.Kind
	labels["name"] = o.Name
	labels["namespace"] = o.Namespace
	labels["reportingcontroller"] = e.ReportingController
	payload := []amAlert{{
		Status:      "firing",
		Labels:      labels,
		Annotations: annotations,
		StartsAt:    e.Timestamp.UTC().Format(time.RFC3339),
	}}
	h := http.Header{}
	switch {
	case n.token != "":
		h = bearer(n.token)
	case n.username != "" && n.password != "":
		h = basicAuth(n.username, n.password)
	}
	_, err := n.s.postJSON(ctx, "post alert", n.url, payload, h)
	return err
}

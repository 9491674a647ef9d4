package notification

import (
	"fmt"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/tools/reference"
	"k8s.io/klog/v2"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

// Recorder records Kubernetes Events as its inner recorder does and hands
// every one, as a Flux event, to the notification dispatcher in-process,
// as Flux's controllers post theirs to notification-controller.
type Recorder struct {
	record.EventRecorder
	// Scheme resolves the involved object's apiVersion and kind.
	Scheme *runtime.Scheme
	// Controller is the reporting controller, e.g. "kustomize-controller".
	Controller string
	// Dispatch receives the events; it must not block.
	Dispatch func(notify.Event)
}

var _ record.EventRecorder = &Recorder{}

// Event implements record.EventRecorder.
func (r *Recorder) Event(obj runtime.Object, eventtype, reason, message string) {
	r.EventRecorder.Event(obj, eventtype, reason, message)
	r.forward(obj, nil, eventtype, reason, message)
}

// Eventf implements record.EventRecorder.
func (r *Recorder) Eventf(obj runtime.Object, eventtype, reason, messageFmt string, args ...interface{}) {
	r.EventRecorder.Eventf(obj, eventtype, reason, messageFmt, args...)
	r.forward(obj, nil, eventtype, reason, fmt.Sprintf(messageFmt, args...))
}

// AnnotatedEventf implements record.EventRecorder; the annotations become
// the event's metadata, their API group prefix dropped
// ("kustomize.toolkit.fluxcd.io/revision" → "revision"), as Flux sends them.
func (r *Recorder) AnnotatedEventf(obj runtime.Object, annotations map[string]string, eventtype, reason, messageFmt string, args ...interface{}) {
	r.EventRecorder.AnnotatedEventf(obj, annotations, eventtype, reason, messageFmt, args...)
	r.forward(obj, annotations, eventtype, reason, fmt.Sprintf(messageFmt, args...))
}

func (r *Recorder) forward(obj runtime.Object, annotations map[string]string, eventtype, reason, message string) {
	if r.Dispatch == nil {
		return
	}
	ref, err := reference.GetReference(r.Scheme, obj)
	if err != nil {
		klog.V(2).InfoS("Event not forwarded to notifications", "err", err)
		return
	}
	severity := SeverityInfo
	if eventtype == corev1.EventTypeWarning {
		severity = SeverityError
	}
	var md map[string]string
	if len(annotations) > 0 {
		md = make(map[string]string, len(annotations))
		for k, v := range annotations {
			if i := strings.LastIndex(k, "/"); i >= 0 {
				k = k[i+1:]
			}
			md[k] = v
		}
	}
	host, _ := os.Hostname()
	r.Dispatch(notify.Event{
		InvolvedObject: *ref, Severity: severity, Timestamp: metav1.Now(),
		Message: message, Reason: reason, Metadata: md,
		ReportingController: r.Controller, ReportingInstance: host,
	})
}

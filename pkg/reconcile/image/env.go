// Package image reconciles Flux's image automation kinds: ImageRepository
// (scan a registry's tags into the tag store), ImagePolicy (pick the latest
// tag of a repository) and ImageUpdateAutomation (write the picks into Git
// and push). The engines are pkg/image and pkg/imageupdate; this package
// turns specs into their options and their results into status, the way
// Flux's image-reflector-controller and image-automation-controller do.
package image

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	img "github.com/gitops-apiserver/gitops-apiserver/pkg/image"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// Env is what the image workers share.
type Env struct {
	// Secret, ServiceAccount and Namespace read from the cluster the
	// objects live in.
	Secret         func(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	ServiceAccount func(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)
	Namespace      func(ctx context.Context, name string) (*corev1.Namespace, error)
	// Tags keeps every ImageRepository's tag list, outside etcd.
	Tags *img.TagStore
	// Events records Kubernetes Events; set once the workers start.
	Events record.EventRecorder
	// Lockdown refuses references across namespaces
	// (--no-cross-namespace-refs).
	Lockdown bool
	// Guard refuses connections to the networks the server must not reach
	// on a tenant's behalf; nil refuses nothing.
	Guard *netguard.Guard
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// tagKey is where an ImageRepository's tags are stored.
func tagKey(namespace, name string) string { return namespace + "/" + name }

// object is an image kind's object as run sees it.
type object interface {
	runtime.Object
	GetGeneration() int64
	GetAnnotations() map[string]string
}

// outcome is what run needs to write the common status of one run.
type outcome struct {
	conditions         *[]metav1.Condition
	observedGeneration *int64
	successReason      string
	failureReason      string
}

// finish summarises Ready/Reconciling/Stalled from err, observes the
// generation once it was handled (success or stall, as in Flux), and
// records a Warning event on failure.
func (e *Env) finish(obj object, o outcome, msg string, err error) {
	if o.successReason == "" {
		o.successReason = common.SucceededReason
	}
	loop.Summarize(o.conditions, loop.Summary{
		Err: err, Generation: obj.GetGeneration(),
		SuccessReason: o.successReason, SuccessMessage: msg, FailureReason: o.failureReason,
	})
	if kind, _ := loop.Classify(err, ""); kind == loop.Succeeded || kind == loop.Stalled {
		*o.observedGeneration = obj.GetGeneration()
	}
	if err != nil {
		_, reason := loop.Classify(err, o.failureReason)
		if reason == "" {
			reason = o.failureReason
		}
		e.Events.Event(obj, corev1.EventTypeWarning, reason, err.Error())
	}
}

// intervalOf parses a validated interval, falling back to def.
func intervalOf(d *common.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	v, err := d.Parse()
	if err != nil || v <= 0 {
		return def
	}
	return v
}

// requested reports whether obj carries a reconcile request not handled yet
// (`flux reconcile`, the /reconcile subresource).
func requested(obj interface{ GetAnnotations() map[string]string }, status *common.ReconcileRequestStatus) bool {
	v, ok := obj.GetAnnotations()[common.ReconcileRequestAnnotation]
	return ok && v != status.LastHandledReconcileAt
}

// getSecret reads a Secret obj refers to in field; errors carry reason and
// never the Secret's data.
func (e *Env) getSecret(ctx context.Context, namespace, name, field, reason string) (*corev1.Secret, error) {
	s, err := e.Secret(ctx, namespace, name)
	if err != nil || s == nil {
		if err == nil || apierrors.IsNotFound(err) {
			return nil, loop.Failf(reason, "secret '%s/%s' (%s) not found", namespace, name, field)
		}
		return nil, loop.Failf(reason, "failed to get secret '%s/%s' (%s): %w", namespace, name, field, err)
	}
	return s, nil
}

package loop

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	fluxscheme "github.com/gitops-apiserver/gitops-apiserver/pkg/generated/clientset/versioned/scheme"
)

// Each run logs with the keys Flux's controllers (controller-runtime) log
// with, so `flux logs --kind=… --name=… --namespace=…` and log queries
// written for Flux work: controller (the lowercase controller name),
// controllerGroup, controllerKind, the kind as a key holding
// {name, namespace}, name, namespace and reconcileID (one per run); the
// line that ends a run adds revision.

// objectKind is the group and kind of T's objects; kind when the scheme
// does not know T (the kind is then the controller's own name).
func objectKind[T Object](kind string) schema.GroupKind {
	t := reflect.TypeFor[T]()
	if t.Kind() == reflect.Pointer {
		if obj, ok := reflect.New(t.Elem()).Interface().(runtime.Object); ok {
			if gvks, _, err := fluxscheme.Scheme.ObjectKinds(obj); err == nil && len(gvks) > 0 {
				return gvks[0].GroupKind()
			}
		}
	}
	return schema.GroupKind{Kind: kind}
}

// runLogger is the logger of one run of key.
func (c *Controller[T]) runLogger(logger klog.Logger, key cache.ObjectName) klog.Logger {
	return logger.WithValues(
		"controller", controllerName(c.cfg.Kind),
		"controllerGroup", c.kind.Group,
		"controllerKind", c.kind.Kind,
		c.kind.Kind, klog.KRef(key.Namespace, key.Name),
		"namespace", key.Namespace,
		"name", key.Name,
		"reconcileID", uuid.NewString(),
	)
}

// logRun writes the line that ends a run: info when it succeeded or waits,
// error when it failed or stalled, and at V(1) while it is in progress
// (a health check polls often). next is when the object is looked at
// again (zero: only on a change).
func logRun(logger klog.Logger, outcome Outcome, err error, obj runtime.Object, took, next time.Duration) {
	logger = logger.WithValues("revision", revisionOf(obj))
	took = took.Round(time.Millisecond)
	switch outcome {
	case Succeeded:
		logger.Info("Reconciliation finished in " + took.String() + nextRun(", next run in ", next))
	case Failed:
		logger.Error(err, "Reconciliation failed after "+took.String()+nextRun(", next try in ", next))
	case Stalled:
		logger.Error(err, "Reconciliation stalled after "+took.String()+"; retried when the object changes"+nextRun(" or in ", next))
	case Waited:
		logger.Info(fmt.Sprintf("%s%s", err, nextRun(", retrying in ", next)))
	case InProgress:
		logger.V(1).Info(fmt.Sprintf("%s%s", err, nextRun(", next check in ", next)))
	}
}

func nextRun(prefix string, next time.Duration) string {
	if next <= 0 {
		return ""
	}
	return prefix + next.Round(time.Millisecond).String()
}

// revisionOf is the revision an object's status reports: its artifact's,
// the last applied, attempted or pushed one, or the last scan's.
func revisionOf(obj runtime.Object) string {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return ""
	}
	status := v.Elem().FieldByName("Status")
	if !status.IsValid() || status.Kind() != reflect.Struct {
		return ""
	}
	for _, f := range []string{"Artifact", "LastAppliedRevision", "LastAttemptedRevision", "LastPushCommit", "LastScanResult"} {
		if r := revisionField(status.FieldByName(f)); r != "" {
			return r
		}
	}
	return ""
}

// revisionField reads a string field, or the Revision of a struct field.
func revisionField(f reflect.Value) string {
	if !f.IsValid() {
		return ""
	}
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return ""
		}
		f = f.Elem()
	}
	switch f.Kind() {
	case reflect.String:
		return strings.TrimSpace(f.String())
	case reflect.Struct:
		if r := f.FieldByName("Revision"); r.IsValid() && r.Kind() == reflect.String {
			return r.String()
		}
	}
	return ""
}

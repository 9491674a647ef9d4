package reconcile

import (
	"context"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/informers/externalversions"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// Deleting never hangs on our finalizer. Objects get it at create only when
// the workers run with the server, and a replica serving the API without
// workers (--disable-workers) releases it from objects being deleted when
// no replica holds the workers' Lease (none, released or expired) once the
// object has waited orphanFinalizerGrace: nothing would ever prune them,
// so they go without pruning, with a Warning event saying so. While some
// replica holds the Lease its workers finalize as usual.

// workersLease names the Lease the workers run under.
const workersLease = "gitops-apiserver-workers"

// orphanFinalizerGrace is how long an object being deleted waits for a
// worker before an API-only replica releases its finalizer.
const orphanFinalizerGrace = 10 * time.Second

// releaseOrphanFinalizers runs the release until ctx is done.
func (m *Manager) releaseOrphanFinalizers(ctx context.Context, loopback *rest.Config) error {
	cl, err := m.clientsFor(loopback, "finalizer-release")
	if err != nil {
		return err
	}
	factory := externalversions.NewSharedInformerFactory(cl.flux, 0)
	events := eventRecorder(ctx, cl.host, "gitops-apiserver")
	held := func(ctx context.Context) bool { return workersLeaseHeld(ctx, cl.host, m.opts.LeaderElectionNamespace) }

	ks := factory.Kustomize().V1().Kustomizations()
	ksGet := func(namespace, name string) (*kustomizev1.Kustomization, error) {
		return ks.Lister().Kustomizations(namespace).Get(name)
	}
	c, err := loop.New(loop.Config[*kustomizev1.Kustomization]{
		Kind: "KustomizationFinalizer", Workers: 1, Informer: ks.Informer(), Get: ksGet,
		UpdateStatus: func(context.Context, *kustomizev1.Kustomization) error { return nil },
		Reconciler: &orphanFinalizers[*kustomizev1.Kustomization]{
			finalizer: kustomize.Finalizer, held: held, events: events,
			update: func(ctx context.Context, obj *kustomizev1.Kustomization) error {
				_, err := cl.flux.KustomizeV1().Kustomizations(obj.Namespace).Update(ctx, obj, metav1.UpdateOptions{})
				return err
			},
		},
	})
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	klog.InfoS("Workers disabled: releasing finalizers of deleted objects when no worker holds the Lease", "grace", orphanFinalizerGrace)
	return c.Run(ctx)
}

// orphanFinalizers releases our finalizer from objects no worker finalizes.
type orphanFinalizers[T loop.Object] struct {
	finalizer string
	held      func(ctx context.Context) bool
	update    func(ctx context.Context, obj T) error
	events    record.EventRecorder
}

// Reconcile implements loop.Reconciler.
func (o *orphanFinalizers[T]) Reconcile(ctx context.Context, obj T) loop.Result {
	if obj.GetDeletionTimestamp() == nil || !slices.Contains(obj.GetFinalizers(), o.finalizer) {
		return loop.Result{}
	}
	if waited := time.Since(obj.GetDeletionTimestamp().Time); waited < orphanFinalizerGrace {
		return loop.Result{RequeueAfter: orphanFinalizerGrace - waited}
	}
	if o.held(ctx) {
		// A worker holds the Lease and will finalize it; look again later in
		// case it goes away.
		return loop.Result{RequeueAfter: orphanFinalizerGrace}
	}
	obj.SetFinalizers(slices.DeleteFunc(obj.GetFinalizers(), func(f string) bool { return f == o.finalizer }))
	if err := o.update(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		return loop.Result{Err: loop.Failf("FinalizerReleaseFailed", "releasing finalizer: %v", err), RequeueAfter: orphanFinalizerGrace}
	}
	o.events.Eventf(obj, corev1.EventTypeWarning, "FinalizerReleased",
		"No worker is running (no replica holds Lease %s): finalizer %s released without pruning", workersLease, o.finalizer)
	return loop.Result{}
}

// workersLeaseHeld reports whether a replica holds the workers' Lease now.
// A Lease that can not be read counts as not held: deletes must not wait
// on a host cluster that does not answer.
func workersLeaseHeld(ctx context.Context, host kubernetes.Interface, namespace string) bool {
	lease, err := host.CoordinationV1().Leases(namespace).Get(ctx, workersLease, metav1.GetOptions{})
	if err != nil {
		if !apierrors.IsNotFound(err) {
			klog.FromContext(ctx).Info("Reading the workers' Lease failed", "err", err)
		}
		return false
	}
	s := lease.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity == "" || s.RenewTime == nil || s.LeaseDurationSeconds == nil {
		return false
	}
	return time.Since(s.RenewTime.Time) < time.Duration(*s.LeaseDurationSeconds)*time.Second
}

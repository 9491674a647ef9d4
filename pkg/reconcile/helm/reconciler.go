// Package helm reconciles HelmReleases the way Flux's helm-controller does,
// with the Helm SDK (helm.sh/helm/v4): it gets the chart (from a HelmChart
// it creates from spec.chart, or from spec.chartRef), composes the values,
// and installs, upgrades, tests, rolls back or uninstalls the release in
// the target cluster, remediating failures as spec.install and
// spec.upgrade say. Releases are stored as Helm stores them.
package helm

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"helm.sh/helm/v4/pkg/action"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helmrelease"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/target"
)

// Finalizer is Flux's: it lets the worker uninstall the release before the
// HelmRelease goes away.
const Finalizer = "finalizers.fluxcd.io"

// FieldManager is the field manager of release objects (Helm's server-side
// apply and drift correction), as in Flux.
const FieldManager = "helm-controller"

// Source is what the worker needs of a chart source object.
type Source struct {
	// Artifact is the source's status.artifact; nil when it has none yet.
	Artifact *common.Artifact
	// Ready is the source's Ready condition status and message.
	Ready   string
	Message string
}

// Options are the server-wide settings of the HelmRelease worker.
type Options struct {
	// NoCrossNamespaceRefs refuses chart sources and dependencies in other
	// namespaces.
	NoCrossNamespaceRefs bool
	// DependencyRequeue is how soon a HelmRelease waiting for a dependency
	// or a chart looks again.
	DependencyRequeue time.Duration
	// MaxChartSize caps a chart artifact read into memory (bytes).
	MaxChartSize int64
	// Guard refuses remote clusters (spec.kubeConfig) and external
	// artifacts in refused networks.
	Guard *netguard.Guard
	// Fetcher downloads the charts of ExternalArtifacts published by other
	// servers, and caches them by digest; nil refuses them.
	Fetcher *artifact.Fetcher
}

// Reconciler reconciles HelmReleases.
type Reconciler struct {
	Options
	// GetHelmRelease and GetKustomization read dependencies from caches.
	GetHelmRelease   func(namespace, name string) (*helmv2.HelmRelease, error)
	GetKustomization func(namespace, name string) (*kustomizev1.Kustomization, error)
	// GetSource reads a chart source (HelmChart, OCIRepository,
	// ExternalArtifact) from the caches; NotFound when it does not exist.
	GetSource func(kind, namespace, name string) (*Source, error)
	// Charts creates, updates and deletes the HelmCharts made from
	// spec.chart.
	Charts ChartClient
	// UpdateFinalizers writes obj's finalizers and returns it as stored.
	UpdateFinalizers func(ctx context.Context, obj *helmv2.HelmRelease) (*helmv2.HelmRelease, error)
	// UpdateStatus writes obj's status and returns it as stored, for the
	// in-progress status before a long action; nil writes none.
	UpdateStatus func(ctx context.Context, obj *helmv2.HelmRelease) (*helmv2.HelmRelease, error)
	// Store holds the chart artifacts.
	Store *artifact.Store
	// Host reads ConfigMaps and Secrets (valuesFrom) in the host cluster.
	Host kubernetes.Interface
	// Targets gives the target cluster and identity of a HelmRelease.
	Targets *target.Targets
	// Clusters caches Helm's discovery per target.
	Clusters *helmrelease.Clusters
	// Events records Kubernetes Events.
	Events record.EventRecorder

	// configure, when set, stands in for Clusters.Configuration: tests
	// give the worker Helm's in-memory storage and fake kube client.
	configure func(t *target.Target, releaseNamespace, storageNamespace string) (*action.Configuration, error)
}

// configuration is Helm's action configuration for obj's release on
// target t: objects go to the release namespace, releases are stored in
// the storage namespace.
func (r *Reconciler) configuration(t *target.Target, obj *helmv2.HelmRelease, log slog.Handler) (*action.Configuration, error) {
	if r.configure != nil {
		return r.configure(t, releaseNamespace(obj), storageNamespace(obj))
	}
	return r.Clusters.Configuration(t.Key, t.Config, releaseNamespace(obj), storageNamespace(obj), log)
}

// ChartClient writes HelmCharts through our API.
type ChartClient interface {
	Get(ctx context.Context, namespace, name string) (*sourcev1.HelmChart, error)
	Create(ctx context.Context, chart *sourcev1.HelmChart) error
	Update(ctx context.Context, chart *sourcev1.HelmChart) error
	Delete(ctx context.Context, namespace, name string) error
}

// Reconcile implements loop.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, obj *helmv2.HelmRelease) loop.Result {
	ctx = netguard.WithContext(ctx, r.Guard)
	if obj.DeletionTimestamp != nil {
		return r.finalize(ctx, obj)
	}
	if !slices.Contains(obj.Finalizers, Finalizer) {
		obj.Finalizers = append(obj.Finalizers, Finalizer)
		updated, err := r.UpdateFinalizers(ctx, obj)
		if err != nil {
			return loop.Result{Err: loop.Failf(helm.ReconciliationFailedReason, "adding finalizer: %v", err)}
		}
		obj.ObjectMeta = updated.ObjectMeta
	}
	if obj.Spec.Suspend {
		return loop.Result{}
	}
	interval := parseDuration(&obj.Spec.Interval, 10*time.Minute)
	r.handleRequests(obj)

	msg, err := r.reconcile(ctx, obj)
	// Ready says what the last release action did, as in Flux.
	successReason := helm.ReconciliationSucceededReason
	if c := findCondition(obj, helm.ReleasedCondition); c != nil && c.Status == "True" {
		successReason = c.Reason
	}
	loop.Summarize(&obj.Status.Conditions, loop.Summary{
		Err: err, Generation: obj.Generation,
		SuccessReason: successReason, SuccessMessage: msg,
		FailureReason: helm.ReconciliationFailedReason,
	})
	outcome, reason := loop.Classify(err, helm.ReconciliationFailedReason)
	if outcome == loop.Succeeded || outcome == loop.Stalled {
		obj.Status.ObservedGeneration = obj.Generation
	}
	if err != nil {
		if outcome != loop.Waited && outcome != loop.InProgress {
			r.Events.Event(obj, corev1.EventTypeWarning, reason, err.Error())
		}
		return loop.Result{Err: err, RequeueAfter: retryInterval(obj, interval)}
	}
	return loop.Result{RequeueAfter: interval}
}

// handleRequests records `flux reconcile` requests and resets the failure
// counters on a new generation or a reset request, as Flux does.
func (r *Reconciler) handleRequests(obj *helmv2.HelmRelease) {
	loop.RecordReconcileRequest(obj, &obj.Status.ReconcileRequestStatus)
	if obj.Status.LastAttemptedGeneration != obj.Generation {
		clearFailures(&obj.Status)
	}
	if v, ok := requested(obj, helm.ResetRequestAnnotation); ok && v != obj.Status.LastHandledResetAt {
		clearFailures(&obj.Status)
		obj.Status.LastHandledResetAt = v
	}
}

// requested returns the value of annotation when it is a request: Flux
// only honours forceAt and resetAt set to the same value as requestedAt.
func requested(obj *helmv2.HelmRelease, annotation string) (string, bool) {
	v, ok := obj.Annotations[annotation]
	if !ok || v == "" || obj.Annotations[common.ReconcileRequestAnnotation] != v {
		return "", false
	}
	return v, true
}

func clearFailures(st *helmv2.HelmReleaseStatus) {
	st.Failures, st.InstallFailures, st.UpgradeFailures = 0, 0, 0
}

func parseDuration(d *common.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	v, err := d.Parse()
	if err != nil || v <= 0 {
		return def
	}
	return v
}

// retryInterval is how soon a failed HelmRelease is tried again: with the
// RetryOnFailure strategy of the action that failed, its retryInterval
// (Flux's default 5m); otherwise the interval.
func retryInterval(obj *helmv2.HelmRelease, interval time.Duration) time.Duration {
	if name, every := strategy(obj, obj.Status.LastAttemptedReleaseAction); name == helm.RetryOnFailureStrategy {
		return parseDuration(every, 5*time.Minute)
	}
	return interval
}

// strategy is spec.install.strategy or spec.upgrade.strategy: its name
// (RemediateOnFailure when unset) and retryInterval.
func strategy(obj *helmv2.HelmRelease, act helmv2.ReleaseAction) (string, *common.Duration) {
	switch {
	case act == actionInstall && obj.Spec.Install != nil && obj.Spec.Install.Strategy != nil:
		return obj.Spec.Install.Strategy.Name, obj.Spec.Install.Strategy.RetryInterval
	case act == actionUpgrade && obj.Spec.Upgrade != nil && obj.Spec.Upgrade.Strategy != nil:
		return obj.Spec.Upgrade.Strategy.Name, obj.Spec.Upgrade.Strategy.RetryInterval
	}
	return helm.RemediateOnFailureStrategy, nil
}

// Forget drops what the reconciler keeps of a HelmRelease that is gone.
func (r *Reconciler) Forget(string, string) {}

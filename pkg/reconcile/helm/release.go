package helm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/klog/v2"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helmrelease"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/target"
)

// releaseRun is one reconciliation of a release.
type releaseRun struct {
	r      *Reconciler
	obj    *helmv2.HelmRelease
	cfg    *action.Configuration
	target *target.Target
	chart  *chart.Chart
	values map[string]any
	name   string
}

// reconcile does one run and returns Ready's message on success.
func (r *Reconciler) reconcile(ctx context.Context, obj *helmv2.HelmRelease) (string, error) {
	if _, err := healthChecks(obj); err != nil {
		return "", err
	}
	if err := r.checkDependencies(obj); err != nil {
		return "", err
	}
	ch, src, err := r.loadChart(ctx, obj)
	if err != nil {
		return "", err
	}
	values, err := r.values(ctx, obj)
	if err != nil {
		return "", err
	}
	run, err := r.newRun(ctx, obj, ch, values)
	if err != nil {
		return "", err
	}
	st := &obj.Status
	st.StorageNamespace = storageNamespace(obj)
	st.LastAttemptedGeneration = obj.Generation
	st.LastAttemptedRevision = ch.Metadata.Version
	st.LastAttemptedRevisionDigest = src.artifact.Digest
	st.LastAttemptedConfigDigest = configDigest(values)
	msg, err := run.converge(ctx)
	if r.Clusters != nil && len(ch.CRDObjects()) > 0 {
		// The chart may have installed or changed kinds: the cluster's
		// discovery, mapper and capabilities are read again.
		r.Clusters.Invalidate(run.target.Key)
	}
	run.recordHistory()
	return msg, err
}

// newRun prepares the Helm action configuration of obj's target.
func (r *Reconciler) newRun(ctx context.Context, obj *helmv2.HelmRelease, ch *chart.Chart, values map[string]any) (*releaseRun, error) {
	t, err := r.Targets.For(ctx, target.Ref{Namespace: obj.Namespace, KubeConfig: obj.Spec.KubeConfig, ServiceAccountName: obj.Spec.ServiceAccountName})
	if err != nil {
		return nil, err
	}
	log := klog.FromContext(ctx).WithValues("release", releaseName(obj))
	cfg, err := r.configuration(t, obj, logHandler{log})
	if err != nil {
		return nil, loop.Failf(helm.InitFailedReason, "failed to prepare Helm for the target cluster: %v", err)
	}
	switch {
	case r.configure != nil || r.Clusters == nil:
	case len(ch.CRDObjects()) > 0:
		// Helm reads discovery itself, after installing the CRDs, so the
		// templates see them; the cluster's cache is dropped after the run.
	default:
		caps, err := r.Clusters.Capabilities(t.Key, t.Config)
		if err != nil {
			return nil, loop.Failf(helm.InitFailedReason, "failed to read the target cluster's capabilities: %v", err)
		}
		cfg.Capabilities = caps
	}
	return &releaseRun{r: r, obj: obj, cfg: cfg, target: t, chart: ch, values: values, name: releaseName(obj)}, nil
}

// converge takes the release one step toward the desired state, as Flux's
// helm-controller decides it: install when there is none, upgrade when the
// chart, values or post-renderers changed (or an upgrade is forced),
// remediate failures, run tests, and correct drift.
func (run *releaseRun) converge(ctx context.Context) (string, error) {
	obj := run.obj
	cur, err := run.last()
	if err != nil {
		return "", loop.Failf(helm.GetLastReleaseFailedReason, "failed to get the last release of %s: %v", run.ref(), err)
	}
	if cur != nil && cur.Info.Status.IsPending() {
		// A release left pending (the worker stopped mid-action) blocks
		// every action: mark it failed, as Flux does, and go on.
		cur.SetStatus(rcommon.StatusFailed, "release was pending when the reconciler found it")
		if err := run.cfg.Releases.Update(cur); err != nil {
			return "", loop.Failf(helm.GetLastReleaseFailedReason, "failed to unlock pending release %s: %v", run.ref(), err)
		}
	}
	force := false
	if v, ok := requested(obj, helm.ForceRequestAnnotation); ok && v != obj.Status.LastHandledForceAt {
		force = true
		obj.Status.LastHandledForceAt = v
	}

	switch {
	case cur == nil || cur.Info.Status == rcommon.StatusUninstalled:
		return run.install(ctx)
	case cur.Info.Status == rcommon.StatusFailed && !run.hasDeployed():
		// A failed first install: Helm cannot upgrade it; start over.
		if err := run.uninstall(ctx, "replacing a failed install"); err != nil {
			return "", err
		}
		return run.install(ctx)
	case run.chartRenamed(cur) && reinstallOnRename(obj):
		// spec.upgrade.chartNameChangeStrategy Reinstall (the default): a
		// release of another chart is uninstalled and installed anew.
		if err := run.uninstall(ctx, "the chart's name changed"); err != nil {
			return "", err
		}
		return run.install(ctx)
	case cur.Info.Status == rcommon.StatusFailed || force || run.outOfSync(cur):
		return run.upgrade(ctx)
	}
	return run.inSync(ctx, cur)
}

// inSync handles a deployed release that matches the desired state: run
// the tests if they did not run for it, and detect drift.
func (run *releaseRun) inSync(ctx context.Context, cur *release.Release) (string, error) {
	if run.testsEnabled() && !testedOK(run.obj, cur) && !run.testFailedFor(cur) {
		if err := run.test(ctx, cur); err != nil {
			return "", err
		}
	}
	if err := run.detectDrift(ctx, cur); err != nil {
		return "", err
	}
	run.observe()
	return run.readyMessage(cur), nil
}

// last returns the latest release of any status, or nil.
func (run *releaseRun) last() (*release.Release, error) {
	rel, err := run.cfg.Releases.Last(run.name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return toRelease(rel)
}

// lastDeployedVersion is the newest revision below the current one that
// was deployed (deployed or superseded), or 0 (Helm's "the previous one")
// when there is none.
func (run *releaseRun) lastDeployedVersion() int {
	history, err := run.cfg.Releases.History(run.name)
	if err != nil {
		return 0
	}
	current, best := 0, 0
	for _, h := range history {
		if rel, err := toRelease(h); err == nil && rel.Version > current {
			current = rel.Version
		}
	}
	for _, h := range history {
		rel, err := toRelease(h)
		if err != nil || rel.Version >= current {
			continue
		}
		if (rel.Info.Status == rcommon.StatusDeployed || rel.Info.Status == rcommon.StatusSuperseded) && rel.Version > best {
			best = rel.Version
		}
	}
	return best
}

// hasDeployed reports whether some revision of the release was deployed.
func (run *releaseRun) hasDeployed() bool {
	history, err := run.cfg.Releases.History(run.name)
	if err != nil {
		return false
	}
	for _, h := range history {
		if rel, err := toRelease(h); err == nil && (rel.Info.Status == rcommon.StatusDeployed || rel.Info.Status == rcommon.StatusSuperseded) {
			return true
		}
	}
	return false
}

// outOfSync reports whether cur differs from what the spec asks for.
func (run *releaseRun) outOfSync(cur *release.Release) bool {
	st := run.obj.Status
	return cur.Chart == nil || cur.Chart.Metadata == nil ||
		cur.Chart.Metadata.Name != run.chart.Metadata.Name ||
		cur.Chart.Metadata.Version != run.chart.Metadata.Version ||
		configDigest(cur.Config) != configDigest(run.values) ||
		st.ObservedPostRenderersDigest != postRenderersDigest(run.obj) ||
		st.ObservedCommonMetadataDigest != commonMetadataDigest(run.obj)
}

// chartRenamed reports whether cur released a chart of another name.
func (run *releaseRun) chartRenamed(cur *release.Release) bool {
	return cur.Chart != nil && cur.Chart.Metadata != nil && cur.Chart.Metadata.Name != run.chart.Metadata.Name
}

// reinstallOnRename is spec.upgrade.chartNameChangeStrategy: Reinstall
// unless InPlaceUpdate.
func reinstallOnRename(obj *helmv2.HelmRelease) bool {
	return obj.Spec.Upgrade == nil || obj.Spec.Upgrade.ChartNameChangeStrategy != helm.ChartNameChangeInPlaceUpdate
}

// observe records the spec that the deployed release reflects.
func (run *releaseRun) observe() {
	run.obj.Status.ObservedPostRenderersDigest = postRenderersDigest(run.obj)
	run.obj.Status.ObservedCommonMetadataDigest = commonMetadataDigest(run.obj)
}

// configDigest identifies release values; no values and empty values are
// the same (Helm stores an empty map as nothing).
func configDigest(values map[string]any) string {
	if len(values) == 0 {
		values = map[string]any{}
	}
	return helmrelease.Digest(values)
}

func postRenderersDigest(obj *helmv2.HelmRelease) string {
	if len(obj.Spec.PostRenderers) == 0 {
		return ""
	}
	return helmrelease.Digest(obj.Spec.PostRenderers)
}

func commonMetadataDigest(obj *helmv2.HelmRelease) string {
	if obj.Spec.CommonMetadata == nil {
		return ""
	}
	return helmrelease.Digest(obj.Spec.CommonMetadata)
}

// ref names the release in messages: namespace/name.
func (run *releaseRun) ref() string { return releaseNamespace(run.obj) + "/" + run.name }

// refAt names a revision of the release: namespace/name.vN.
func refAt(rel *release.Release) string {
	return fmt.Sprintf("%s/%s.v%d", rel.Namespace, rel.Name, rel.Version)
}

func (run *releaseRun) readyMessage(cur *release.Release) string {
	if c := findCondition(run.obj, helm.ReleasedCondition); c != nil && c.Status == "True" {
		return c.Message
	}
	return fmt.Sprintf("Helm release %s with chart %s is deployed", refAt(cur), chartDescription(run.chart))
}

func toRelease(r any) (*release.Release, error) {
	switch v := r.(type) {
	case *release.Release:
		return v, nil
	case release.Release:
		return &v, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("unexpected release type %T", r)
}

// logHandler sends Helm's slog records to klog at verbosity 4.
type logHandler struct{ log klog.Logger }

func (h logHandler) Enabled(context.Context, slog.Level) bool { return h.log.V(4).Enabled() }

func (h logHandler) Handle(_ context.Context, rec slog.Record) error {
	var kv []any
	rec.Attrs(func(a slog.Attr) bool {
		kv = append(kv, a.Key, a.Value.Any())
		return true
	})
	h.log.V(4).Info(rec.Message, kv...)
	return nil
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var kv []any
	for _, a := range attrs {
		kv = append(kv, a.Key, a.Value.Any())
	}
	return logHandler{h.log.WithValues(kv...)}
}

func (h logHandler) WithGroup(string) slog.Handler { return h }

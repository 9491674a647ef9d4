package helm

import (
	"context"
	"sort"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helmrelease"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// historyLimit is how many releases status.history keeps (Flux's).
const historyLimit = 5

func setCondition(obj *helmv2.HelmRelease, t string, status metav1.ConditionStatus, reason, msg string) {
	apimeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{Type: t, Status: status, Reason: reason,
		Message: msg, ObservedGeneration: obj.Generation})
}

func removeCondition(obj *helmv2.HelmRelease, t string) {
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, t)
}

func findCondition(obj *helmv2.HelmRelease, t string) *metav1.Condition {
	return apimeta.FindStatusCondition(obj.Status.Conditions, t)
}

func conditionMessage(obj *helmv2.HelmRelease, t string) string {
	if c := findCondition(obj, t); c != nil {
		return c.Message
	}
	return ""
}

// progress writes, before a Helm action that may take its whole timeout,
// that it is running: Reconciling=True and Ready=Unknown, as Flux does.
func (r *Reconciler) progress(ctx context.Context, obj *helmv2.HelmRelease, msg string) {
	if r.UpdateStatus == nil {
		return
	}
	set := func(t string, status metav1.ConditionStatus, m string) {
		apimeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{Type: t, Status: status,
			Reason: common.ProgressingReason, Message: m, ObservedGeneration: obj.Generation})
	}
	set(common.ReadyCondition, metav1.ConditionUnknown, msg)
	set(common.ReconcilingCondition, metav1.ConditionTrue, msg)
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, common.StalledCondition)
	updated, err := r.UpdateStatus(ctx, obj)
	if err != nil {
		klog.FromContext(ctx).V(1).Info("Writing the in-progress status failed", "err", err)
		return
	}
	obj.ObjectMeta = updated.ObjectMeta
}

// recordHistory sets status.history and status.inventory from Helm's
// storage: the newest releases first, and the objects of the latest.
func (run *releaseRun) recordHistory() {
	history, err := run.cfg.Releases.History(run.name)
	if err != nil {
		return
	}
	var rels []*release.Release
	for _, h := range history {
		if rel, err := toRelease(h); err == nil && rel != nil {
			rels = append(rels, rel)
		}
	}
	sort.Slice(rels, func(i, j int) bool { return rels[i].Version > rels[j].Version })
	if len(rels) > historyLimit {
		rels = rels[:historyLimit]
	}
	snaps := make([]helmv2.Snapshot, 0, len(rels))
	for _, rel := range rels {
		snaps = append(snaps, snapshot(rel))
	}
	run.obj.Status.History = snaps
	if len(rels) > 0 {
		run.obj.Status.LastReleaseRevision = rels[0].Version
		run.obj.Status.Inventory = run.inventory(rels[0])
	}
}

// snapshot is status.history's record of a release.
func snapshot(rel *release.Release) helmv2.Snapshot {
	s := helmv2.Snapshot{
		APIVersion: "helm.sh/release.v1",
		Digest: helmrelease.Digest(struct {
			Name, Namespace, Manifest string
			Version                   int
			Config                    map[string]any
		}{rel.Name, rel.Namespace, rel.Manifest, rel.Version, rel.Config}),
		Name:         rel.Name,
		Namespace:    rel.Namespace,
		Version:      rel.Version,
		ConfigDigest: configDigest(rel.Config),
	}
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		s.ChartName, s.ChartVersion, s.AppVersion = rel.Chart.Metadata.Name, rel.Chart.Metadata.Version, rel.Chart.Metadata.AppVersion
	}
	if rel.Info != nil {
		s.Status = string(rel.Info.Status)
		s.FirstDeployed = metav1.NewTime(rel.Info.FirstDeployed)
		s.LastDeployed = metav1.NewTime(rel.Info.LastDeployed)
		if !rel.Info.Deleted.IsZero() {
			s.Deleted = metav1.NewTime(rel.Info.Deleted)
		}
	}
	if hooks := testHooks(rel); len(hooks) > 0 {
		m := map[string]*helmv2.TestHookStatus{}
		for _, h := range hooks {
			m[h.Name] = &helmv2.TestHookStatus{
				LastStarted: metav1.NewTime(h.LastRun.StartedAt), LastCompleted: metav1.NewTime(h.LastRun.CompletedAt),
				Phase: string(h.LastRun.Phase),
			}
		}
		s.TestHooks = &m
	}
	return s
}

// inventory lists the objects of rel's manifest, in Flux's format.
func (run *releaseRun) inventory(rel *release.Release) *helmv2.ResourceInventory {
	objs, err := run.r.Clusters.Objects(run.target.Key, run.target.Config, rel.Manifest, rel.Namespace)
	if err != nil {
		return run.obj.Status.Inventory
	}
	inv := &helmv2.ResourceInventory{Entries: []helmv2.ResourceRef{}}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		inv.Entries = append(inv.Entries, helmv2.ResourceRef{
			ID:      o.GetNamespace() + "_" + o.GetName() + "_" + gvk.Group + "_" + gvk.Kind,
			Version: gvk.Version,
		})
	}
	return inv
}

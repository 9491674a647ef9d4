package helm

import (
	"context"
	"fmt"
	"strings"

	release "helm.sh/helm/v4/pkg/release/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/ignore"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// Reasons of drift events.
const (
	driftDetectedReason  = "DriftDetected"
	driftCorrectedReason = "DriftCorrected"
)

// detectDrift compares the objects of the deployed release with the
// cluster (a server-side dry-run apply as the release's field manager)
// when spec.driftDetection.mode is enabled or warn. With enabled, drifted
// objects are applied again (server-side, forced); with warn, an event
// says what drifted. Paths of spec.driftDetection.ignore, and objects
// annotated helm.toolkit.fluxcd.io/driftDetection: disabled, are left out.
func (run *releaseRun) detectDrift(ctx context.Context, cur *release.Release) error {
	dd := run.obj.Spec.DriftDetection
	if dd == nil || dd.Mode == "" || dd.Mode == driftDisabled {
		removeCondition(run.obj, helm.DriftedCondition)
		return nil
	}
	objs, err := run.r.Clusters.Objects(run.target.Key, run.target.Config, cur.Manifest, cur.Namespace)
	if err != nil {
		return loop.Failf(helm.ReconciliationFailedReason, "drift detection: %v", err)
	}
	objs = ignore.Apply(objs, ignoreRules(dd))
	entries, err := run.target.Manager.Diff(ctx, objs)
	if err != nil {
		return loop.Failf(helm.ReconciliationFailedReason, "drift detection of release %s: %v", refAt(cur), err)
	}
	byID := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		byID[ssa.RefOf(o).ID] = o
	}
	var drifted []*unstructured.Unstructured
	var lines []string
	for _, e := range entries {
		if e.Action != ssa.ActionCreated && e.Action != ssa.ActionConfigured {
			continue
		}
		o := byID[e.ID]
		if o == nil || strings.EqualFold(o.GetAnnotations()[helm.DriftDetectionAnnotation], "disabled") {
			continue
		}
		drifted = append(drifted, o)
		what := "changed"
		if e.Action == ssa.ActionCreated {
			what = "removed"
		}
		lines = append(lines, e.Subject+" "+what)
	}
	if len(drifted) == 0 {
		removeCondition(run.obj, helm.DriftedCondition)
		return nil
	}
	msg := fmt.Sprintf("Cluster state of release %s has drifted from the desired state:\n%s", refAt(cur), strings.Join(lines, "\n"))
	if dd.Mode == driftWarn {
		run.r.Events.Event(run.obj, corev1.EventTypeWarning, driftDetectedReason, msg)
		return nil
	}
	if _, err := run.target.Manager.ApplyAllStaged(ctx, drifted, ssa.ApplyOptions{Force: true, WaitTimeout: timeout(run.obj, nil)}); err != nil {
		msg = fmt.Sprintf("Failed to correct the drift of release %s: %v", refAt(cur), err)
		run.r.Events.Event(run.obj, corev1.EventTypeWarning, driftDetectedReason, msg)
		return loop.Failf(helm.ReconciliationFailedReason, "%s", msg)
	}
	run.r.Events.Event(run.obj, corev1.EventTypeNormal, driftCorrectedReason,
		fmt.Sprintf("Cluster state of release %s has been corrected:\n%s", refAt(cur), strings.Join(lines, "\n")))
	return nil
}

// ignoreRules are spec.driftDetection.ignore: JSON pointers left out of
// the comparison in the objects each rule's target selects.
func ignoreRules(dd *helmv2.DriftDetection) []ignore.Rule {
	rules := make([]ignore.Rule, len(dd.Ignore))
	for i, r := range dd.Ignore {
		rules[i] = ignore.Rule{Paths: r.Paths, Target: r.Target}
	}
	return rules
}

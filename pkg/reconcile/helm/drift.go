package helm

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	release "helm.sh/helm/v4/pkg/release/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
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
	objs = withoutIgnored(objs, dd.Ignore)
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

// withoutIgnored removes the JSON pointer paths of the ignore rules from
// the objects they target (all objects when a rule has no target).
func withoutIgnored(objs []*unstructured.Unstructured, rules []helmv2.IgnoreRule) []*unstructured.Unstructured {
	if len(rules) == 0 {
		return objs
	}
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		o = o.DeepCopy()
		for _, rule := range rules {
			if rule.Target != nil && !selects(rule.Target, o) {
				continue
			}
			for _, p := range rule.Paths {
				removePointer(o.Object, p)
			}
		}
		out[i] = o
	}
	return out
}

// selects reports whether a kustomize-style selector matches o.
func selects(s *common.Selector, o *unstructured.Unstructured) bool {
	gvk := o.GroupVersionKind()
	switch {
	case s.Group != "" && s.Group != gvk.Group,
		s.Version != "" && s.Version != gvk.Version,
		s.Kind != "" && s.Kind != gvk.Kind,
		s.Namespace != "" && s.Namespace != o.GetNamespace(),
		s.Name != "" && s.Name != o.GetName():
		return false
	}
	for _, sel := range []struct {
		expr string
		set  map[string]string
	}{{s.LabelSelector, o.GetLabels()}, {s.AnnotationSelector, o.GetAnnotations()}} {
		if sel.expr == "" {
			continue
		}
		parsed, err := labels.Parse(sel.expr)
		if err != nil || !parsed.Matches(labels.Set(sel.set)) {
			return false
		}
	}
	return true
}

// removePointer deletes the value at an RFC 6901 JSON pointer, if any.
func removePointer(obj map[string]any, pointer string) {
	if pointer == "" || pointer[0] != '/' {
		return
	}
	parts := strings.Split(pointer[1:], "/")
	for i := range parts {
		parts[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(parts[i])
	}
	var cur any = obj
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				delete(c, p)
				return
			}
			cur = c[p]
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n >= len(c) {
				return
			}
			if last {
				// Removing a list element would shift the ones after it
				// and change what they mean; paths into elements work.
				return
			}
			cur = c[n]
		default:
			return
		}
	}
}

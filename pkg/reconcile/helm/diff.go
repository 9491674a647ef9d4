package helm

import (
	"context"
	"fmt"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/inspect"
)

// Diff reports what an upgrade (or the first install) of obj would change
// in its target cluster now: the chart rendered with the current values
// and post-renderers, each object dry-run applied and compared with the
// live one. Hooks are left out. Nothing is written, Secrets are masked.
func (r *Reconciler) Diff(ctx context.Context, obj *helmv2.HelmRelease) (*inspect.DiffReport, error) {
	ch, src, err := r.chartForDiff(ctx, obj)
	if err != nil {
		return nil, err
	}
	values, err := r.values(ctx, obj)
	if err != nil {
		return nil, err
	}
	run, err := r.newRun(ctx, obj, ch, values)
	if err != nil {
		return nil, err
	}
	manifest, err := run.render(ctx)
	if err != nil {
		return nil, err
	}
	objs, err := r.Clusters.Objects(run.target.Key, run.target.Config, manifest, releaseNamespace(obj))
	if err != nil {
		return nil, err
	}
	entries, err := run.target.Manager.Diff(ctx, objs)
	if err != nil {
		return nil, err
	}
	report := &inspect.DiffReport{
		Kind: inspect.DiffReportKind, APIVersion: inspect.APIVersion,
		Object:   inspect.ObjectRef{APIVersion: helmv2.SchemeGroupVersion.String(), Kind: "HelmRelease", Namespace: obj.Namespace, Name: obj.Name},
		Revision: fmt.Sprintf("%s@%s", ch.Metadata.Version, src.artifact.Digest),
		Objects:  []inspect.ObjectDiff{},
	}
	built := map[string]bool{}
	for _, e := range entries {
		report.Objects = append(report.Objects, inspect.ObjectDiff{Object: refOf(e.ID, e.Version), Action: string(e.Action), Diff: e.Diff})
		built[e.ID] = true
	}
	// Objects of the deployed release that the new one drops are deleted
	// by the upgrade.
	if inv := obj.Status.Inventory; inv != nil {
		for _, e := range inv.Entries {
			if !built[e.ID] {
				report.Objects = append(report.Objects, inspect.ObjectDiff{Object: refOf(e.ID, e.Version), Action: inspect.ActionPruned})
			}
		}
	}
	return report, nil
}

// chartForDiff is the chart the worker would release; /diff never creates
// or changes the HelmChart of spec.chart, it reads the one that exists.
func (r *Reconciler) chartForDiff(ctx context.Context, obj *helmv2.HelmRelease) (*chart.Chart, chartSource, error) {
	if obj.Spec.ChartRef == nil && obj.Spec.Chart != nil {
		diffObj := obj.DeepCopy()
		ns, name := chartName(obj)
		diffObj.Spec.Chart = nil
		diffObj.Spec.ChartRef = &common.NamespacedObjectKindReference{Kind: "HelmChart", Namespace: ns, Name: name}
		diffObj.Status.HelmChart = ""
		return r.loadChart(ctx, diffObj)
	}
	return r.loadChart(ctx, obj)
}

// render renders the upgrade (or install) as the worker would run it, as a
// client-side dry run.
func (run *releaseRun) render(ctx context.Context) (string, error) {
	cur, err := run.last()
	if err != nil {
		return "", err
	}
	pr, strategy := postRenderer(run.obj)
	if cur == nil {
		a := action.NewInstall(run.cfg)
		a.ReleaseName, a.Namespace = run.name, releaseNamespace(run.obj)
		a.DryRunStrategy = action.DryRunClient
		a.WaitStrategy = kube.HookOnlyStrategy
		a.PostRenderer, a.PostRenderStrategy = pr, strategy
		a.SkipCRDs = true
		res, err := a.RunWithContext(ctx, run.chart, run.values)
		if err != nil {
			return "", err
		}
		rel, _ := toRelease(res)
		return rel.Manifest, nil
	}
	a := action.NewUpgrade(run.cfg)
	a.Namespace = releaseNamespace(run.obj)
	a.DryRunStrategy = action.DryRunClient
	a.WaitStrategy = kube.HookOnlyStrategy
	a.PostRenderer, a.PostRenderStrategy = pr, strategy
	a.ResetValues = true
	a.SkipCRDs = true
	res, err := a.RunWithContext(ctx, run.name, run.chart, run.values)
	if err != nil {
		return "", err
	}
	rel, _ := toRelease(res)
	return rel.Manifest, nil
}

// refOf turns an inventory entry into an ObjectRef.
func refOf(id, version string) inspect.ObjectRef {
	ref, err := inspect.ParseInventoryID(id, version)
	if err != nil {
		return inspect.ObjectRef{Name: id, APIVersion: version}
	}
	return ref
}

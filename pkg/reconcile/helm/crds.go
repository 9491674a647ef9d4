package helm

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// applyCRDs applies the chart's crds/ (its dependencies' too) as the
// policy says, where Helm would not: Create on an upgrade creates the
// missing ones (Helm never touches CRDs on upgrade), CreateReplace creates
// or updates them all. On install, Create is Helm's own behaviour.
func (run *releaseRun) applyCRDs(ctx context.Context, policy helmv2.CRDsPolicy, install bool) error {
	if policy == crdsSkip || (policy == crdsCreate && install) {
		return nil
	}
	var objs []*unstructured.Unstructured
	for _, crd := range run.chart.CRDObjects() {
		parsed, err := run.r.Clusters.Objects(run.target.Key, run.target.Config, string(crd.File.Data), "")
		if err != nil {
			return fmt.Errorf("CRD file %s: %w", crd.Filename, err)
		}
		objs = append(objs, parsed...)
	}
	if len(objs) == 0 {
		return nil
	}
	if policy == crdsCreate {
		for _, o := range objs {
			a := o.GetAnnotations()
			if a == nil {
				a = map[string]string{}
			}
			a[helm.GroupName+"/ssa"] = "IfNotPresent"
			o.SetAnnotations(a)
		}
	}
	_, err := run.target.Manager.ApplyAllStaged(ctx, objs, ssa.ApplyOptions{Force: true, WaitTimeout: timeout(run.obj, nil)})
	run.r.Clusters.Invalidate(run.target.Key)
	if err != nil {
		return fmt.Errorf("applying the chart's CRDs (%s): %w", policy, err)
	}
	return nil
}

package helm

import (
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/postrenderer"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helmrelease"
)

// postRenderer is spec.postRenderers followed by spec.commonMetadata, and
// spec.postRenderStrategy (Helm 4's default, combined, when empty).
func postRenderer(obj *helmv2.HelmRelease) (postrenderer.PostRenderer, action.PostRenderStrategy) {
	var steps []helmrelease.Kustomize
	for _, p := range obj.Spec.PostRenderers {
		if p.Kustomize != nil {
			steps = append(steps, helmrelease.Kustomize{Patches: p.Kustomize.Patches, Images: p.Kustomize.Images})
		}
	}
	if cm := obj.Spec.CommonMetadata; cm != nil {
		steps = append(steps, helmrelease.Kustomize{CommonLabels: cm.Labels, CommonAnnotations: cm.Annotations})
	}
	strategy := action.PostRenderStrategyCombined
	switch obj.Spec.PostRenderStrategy {
	case helm.PostRenderNoHooks:
		strategy = action.PostRenderStrategyNoHooks
	case helm.PostRenderSeparate:
		strategy = action.PostRenderStrategySeparate
	}
	return helmrelease.PostRenderer(steps), strategy
}

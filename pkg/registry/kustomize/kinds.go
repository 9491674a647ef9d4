// Package kustomize declares the kustomize.toolkit.fluxcd.io kinds to the registry.
package kustomize

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/validation"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/registry"
)

// Kinds returns the kustomize kinds.
func Kinds() []*registry.Kind {
	return []*registry.Kind{{
		Resource: "kustomizations", Singular: "kustomization", ShortNames: []string{"ks"},
		GroupKind: kustomize.Kind("Kustomization"), Categories: []string{"fluxcd", "fluxcd-appliers"}, Reconcilable: true, Applier: true,
		Finalizer: kustomize.Finalizer,
		Versions:  []string{"v1", "v1beta2"},
		SourceRef: func(obj runtime.Object) (string, string, string, bool) {
			ref := obj.(*kustomize.Kustomization).Spec.SourceRef
			return ref.Kind, ref.Namespace, ref.Name, ref.Name != ""
		},
		New:            func() runtime.Object { return &kustomize.Kustomization{} },
		NewList:        func() runtime.Object { return &kustomize.KustomizationList{} },
		Validate:       registry.Validate(validation.ValidateKustomization),
		ValidateUpdate: registry.ValidateUpdate(validation.ValidateKustomizationUpdate),
		Columns: append([]registry.Column{
			registry.StringColumn("Source", "The source the manifests come from.", 1,
				registry.Text(func(o *kustomize.Kustomization) string {
					return o.Spec.SourceRef.Kind + "/" + o.Spec.SourceRef.Name
				})),
			registry.StringColumn("Revision", "Source revision last applied.", 0,
				registry.Text(func(o *kustomize.Kustomization) string { return o.Status.LastAppliedRevision })),
		}, registry.StatusColumns()...),
	}}
}

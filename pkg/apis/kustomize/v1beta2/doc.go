// Package v1beta2 is version v1beta2 of kustomize.toolkit.fluxcd.io, served
// for the Kustomization manifests written for older Flux releases
// (kustomize-controller 0.x). It is deprecated; new manifests should use v1.
//
// Objects are stored as v1. Conversion goes through the internal hub version
// of package kustomize; conversion.go says how the deprecated patch fields map
// onto spec.patches and what v1beta2 cannot carry.
//
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.fluxcd.toolkit.kustomize.v1beta2
// +groupName=kustomize.toolkit.fluxcd.io
package v1beta2

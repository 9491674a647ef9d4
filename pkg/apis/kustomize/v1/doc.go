// Package v1 is version v1 of the kustomize.toolkit.fluxcd.io API group,
// served with the same JSON as Flux's kustomize-controller.
//
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.fluxcd.toolkit.kustomize.v1
// +groupName=kustomize.toolkit.fluxcd.io
package v1

// Package v2 is version v2 of the helm.toolkit.fluxcd.io API group, served
// with the same JSON as Flux's helm-controller.
//
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.fluxcd.toolkit.helm.v2
// +groupName=helm.toolkit.fluxcd.io
package v2

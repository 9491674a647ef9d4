// Package v1 holds the image.toolkit.fluxcd.io/v1 kinds, the storage version,
// with Flux's JSON.
//
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.fluxcd.toolkit.image.v1
// +groupName=image.toolkit.fluxcd.io
package v1

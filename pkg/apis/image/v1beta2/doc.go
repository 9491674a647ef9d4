// Package v1beta2 holds the deprecated image.toolkit.fluxcd.io/v1beta2 kinds,
// with Flux's JSON. They match v1 except that SigningKey has no type.
//
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.fluxcd.toolkit.image.v1beta2
// +groupName=image.toolkit.fluxcd.io
package v1beta2

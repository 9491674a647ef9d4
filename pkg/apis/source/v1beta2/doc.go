// Package v1beta2 is version v1beta2 of source.toolkit.fluxcd.io, served for
// the OCIRepository and Bucket manifests written for older Flux releases.
//
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.fluxcd.toolkit.source.v1beta2
// +groupName=source.toolkit.fluxcd.io
package v1beta2

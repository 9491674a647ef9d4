// Package v1 is version v1 of source.toolkit.fluxcd.io, the storage version,
// with the JSON of Flux source-controller v1.9.
//
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.fluxcd.toolkit.source.v1
// +groupName=source.toolkit.fluxcd.io
package v1

// Package v1beta1 is version v1beta1 of source.toolkit.fluxcd.io, served only
// for the GitRepository manifests written for older Flux releases (the
// source-controller 0.x line). It is deprecated; new manifests should use v1.
//
// Objects are stored as v1. Conversion goes through the internal hub version
// of package source; conversion.go lists what v1beta1 cannot carry.
//
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.fluxcd.toolkit.source.v1beta1
// +groupName=source.toolkit.fluxcd.io
package v1beta1

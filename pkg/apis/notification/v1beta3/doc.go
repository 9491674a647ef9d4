// Package v1beta3 holds Alert and Provider as served at
// notification.toolkit.fluxcd.io/v1beta3, with Flux's JSON.
//
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.fluxcd.toolkit.notification.v1beta3
// +groupName=notification.toolkit.fluxcd.io
package v1beta3

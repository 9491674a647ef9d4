// Package common holds the types that several Flux API groups share (object
// references, artifacts, reconcile-request bookkeeping), mirroring
// github.com/fluxcd/pkg/apis/meta on the wire. Internal and versioned types of
// every group use these same Go types, so conversions copy them as they are.
//
// +k8s:deepcopy-gen=package
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.gitopsapiserver.apis.common
package common

// Package kustomize holds the internal (hub) types of the
// kustomize.toolkit.fluxcd.io API group. They carry every field of every
// served version, so conversions through the hub lose nothing.
//
// +k8s:deepcopy-gen=package
// +groupName=kustomize.toolkit.fluxcd.io
package kustomize

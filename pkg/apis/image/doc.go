// Package image holds the internal (hub) types of the image.toolkit.fluxcd.io
// group: ImageRepository, ImagePolicy and ImageUpdateAutomation. They carry
// the fields and JSON tags of the storage version v1, which is a superset of
// v1beta2.
//
// +k8s:deepcopy-gen=package
// +groupName=image.toolkit.fluxcd.io
package image

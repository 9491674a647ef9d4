// Package helm holds the internal (hub) types of the helm.toolkit.fluxcd.io
// API group. They carry every field of every served version, so conversions
// through the hub lose nothing.
//
// +k8s:deepcopy-gen=package
// +groupName=helm.toolkit.fluxcd.io
package helm

// Package notification holds the internal (hub) types of the
// notification.toolkit.fluxcd.io group: Alert and Provider (served as
// v1beta3) and Receiver (served as v1). Field names and JSON tags match the
// served versions so that conversions are plain copies.
//
// +k8s:deepcopy-gen=package
// +groupName=notification.toolkit.fluxcd.io
package notification

// Package source holds the internal (hub) types of the
// source.toolkit.fluxcd.io group: GitRepository, OCIRepository,
// HelmRepository, HelmChart, Bucket and ExternalArtifact. Each internal type
// carries every field of every served version, so converting through the hub
// never drops data that some version can express.
//
// +k8s:deepcopy-gen=package
// +groupName=source.toolkit.fluxcd.io
package source

// Package helmrelease is what the HelmRelease worker needs around the Helm
// SDK (helm.sh/helm/v4), which does the releasing itself: action
// configurations for a target cluster with cached discovery (Getter),
// Flux's kustomize post-renderer (PostRenderer), values composed the way
// Flux composes them (MergeValues, SetValue), the objects of a release
// manifest (Objects), and digests for status. It knows no API types of
// ours.
//
// Releases are stored as Helm stores them (Secrets of type
// helm.sh/release.v1 in the storage namespace), so the helm CLI sees them.
package helmrelease

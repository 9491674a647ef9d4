// Package image scans container image repositories and selects the latest tag, with the
// semantics of Flux's image-reflector-controller (ImageRepository and ImagePolicy). It
// knows no API types of this server: workers translate their specs into ScanOptions,
// TagFilter and a Policy.
//
// Scanning. ListTags lists every tag of a repository with go-containerregistry, following
// the registry's pagination (Link headers), and drops the tags matching
// ScanOptions.ExclusionList. When the caller passes a nil list the default,
// DefaultExclusionList, applies: "^.*\.sig$", the tags cosign stores signatures under, as
// Flux defaults spec.exclusionList. An empty, non-nil list excludes nothing. ResolveDigest
// returns the manifest digest of one tag with a HEAD request (Flux's
// digestReflectionPolicy). CanonicalName is Flux's status.canonicalImageName:
// go-containerregistry's full repository name, "index.docker.io/library/nginx" for "nginx".
//
// Connections dial through netguard.DialContext, so the Guard of the context (or
// ScanOptions.Guard) applies to every connection, token servers and redirects included.
// Credentials come from a .dockerconfigjson through pkg/oci (CredentialsFromDockerConfig);
// TLS material through pkg/tlsconfig. Errors wrap ErrAuthentication, ErrNotFound or
// ErrInvalidOptions for classification and never contain credentials.
//
// Policies. A Policy picks the latest of a list of versions: SemVer (the highest version in
// a Masterminds range; tags that are not versions are ignored, a leading "v" is accepted),
// Alphabetical and Numerical (the last value once sorted in the given order: for "asc",
// the default, the greatest; for "desc", the smallest; Numerical fails on a value that is
// not a number, as Flux does). SelectLatest applies an optional TagFilter first: only tags
// matching Pattern are considered and, with Extract, the policy compares the expanded
// template ("$ts", "${1}") while the original tag is returned. Policies are pure
// functions.
//
// Storage. TagStore keeps each repository's tag list in one file under a directory,
// outside etcd, written atomically so it survives restarts; keys are "namespace/name".
package image

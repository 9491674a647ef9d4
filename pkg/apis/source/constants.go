package source

// Kind names of the group.
const (
	GitRepositoryKind    = "GitRepository"
	OCIRepositoryKind    = "OCIRepository"
	HelmRepositoryKind   = "HelmRepository"
	HelmChartKind        = "HelmChart"
	BucketKind           = "Bucket"
	ExternalArtifactKind = "ExternalArtifact"
)

// SourceFinalizer is the finalizer Flux puts on source objects so their
// artifacts are removed from storage before the object goes away.
const SourceFinalizer = "finalizers.fluxcd.io"

// Condition types reported by source objects, in addition to the shared
// Ready/Reconciling/Stalled types in pkg/apis/common.
const (
	// ArtifactInStorageCondition is True once the artifact has been written
	// to storage.
	ArtifactInStorageCondition = "ArtifactInStorage"
	// ArtifactOutdatedCondition is present (True) while the stored artifact
	// no longer matches the upstream source or the spec.
	ArtifactOutdatedCondition = "ArtifactOutdated"
	// SourceVerifiedCondition reports the result of signature verification;
	// only present when verification is configured.
	SourceVerifiedCondition = "SourceVerified"
	// FetchFailedCondition is present (True) while the upstream source
	// cannot be fetched.
	FetchFailedCondition = "FetchFailed"
	// BuildFailedCondition is present (True) while the artifact cannot be
	// built from the fetched content.
	BuildFailedCondition = "BuildFailed"
	// StorageOperationFailedCondition is present (True) while a filesystem
	// operation on the artifact store fails.
	StorageOperationFailedCondition = "StorageOperationFailed"
	// IncludeUnavailableCondition is present (True) on a GitRepository while
	// one of its includes is missing or has no artifact.
	IncludeUnavailableCondition = "IncludeUnavailable"
)

// Condition reasons used by the source kinds.
const (
	URLInvalidReason             = "URLInvalid"
	AuthenticationFailedReason   = "AuthenticationFailed"
	VerificationError            = "VerificationError"
	DirCreationFailedReason      = "DirectoryCreationFailed"
	StatOperationFailedReason    = "StatOperationFailed"
	ReadOperationFailedReason    = "ReadOperationFailed"
	AcquireLockFailedReason      = "AcquireLockFailed"
	InvalidPathReason            = "InvalidPath"
	ArchiveOperationFailedReason = "ArchiveOperationFailed"
	SymlinkUpdateFailedReason    = "SymlinkUpdateFailed"
	ArtifactUpToDateReason       = "ArtifactUpToDate"
	CacheOperationFailedReason   = "CacheOperationFailed"

	// GitRepository.
	GitOperationSucceedReason = "GitOperationSucceeded"
	GitOperationFailedReason  = "GitOperationFailed"
	// SourceVerified=False: the commit's or tag's signature is missing or by
	// an untrusted key, or spec.verify.mode does not fit the reference.
	InvalidCommitSignatureReason  = "InvalidCommitSignature"
	InvalidTagSignatureReason     = "InvalidTagSignature"
	InvalidVerificationModeReason = "InvalidVerificationMode"

	// OCIRepository.
	OCIPullFailedReason           = "OCIArtifactPullFailed"
	OCILayerOperationFailedReason = "OCIArtifactLayerOperationFailed"

	// HelmRepository.
	IndexationFailedReason = "IndexationFailed"

	// HelmChart.
	ChartPullSucceededReason    = "ChartPullSucceeded"
	ChartPackageSucceededReason = "ChartPackageSucceeded"

	// Bucket.
	BucketOperationSucceededReason = "BucketOperationSucceeded"
	BucketOperationFailedReason    = "BucketOperationFailed"
)

// Authentication providers. Which of them a kind accepts is listed next to
// its spec (see validation).
const (
	GenericProvider = "generic"
	AWSProvider     = "aws"
	AzureProvider   = "azure"
	GCPProvider     = "gcp"
	GitHubProvider  = "github"
)

// Signature verification providers for OCI artifacts and Helm OCI charts.
const (
	CosignVerificationProvider   = "cosign"
	NotationVerificationProvider = "notation"
)

// OCIRepository layer operations.
const (
	OCILayerExtract = "extract"
	OCILayerCopy    = "copy"
)

// OCIRepositoryPrefix is the scheme every OCIRepository URL starts with.
const OCIRepositoryPrefix = "oci://"

// HelmRepository types.
const (
	HelmRepositoryTypeDefault = "default"
	HelmRepositoryTypeOCI     = "oci"
)

// HelmChart reconcile strategies: what makes a new chart artifact.
const (
	ReconcileStrategyChartVersion = "ChartVersion"
	ReconcileStrategyRevision     = "Revision"
)

// Bucket STS providers.
const (
	STSProviderAmazon = "aws"
	STSProviderLDAP   = "ldap"
)

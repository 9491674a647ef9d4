package image

// Finalizer is the finalizer image objects carry while their controller
// cleans up.
const Finalizer = "finalizers.fluxcd.io"

// Condition reasons of ImageRepository and ImagePolicy (the shared ones,
// e.g. DependencyNotReady, live in package common).
const (
	// ImageURLInvalidReason: spec.image is not a valid image repository.
	ImageURLInvalidReason = "ImageURLInvalid"
	// AuthenticationFailedReason: registry credentials are missing or wrong.
	AuthenticationFailedReason = "AuthenticationFailed"
	// ReadOperationFailedReason: reading from the registry or database failed.
	ReadOperationFailedReason = "ReadOperationFailed"
	// IntervalNotConfiguredReason: digest reflection "Always" without interval.
	IntervalNotConfiguredReason = "IntervalNotConfigured"
)

// Condition reasons of ImageUpdateAutomation.
const (
	// InvalidUpdateStrategyReason: spec.update cannot be used.
	InvalidUpdateStrategyReason = "InvalidUpdateStrategy"
	// InvalidSourceConfigReason: the source or git settings cannot be used.
	InvalidSourceConfigReason = "InvalidSourceConfiguration"
	// SourceManagerFailedReason: preparing the source checkout failed.
	SourceManagerFailedReason = "SourceManagerFailed"
	// GitOperationFailedReason: a clone, commit or push failed.
	GitOperationFailedReason = "GitOperationFailed"
	// UpdateFailedReason: rewriting the manifests failed.
	UpdateFailedReason = "UpdateFailed"
	// InvalidPolicySelectorReason: spec.policySelector is not a valid selector.
	InvalidPolicySelectorReason = "InvalidPolicySelector"
	// RemovedTemplateFieldReason: the commit template uses a removed field.
	RemovedTemplateFieldReason = "RemovedTemplateField"
)

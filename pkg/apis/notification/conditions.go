package notification

// Finalizer is the finalizer notification objects carry while their
// controller cleans up.
const Finalizer = "finalizers.fluxcd.io"

// Condition reasons specific to notification kinds (the shared ones live in
// package common).
const (
	// InitializedReason: the object was accepted and initialised.
	InitializedReason = "Initialized"
	// ValidationFailedReason: part of the spec failed validation.
	ValidationFailedReason = "ValidationFailed"
	// TokenNotFoundReason: the Receiver's token Secret or key is missing.
	TokenNotFoundReason = "TokenNotFound"
	// MigrationReason: the object is being migrated to a static object.
	MigrationReason = "Migration"
	// InvalidConfigReason: a setting could not be used, e.g. a bad regex.
	InvalidConfigReason = "InvalidConfig"
	// NotificationDispatchFailedReason: sending to a Provider failed.
	NotificationDispatchFailedReason = "NotificationDispatchFailed"
	// SourceFetchFailedReason: an event's involved object could not be
	// fetched to match an Alert's matchLabels.
	SourceFetchFailedReason = "SourceFetchFailed"
	// MetadataAppendFailedReason: event metadata from several sources had
	// conflicting keys.
	MetadataAppendFailedReason = "MetadataAppendFailed"
)

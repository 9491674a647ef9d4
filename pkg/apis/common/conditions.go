package common

// Condition types shared by every kind, as in Flux.
const (
	// ReadyCondition says whether the last reconciliation succeeded.
	ReadyCondition = "Ready"
	// ReconcilingCondition says that a reconciliation is in progress.
	ReconcilingCondition = "Reconciling"
	// StalledCondition says that reconciliation cannot proceed without a
	// change to the object.
	StalledCondition = "Stalled"
	// HealthyCondition reports the health of applied objects.
	HealthyCondition = "Healthy"
)

// Condition reasons shared by every kind, as in Flux.
const (
	SucceededReason               = "Succeeded"
	FailedReason                  = "Failed"
	ProgressingReason             = "Progressing"
	ProgressingWithRetryReason    = "ProgressingWithRetry"
	DependencyNotReadyReason      = "DependencyNotReady"
	ReconciliationSucceededReason = "ReconciliationSucceeded"
	ReconciliationFailedReason    = "ReconciliationFailed"
	InvalidPathReason             = "InvalidPath"
	InvalidURLReason              = "InvalidURL"
	SuspendedReason               = "Suspended"
	// AccessDeniedReason: a reference crosses namespaces while
	// cross-namespace references are disabled.
	AccessDeniedReason = "AccessDenied"
	// InvalidCELExpressionReason: a CEL expression in the spec
	// (healthCheckExprs, dependsOn[].readyExpr) does not compile.
	InvalidCELExpressionReason = "InvalidCELExpression"
)

// Annotations understood on every reconcilable kind.
const (
	// ReconcileRequestAnnotation asks for an immediate reconciliation when
	// its value changes (the Flux CLI sets it to the current time).
	ReconcileRequestAnnotation = "reconcile.fluxcd.io/requestedAt"
)

package kustomize

// KustomizationKind is the kind of the Kustomization type.
const KustomizationKind = "Kustomization"

// Finalizer is Flux's finalizer on Kustomizations: it lets the worker prune
// the applied objects before the Kustomization goes away.
const Finalizer = "finalizers.fluxcd.io"

// Condition reasons specific to Kustomizations, as Flux's kustomize-controller
// sets them. The Ready, Reconciling, Stalled and Healthy condition types and
// the shared reasons are in package common.
const (
	// PruneFailedReason: deleting objects removed from the source failed.
	PruneFailedReason = "PruneFailed"
	// ArtifactFailedReason: fetching the source artifact failed.
	ArtifactFailedReason = "ArtifactFailed"
	// BuildFailedReason: the kustomize build failed.
	BuildFailedReason = "BuildFailed"
	// HealthCheckFailedReason: an object failed its health check.
	HealthCheckFailedReason = "HealthCheckFailed"
	// DependencyNotReadyReason: a Kustomization in spec.dependsOn is not ready.
	DependencyNotReadyReason = "DependencyNotReady"
	// ReconciliationSucceededReason: the last reconciliation succeeded.
	ReconciliationSucceededReason = "ReconciliationSucceeded"
	// ReconciliationFailedReason: the last reconciliation failed.
	ReconciliationFailedReason = "ReconciliationFailed"
)

// Values of spec.deletionPolicy.
const (
	// DeletionPolicyMirrorPrune deletes applied objects on deletion only when
	// spec.prune is true; it is the behaviour when the field is empty.
	DeletionPolicyMirrorPrune = "MirrorPrune"
	// DeletionPolicyDelete deletes applied objects on deletion.
	DeletionPolicyDelete = "Delete"
	// DeletionPolicyWaitForTermination deletes applied objects and waits for
	// them to be gone.
	DeletionPolicyWaitForTermination = "WaitForTermination"
	// DeletionPolicyOrphan leaves applied objects in place on deletion.
	DeletionPolicyOrphan = "Orphan"
)

// Values of spec.postBuild.substituteStrategy.
const (
	// SubstituteWithVariables substitutes only when a variable is defined.
	SubstituteWithVariables = "WithVariables"
	// SubstituteAlways substitutes even when no variable is defined.
	SubstituteAlways = "Always"
)

// Values of spec.buildMetadata.
const (
	// BuildMetadataOriginAnnotations annotates objects with their origin.
	BuildMetadataOriginAnnotations = "originAnnotations"
	// BuildMetadataTransformerAnnotations annotates objects with the
	// transformers that changed them.
	BuildMetadataTransformerAnnotations = "transformerAnnotations"
)

// Source kinds spec.sourceRef may name.
const (
	GitRepositoryKind    = "GitRepository"
	OCIRepositoryKind    = "OCIRepository"
	BucketKind           = "Bucket"
	ExternalArtifactKind = "ExternalArtifact"
)

// Annotations and labels the kustomize-controller reads on applied objects.
const (
	// ReconcileAnnotation set to "disabled" on an applied object stops the
	// controller from updating it.
	ReconcileAnnotation = "kustomize.toolkit.fluxcd.io/reconcile"
	// PruneAnnotation set to "disabled" keeps an object from being pruned.
	PruneAnnotation = "kustomize.toolkit.fluxcd.io/prune"
	// SubstituteAnnotation set to "disabled" skips variable substitution.
	SubstituteAnnotation = "kustomize.toolkit.fluxcd.io/substitute"
	// SSAAnnotation selects the server-side apply policy of an object
	// (Override, Merge, IfNotPresent, Ignore).
	SSAAnnotation = "kustomize.toolkit.fluxcd.io/ssa"
	// ForceAnnotation set to "enabled" recreates the object on immutable
	// field changes.
	ForceAnnotation = "kustomize.toolkit.fluxcd.io/force"
	// EnabledValue and DisabledValue are the values of the annotations above.
	EnabledValue  = "enabled"
	DisabledValue = "disabled"
)

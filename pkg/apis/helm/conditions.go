package helm

// HelmReleaseKind is the kind of the HelmRelease type.
const HelmReleaseKind = "HelmRelease"

// Condition types specific to HelmReleases, as Flux's helm-controller sets
// them. Ready, Reconciling and Stalled are in package common.
const (
	// ReleasedCondition reports the last install or upgrade of the desired state.
	ReleasedCondition = "Released"
	// TestSuccessCondition reports the last test run of the desired state.
	TestSuccessCondition = "TestSuccess"
	// RemediatedCondition reports the last rollback or uninstall done to
	// remediate a failed release.
	RemediatedCondition = "Remediated"
	// DriftedCondition reports drift between the release and the cluster.
	DriftedCondition = "Drifted"
)

// Condition reasons specific to HelmReleases.
const (
	InstallSucceededReason        = "InstallSucceeded"
	InstallFailedReason           = "InstallFailed"
	UpgradeSucceededReason        = "UpgradeSucceeded"
	UpgradeFailedReason           = "UpgradeFailed"
	TestSucceededReason           = "TestSucceeded"
	TestFailedReason              = "TestFailed"
	RollbackSucceededReason       = "RollbackSucceeded"
	RollbackFailedReason          = "RollbackFailed"
	UninstallSucceededReason      = "UninstallSucceeded"
	UninstallFailedReason         = "UninstallFailed"
	ArtifactFailedReason          = "ArtifactFailed"
	InitFailedReason              = "InitFailed"
	GetLastReleaseFailedReason    = "GetLastReleaseFailed"
	DependencyNotReadyReason      = "DependencyNotReady"
	ReconciliationSucceededReason = "ReconciliationSucceeded"
	ReconciliationFailedReason    = "ReconciliationFailed"
)

// Values of spec.driftDetection.mode.
const (
	DriftDetectionEnabled  DriftDetectionMode = "enabled"
	DriftDetectionWarn     DriftDetectionMode = "warn"
	DriftDetectionDisabled DriftDetectionMode = "disabled"
)

// Values of spec.install.crds and spec.upgrade.crds.
const (
	CRDsSkip          CRDsPolicy = "Skip"
	CRDsCreate        CRDsPolicy = "Create"
	CRDsCreateReplace CRDsPolicy = "CreateReplace"
)

// Values of spec.upgrade.remediation.strategy.
const (
	RollbackRemediationStrategy  RemediationStrategy = "rollback"
	UninstallRemediationStrategy RemediationStrategy = "uninstall"
)

// Values of status.lastAttemptedReleaseAction.
const (
	ReleaseActionInstall ReleaseAction = "install"
	ReleaseActionUpgrade ReleaseAction = "upgrade"
)

// Values of spec.install.strategy.name and spec.upgrade.strategy.name.
const (
	RemediateOnFailureStrategy = "RemediateOnFailure"
	RetryOnFailureStrategy     = "RetryOnFailure"
)

// Values of spec.upgrade.serverSideApply and spec.rollback.serverSideApply.
const (
	ServerSideApplyEnabled  = "enabled"
	ServerSideApplyDisabled = "disabled"
	ServerSideApplyAuto     = "auto"
)

// Values of spec.upgrade.chartNameChangeStrategy.
const (
	ChartNameChangeReinstall     = "Reinstall"
	ChartNameChangeInPlaceUpdate = "InPlaceUpdate"
)

// Values of spec.postRenderStrategy.
const (
	PostRenderNoHooks  = "nohooks"
	PostRenderCombined = "combined"
	PostRenderSeparate = "separate"
)

// Values of spec.waitStrategy.name.
const (
	WaitStrategyPoller = "poller"
	WaitStrategyLegacy = "legacy"
)

// Values of spec.uninstall.deletionPropagation.
const (
	DeletionPropagationBackground = "background"
	DeletionPropagationForeground = "foreground"
	DeletionPropagationOrphan     = "orphan"
)

// Values of spec.chart.spec.reconcileStrategy.
const (
	ReconcileStrategyChartVersion = "ChartVersion"
	ReconcileStrategyRevision     = "Revision"
)

// Values of spec.chart.spec.verify.provider.
const (
	VerifyProviderCosign   = "cosign"
	VerifyProviderNotation = "notation"
)

// Source kinds spec.chart.spec.sourceRef and spec.chartRef may name.
const (
	HelmRepositoryKind   = "HelmRepository"
	GitRepositoryKind    = "GitRepository"
	BucketKind           = "Bucket"
	OCIRepositoryKind    = "OCIRepository"
	HelmChartKind        = "HelmChart"
	ExternalArtifactKind = "ExternalArtifact"
)

// Annotations understood on HelmReleases, besides
// common.ReconcileRequestAnnotation.
const (
	// ForceRequestAnnotation, set together with the reconcile request
	// annotation to the same value, forces a one-off upgrade.
	ForceRequestAnnotation = "reconcile.fluxcd.io/forceAt"
	// ResetRequestAnnotation, set together with the reconcile request
	// annotation to the same value, resets the failure counters.
	ResetRequestAnnotation = "reconcile.fluxcd.io/resetAt"
	// DriftDetectionAnnotation set to "disabled" on a release object
	// excludes it from drift detection.
	DriftDetectionAnnotation = "helm.toolkit.fluxcd.io/driftDetection"
)

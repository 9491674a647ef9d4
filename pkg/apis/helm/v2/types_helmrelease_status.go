package v2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// ReleaseAction is a Helm action that creates a release: install or upgrade.
type ReleaseAction string

// HelmReleaseStatus is the observed state of a HelmRelease.
type HelmReleaseStatus struct {
	// ObservedGeneration is the last observed generation.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ObservedPostRenderersDigest is the digest of the post-renderers of the
	// last successful reconciliation.
	// +optional
	ObservedPostRenderersDigest string `json:"observedPostRenderersDigest,omitempty"`

	// ObservedCommonMetadataDigest is the digest of the common metadata of
	// the last successful reconciliation.
	// +optional
	ObservedCommonMetadataDigest string `json:"observedCommonMetadataDigest,omitempty"`

	// LastAttemptedGeneration is the last generation the controller tried to
	// reconcile.
	// +optional
	LastAttemptedGeneration int64 `json:"lastAttemptedGeneration,omitempty"`

	// Conditions are the latest observations of the release's state.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// HelmChart is the "namespace/name" of the HelmChart created for
	// spec.chart.
	// +optional
	HelmChart string `json:"helmChart,omitempty"`

	// StorageNamespace is where the records of the current release are kept.
	// +optional
	StorageNamespace string `json:"storageNamespace,omitempty"`

	// History holds the releases made for this HelmRelease, newest first, up
	// to the last successful one.
	// +optional
	History []Snapshot `json:"history,omitempty"`

	// LastAttemptedReleaseAction is the last release action attempted
	// (install or upgrade); it selects the active remediation.
	// +optional
	LastAttemptedReleaseAction ReleaseAction `json:"lastAttemptedReleaseAction,omitempty"`

	// LastAttemptedReleaseActionDuration is how long that action took.
	// +optional
	LastAttemptedReleaseActionDuration *metav1.Duration `json:"lastAttemptedReleaseActionDuration,omitempty"`

	// Failures counts failed reconciliations of the current desired state.
	// +optional
	Failures int64 `json:"failures,omitempty"`

	// InstallFailures counts failed installs of the current desired state.
	// +optional
	InstallFailures int64 `json:"installFailures,omitempty"`

	// UpgradeFailures counts failed upgrades of the current desired state.
	// +optional
	UpgradeFailures int64 `json:"upgradeFailures,omitempty"`

	// LastAttemptedRevision is the chart version of the last attempt; for
	// OCIRepository sources the first 12 characters of the digest are
	// appended, e.g. "1.2.3+1234567890ab".
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// LastAttemptedRevisionDigest is the chart artifact digest of the last
	// attempt; OCIRepository sources only.
	// +optional
	LastAttemptedRevisionDigest string `json:"lastAttemptedRevisionDigest,omitempty"`

	// LastAttemptedValuesChecksum is the SHA1 of the values of the last
	// attempt. Deprecated: use lastAttemptedConfigDigest.
	// +optional
	LastAttemptedValuesChecksum string `json:"lastAttemptedValuesChecksum,omitempty"`

	// LastReleaseRevision is the revision of the last successful release.
	// Deprecated: use history.
	// +optional
	LastReleaseRevision int `json:"lastReleaseRevision,omitempty"`

	// LastAttemptedConfigDigest is the digest of the values of the last
	// attempt.
	// +optional
	LastAttemptedConfigDigest string `json:"lastAttemptedConfigDigest,omitempty"`

	// LastHandledForceAt is the last handled value of the
	// reconcile.fluxcd.io/forceAt annotation.
	// +optional
	LastHandledForceAt string `json:"lastHandledForceAt,omitempty"`

	// LastHandledResetAt is the last handled value of the
	// reconcile.fluxcd.io/resetAt annotation.
	// +optional
	LastHandledResetAt string `json:"lastHandledResetAt,omitempty"`

	// Inventory lists the objects of the current release.
	// +optional
	Inventory *ResourceInventory `json:"inventory,omitempty"`

	common.ReconcileRequestStatus `json:",inline"`
}

// Snapshot is a copy of the state of one Helm release revision as the
// controller last saw it in Helm's storage.
type Snapshot struct {
	// APIVersion tells how Digest was computed.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
	// Digest of the release object, "<algorithm>:<checksum>".
	Digest string `json:"digest"`
	// Name of the release.
	Name string `json:"name"`
	// Namespace the release is installed in.
	Namespace string `json:"namespace"`
	// Version (revision) of the release.
	Version int `json:"version"`
	// Status of the release, e.g. deployed, failed, superseded.
	Status string `json:"status"`
	// ChartName of the release.
	ChartName string `json:"chartName"`
	// ChartVersion of the release.
	ChartVersion string `json:"chartVersion"`
	// AppVersion of the chart.
	// +optional
	AppVersion string `json:"appVersion,omitempty"`
	// ConfigDigest is the digest of the release values, "<algorithm>:<checksum>".
	ConfigDigest string `json:"configDigest"`
	// FirstDeployed is when the release was first deployed.
	FirstDeployed metav1.Time `json:"firstDeployed"`
	// LastDeployed is when the release was last deployed.
	LastDeployed metav1.Time `json:"lastDeployed"`
	// Deleted is when the release was deleted.
	// +optional
	Deleted metav1.Time `json:"deleted,omitempty"`
	// TestHooks are the release's test hooks as the controller saw them run;
	// an empty map means tests ran but the chart has none.
	// +optional
	TestHooks *map[string]*TestHookStatus `json:"testHooks,omitempty"`
	// OCIDigest is the digest of the OCI artifact of the chart.
	// +optional
	OCIDigest string `json:"ociDigest,omitempty"`
	// Action is the Helm action that produced this snapshot.
	// +optional
	Action string `json:"action,omitempty"`
}

// TestHookStatus is the observed run of one test hook.
type TestHookStatus struct {
	// LastStarted is when the test last started.
	// +optional
	LastStarted metav1.Time `json:"lastStarted,omitempty"`
	// LastCompleted is when the test last completed.
	// +optional
	LastCompleted metav1.Time `json:"lastCompleted,omitempty"`
	// Phase of the test, e.g. Succeeded or Failed.
	// +optional
	Phase string `json:"phase,omitempty"`
}

// ResourceInventory lists the objects of a release.
type ResourceInventory struct {
	// Entries are the objects.
	Entries []ResourceRef `json:"entries"`
}

// ResourceRef identifies one object.
type ResourceRef struct {
	// ID is "<namespace>_<name>_<group>_<kind>".
	ID string `json:"id"`
	// Version is the API version of the object's kind.
	Version string `json:"v"`
}

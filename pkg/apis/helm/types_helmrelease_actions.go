package helm

import (
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// CRDsPolicy is how a Helm action treats the CRDs in the chart's crds
// directory: Skip, Create or CreateReplace.
type CRDsPolicy string

// RemediationStrategy is how a failed upgrade is remediated: rollback or
// uninstall.
type RemediationStrategy string

// Install configures Helm install actions.
type Install struct {
	// Timeout for each Kubernetes operation of the install; spec.timeout
	// when unset.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`

	// Remediation configures what happens when the install fails; nothing
	// by default.
	// +optional
	Remediation *InstallRemediation `json:"remediation,omitempty"`

	// Strategy is RemediateOnFailure (the default) or RetryOnFailure.
	// +optional
	Strategy *InstallStrategy `json:"strategy,omitempty"`

	// DisableTakeOwnership stops the install from adopting existing objects.
	// +optional
	DisableTakeOwnership bool `json:"disableTakeOwnership,omitempty"`

	// DisableWait skips waiting for resources to be ready.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DisableWaitForJobs skips waiting for Jobs to complete.
	// +optional
	DisableWaitForJobs bool `json:"disableWaitForJobs,omitempty"`

	// DisableHooks skips the chart's hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// DisableOpenAPIValidation skips validating rendered manifests against
	// the cluster's OpenAPI schema.
	// +optional
	DisableOpenAPIValidation bool `json:"disableOpenAPIValidation,omitempty"`

	// DisableSchemaValidation skips validating values against the chart's
	// JSON schema.
	// +optional
	DisableSchemaValidation bool `json:"disableSchemaValidation,omitempty"`

	// Replace reuses the release name if it belongs to a deleted release
	// still in the history.
	// +optional
	Replace bool `json:"replace,omitempty"`

	// SkipCRDs skips installing CRDs. Deprecated: use crds: Skip.
	// +optional
	SkipCRDs bool `json:"skipCRDs,omitempty"`

	// CRDs is the CRD policy of the install; Create when empty.
	// +optional
	CRDs CRDsPolicy `json:"crds,omitempty"`

	// CreateNamespace creates the target namespace if missing; it is not
	// deleted on uninstall.
	// +optional
	CreateNamespace bool `json:"createNamespace,omitempty"`

	// ServerSideApply applies resources with server-side apply; true when
	// unset unless the controller runs with Helm 3 defaults.
	// +optional
	ServerSideApply *bool `json:"serverSideApply,omitempty"`
}

// InstallRemediation configures the remediation of failed installs.
type InstallRemediation struct {
	// Retries before giving up, with an uninstall between attempts; 0 by
	// default, negative for no limit.
	// +optional
	Retries int `json:"retries,omitempty"`

	// IgnoreTestFailures skips remediation when tests fail after an install;
	// spec.test.ignoreFailures when unset.
	// +optional
	IgnoreTestFailures *bool `json:"ignoreTestFailures,omitempty"`

	// RemediateLastFailure remediates the last failure once retries are
	// exhausted; false when unset.
	// +optional
	RemediateLastFailure *bool `json:"remediateLastFailure,omitempty"`
}

// InstallStrategy selects how failed installs are handled.
type InstallStrategy struct {
	// Name is RemediateOnFailure or RetryOnFailure.
	Name string `json:"name"`

	// RetryInterval between retries; only with RetryOnFailure, 5m when unset.
	// +optional
	RetryInterval *common.Duration `json:"retryInterval,omitempty"`
}

// Upgrade configures Helm upgrade actions.
type Upgrade struct {
	// Timeout for each Kubernetes operation of the upgrade; spec.timeout
	// when unset.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`

	// Remediation configures what happens when the upgrade fails; nothing
	// by default.
	// +optional
	Remediation *UpgradeRemediation `json:"remediation,omitempty"`

	// Strategy is RemediateOnFailure (the default) or RetryOnFailure.
	// +optional
	Strategy *UpgradeStrategy `json:"strategy,omitempty"`

	// DisableTakeOwnership stops the upgrade from adopting existing objects.
	// +optional
	DisableTakeOwnership bool `json:"disableTakeOwnership,omitempty"`

	// DisableWait skips waiting for resources to be ready.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DisableWaitForJobs skips waiting for Jobs to complete.
	// +optional
	DisableWaitForJobs bool `json:"disableWaitForJobs,omitempty"`

	// DisableHooks skips the chart's hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// DisableOpenAPIValidation skips validating rendered manifests against
	// the cluster's OpenAPI schema.
	// +optional
	DisableOpenAPIValidation bool `json:"disableOpenAPIValidation,omitempty"`

	// DisableSchemaValidation skips validating values against the chart's
	// JSON schema.
	// +optional
	DisableSchemaValidation bool `json:"disableSchemaValidation,omitempty"`

	// Force replaces resources instead of patching them (client-side apply
	// only).
	// +optional
	Force bool `json:"force,omitempty"`

	// PreserveValues reuses the previous release's values, merged with the
	// new ones; this makes the release non-declarative.
	// +optional
	PreserveValues bool `json:"preserveValues,omitempty"`

	// CleanupOnFail deletes resources created by a failed upgrade.
	// +optional
	CleanupOnFail bool `json:"cleanupOnFail,omitempty"`

	// CRDs is the CRD policy of the upgrade; Skip when empty.
	// +optional
	CRDs CRDsPolicy `json:"crds,omitempty"`

	// ServerSideApply is enabled, disabled or auto (follow the previous
	// release, the default).
	// +optional
	ServerSideApply string `json:"serverSideApply,omitempty"`

	// ChartNameChangeStrategy is what happens when the chart name changes:
	// Reinstall (uninstall then install, the default) or InPlaceUpdate.
	// +optional
	ChartNameChangeStrategy string `json:"chartNameChangeStrategy,omitempty"`
}

// UpgradeRemediation configures the remediation of failed upgrades.
type UpgradeRemediation struct {
	// Retries before giving up, remediating between attempts; 0 by default,
	// negative for no limit.
	// +optional
	Retries int `json:"retries,omitempty"`

	// IgnoreTestFailures skips remediation when tests fail after an upgrade;
	// spec.test.ignoreFailures when unset.
	// +optional
	IgnoreTestFailures *bool `json:"ignoreTestFailures,omitempty"`

	// RemediateLastFailure remediates the last failure once retries are
	// exhausted; true when unset and retries > 0.
	// +optional
	RemediateLastFailure *bool `json:"remediateLastFailure,omitempty"`

	// Strategy is rollback (the default) or uninstall.
	// +optional
	Strategy *RemediationStrategy `json:"strategy,omitempty"`
}

// UpgradeStrategy selects how failed upgrades are handled.
type UpgradeStrategy struct {
	// Name is RemediateOnFailure or RetryOnFailure.
	Name string `json:"name"`

	// RetryInterval between retries; only with RetryOnFailure, 5m when unset.
	// +optional
	RetryInterval *common.Duration `json:"retryInterval,omitempty"`
}

// Test configures Helm test actions.
type Test struct {
	// Enable runs the chart's tests after each install or upgrade.
	// +optional
	Enable bool `json:"enable,omitempty"`

	// Timeout for each Kubernetes operation of the tests; spec.timeout when
	// unset.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`

	// IgnoreFailures skips remediation when tests fail; overridable per
	// install and upgrade.
	// +optional
	IgnoreFailures bool `json:"ignoreFailures,omitempty"`

	// Filters selects tests to run or exclude.
	// +optional
	Filters *[]Filter `json:"filters,omitempty"`
}

// Filter selects one Helm test.
type Filter struct {
	// Name of the test.
	Name string `json:"name"`

	// Exclude skips the test instead of selecting it.
	// +optional
	Exclude bool `json:"exclude,omitempty"`
}

// Rollback configures Helm rollback actions.
type Rollback struct {
	// Timeout for each Kubernetes operation of the rollback; spec.timeout
	// when unset.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`

	// DisableWait skips waiting for resources to be ready.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DisableWaitForJobs skips waiting for Jobs to complete.
	// +optional
	DisableWaitForJobs bool `json:"disableWaitForJobs,omitempty"`

	// DisableHooks skips the chart's hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// Recreate restarted pods with Helm 3; it has no effect with Helm 4.
	// +optional
	Recreate bool `json:"recreate,omitempty"`

	// Force replaces resources instead of patching them (client-side apply
	// only).
	// +optional
	Force bool `json:"force,omitempty"`

	// CleanupOnFail deletes resources created by a failed rollback.
	// +optional
	CleanupOnFail bool `json:"cleanupOnFail,omitempty"`

	// ServerSideApply is enabled, disabled or auto (follow the previous
	// release, the default).
	// +optional
	ServerSideApply string `json:"serverSideApply,omitempty"`
}

// Uninstall configures Helm uninstall actions.
type Uninstall struct {
	// Timeout for each Kubernetes operation of the uninstall; spec.timeout
	// when unset.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`

	// DisableHooks skips the chart's hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// KeepHistory keeps the release records, marked deleted.
	// +optional
	KeepHistory bool `json:"keepHistory,omitempty"`

	// DisableWait skips waiting for resources to be deleted.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DeletionPropagation is background (the default), foreground or orphan.
	// +optional
	DeletionPropagation *string `json:"deletionPropagation,omitempty"`
}

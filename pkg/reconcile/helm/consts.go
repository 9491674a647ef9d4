package helm

import (
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
)

// The API's enum values in the versioned types the worker reads.
const (
	actionInstall = helmv2.ReleaseAction(helm.ReleaseActionInstall)
	actionUpgrade = helmv2.ReleaseAction(helm.ReleaseActionUpgrade)

	crdsSkip          = helmv2.CRDsPolicy(helm.CRDsSkip)
	crdsCreate        = helmv2.CRDsPolicy(helm.CRDsCreate)
	crdsCreateReplace = helmv2.CRDsPolicy(helm.CRDsCreateReplace)

	driftEnabled  = helmv2.DriftDetectionMode(helm.DriftDetectionEnabled)
	driftWarn     = helmv2.DriftDetectionMode(helm.DriftDetectionWarn)
	driftDisabled = helmv2.DriftDetectionMode(helm.DriftDetectionDisabled)

	remediateByUninstall = helmv2.RemediationStrategy(helm.UninstallRemediationStrategy)
)

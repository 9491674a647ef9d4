package helm

import (
	"context"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
)

// The Helm actions of a release, as obj's spec asks for them. Each is a
// pure function of the spec (the context only bounds Helm's waits), so the
// mapping of every Flux field onto Helm's is tested without a cluster
// (actions_test.go); steps.go runs them.

// installAction is Helm's install of obj's release (spec.install).
func installAction(ctx context.Context, cfg *action.Configuration, obj *helmv2.HelmRelease) *action.Install {
	spec := obj.Spec.Install
	if spec == nil {
		spec = &helmv2.Install{}
	}
	a := action.NewInstall(cfg)
	a.ReleaseName, a.Namespace, a.Timeout = releaseName(obj), releaseNamespace(obj), timeout(obj, spec.Timeout)
	a.WaitStrategy = waitStrategy(obj, spec.DisableWait)
	a.WaitOptions = waitOptions(ctx, cfg, obj)
	a.WaitForJobs = !spec.DisableWait && !spec.DisableWaitForJobs
	a.DisableHooks = spec.DisableHooks
	a.DisableOpenAPIValidation = spec.DisableOpenAPIValidation
	a.SkipSchemaValidation = spec.DisableSchemaValidation
	a.Replace = spec.Replace
	a.CreateNamespace = spec.CreateNamespace
	a.TakeOwnership = !spec.DisableTakeOwnership
	a.ServerSideApply = spec.ServerSideApply == nil || *spec.ServerSideApply
	a.ForceConflicts = a.ServerSideApply
	a.Description = "Install by the HelmRelease " + obj.Namespace + "/" + obj.Name
	a.PostRenderer, a.PostRenderStrategy = postRenderer(obj)
	// Helm creates the chart's CRDs itself only under Create; the others
	// are applied before the install (crds.go).
	a.SkipCRDs = installCRDs(obj) != crdsCreate
	return a
}

// upgradeAction is Helm's upgrade of obj's release (spec.upgrade).
func upgradeAction(ctx context.Context, cfg *action.Configuration, obj *helmv2.HelmRelease) *action.Upgrade {
	spec := obj.Spec.Upgrade
	if spec == nil {
		spec = &helmv2.Upgrade{}
	}
	a := action.NewUpgrade(cfg)
	a.Namespace, a.Timeout = releaseNamespace(obj), timeout(obj, spec.Timeout)
	a.WaitStrategy = waitStrategy(obj, spec.DisableWait)
	a.WaitOptions = waitOptions(ctx, cfg, obj)
	a.WaitForJobs = !spec.DisableWait && !spec.DisableWaitForJobs
	a.DisableHooks = spec.DisableHooks
	a.DisableOpenAPIValidation = spec.DisableOpenAPIValidation
	a.SkipSchemaValidation = spec.DisableSchemaValidation
	a.ForceReplace = spec.Force
	a.CleanupOnFail = spec.CleanupOnFail
	a.TakeOwnership = !spec.DisableTakeOwnership
	a.ResetValues = !spec.PreserveValues
	a.ReuseValues = spec.PreserveValues
	a.ServerSideApply = serverSideApply(spec.ServerSideApply)
	a.ForceConflicts = a.ServerSideApply != "false"
	a.MaxHistory = maxHistory(obj)
	// Helm never touches CRDs on upgrade; spec.upgrade.crds is applied
	// before it (crds.go).
	a.SkipCRDs = true
	a.Description = "Upgrade by the HelmRelease " + obj.Namespace + "/" + obj.Name
	a.PostRenderer, a.PostRenderStrategy = postRenderer(obj)
	return a
}

// rollbackAction is Helm's rollback of obj's release to its previous
// revision (spec.rollback).
func rollbackAction(ctx context.Context, cfg *action.Configuration, obj *helmv2.HelmRelease) *action.Rollback {
	spec := obj.Spec.Rollback
	if spec == nil {
		spec = &helmv2.Rollback{}
	}
	a := action.NewRollback(cfg)
	a.Timeout = timeout(obj, spec.Timeout)
	a.WaitStrategy = waitStrategy(obj, spec.DisableWait)
	a.WaitOptions = waitOptions(ctx, cfg, obj)
	a.WaitForJobs = !spec.DisableWait && !spec.DisableWaitForJobs
	a.DisableHooks = spec.DisableHooks
	a.ForceReplace = spec.Force || spec.Recreate
	a.CleanupOnFail = spec.CleanupOnFail
	a.ServerSideApply = serverSideApply(spec.ServerSideApply)
	a.ForceConflicts = a.ServerSideApply != "false"
	a.MaxHistory = maxHistory(obj)
	a.Description = "Rollback by the HelmRelease " + obj.Namespace + "/" + obj.Name
	return a
}

// uninstallAction is Helm's uninstall of obj's release (spec.uninstall).
func uninstallAction(ctx context.Context, cfg *action.Configuration, obj *helmv2.HelmRelease) *action.Uninstall {
	spec := obj.Spec.Uninstall
	if spec == nil {
		spec = &helmv2.Uninstall{}
	}
	a := action.NewUninstall(cfg)
	a.Timeout = timeout(obj, spec.Timeout)
	a.DisableHooks = spec.DisableHooks
	a.KeepHistory = spec.KeepHistory
	a.IgnoreNotFound = true
	a.WaitStrategy = waitStrategy(obj, spec.DisableWait)
	a.WaitOptions = []kube.WaitOption{kube.WithWaitContext(ctx)}
	a.DeletionPropagation = "background" // Flux's default
	if p := spec.DeletionPropagation; p != nil && *p != "" {
		a.DeletionPropagation = *p
	}
	a.Description = "Uninstall by the HelmRelease " + obj.Namespace + "/" + obj.Name
	return a
}

// testAction is Helm's test of obj's release (spec.test): filters name the
// test hooks to run (include) or to skip (exclude).
func testAction(ctx context.Context, cfg *action.Configuration, obj *helmv2.HelmRelease) *action.ReleaseTesting {
	spec := obj.Spec.Test
	if spec == nil {
		spec = &helmv2.Test{}
	}
	a := action.NewReleaseTesting(cfg)
	a.Namespace = releaseNamespace(obj)
	a.Timeout = timeout(obj, spec.Timeout)
	a.WaitOptions = []kube.WaitOption{kube.WithWaitContext(ctx)}
	if spec.Filters != nil {
		for _, f := range *spec.Filters {
			key := action.IncludeNameFilter
			if f.Exclude {
				key = action.ExcludeNameFilter
			}
			a.Filters[key] = append(a.Filters[key], f.Name)
		}
	}
	return a
}

// installCRDs is the CRD policy of an install: spec.install.crds, else
// Skip when spec.install.skipCRDs (deprecated), else Create.
func installCRDs(obj *helmv2.HelmRelease) helmv2.CRDsPolicy {
	if spec := obj.Spec.Install; spec != nil {
		return crdsPolicy(spec.CRDs, spec.SkipCRDs, crdsCreate)
	}
	return crdsCreate
}

// upgradeCRDs is the CRD policy of an upgrade: spec.upgrade.crds, else
// Skip.
func upgradeCRDs(obj *helmv2.HelmRelease) helmv2.CRDsPolicy {
	if spec := obj.Spec.Upgrade; spec != nil {
		return crdsPolicy(spec.CRDs, false, crdsSkip)
	}
	return crdsSkip
}

// crdsPolicy is the CRD policy of an action: the spec's, else Skip when
// skip, else def.
func crdsPolicy(p helmv2.CRDsPolicy, skip bool, def helmv2.CRDsPolicy) helmv2.CRDsPolicy {
	switch {
	case p != "":
		return p
	case skip:
		return crdsSkip
	}
	return def
}

// waitStrategy is spec.waitStrategy (poller: kstatus watches, Helm 4's
// default; legacy: Helm 3's polling), or hooks only when waiting is off.
func waitStrategy(obj *helmv2.HelmRelease, disableWait bool) kube.WaitStrategy {
	if disableWait {
		return kube.HookOnlyStrategy
	}
	if ws := obj.Spec.WaitStrategy; ws != nil && ws.Name == helm.WaitStrategyLegacy {
		return kube.LegacyStrategy
	}
	return kube.StatusWatcherStrategy
}

// serverSideApply maps enabled/disabled/auto to Helm's true/false/auto.
func serverSideApply(v string) string {
	switch v {
	case helm.ServerSideApplyEnabled:
		return "true"
	case helm.ServerSideApplyDisabled:
		return "false"
	}
	return "auto"
}

// maxHistory is spec.maxHistory, Flux's default 5 when unset (0 keeps
// every revision).
func maxHistory(obj *helmv2.HelmRelease) int {
	if obj.Spec.MaxHistory != nil {
		return *obj.Spec.MaxHistory
	}
	return 5
}

// timeout is the action's own timeout, else spec.timeout, else Flux's 5m.
func timeout(obj *helmv2.HelmRelease, action *common.Duration) time.Duration {
	def := parseDuration(obj.Spec.Timeout, 5*time.Minute)
	if action == nil {
		return def
	}
	return parseDuration(action, def)
}

package helm

import (
	"context"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// install installs the release, tests it, and remediates a failure.
func (run *releaseRun) install(ctx context.Context) (string, error) {
	obj := run.obj
	spec := obj.Spec.Install
	if spec == nil {
		spec = &helmv2.Install{}
	}
	if exceeded(obj.Status.InstallFailures, installRetries(spec)) {
		return "", loop.Stallf(helm.InstallFailedReason, "Failed to install after %d attempt(s): %s",
			obj.Status.InstallFailures, conditionMessage(obj, helm.ReleasedCondition))
	}
	d := timeout(obj, spec.Timeout)
	run.r.progress(ctx, obj, fmt.Sprintf("Running 'install' action with timeout of %s", d))
	obj.Status.LastAttemptedReleaseAction = actionInstall

	a := action.NewInstall(run.cfg)
	a.ReleaseName, a.Namespace, a.Timeout = run.name, releaseNamespace(obj), d
	a.WaitStrategy = waitStrategy(obj, spec.DisableWait)
	a.WaitOptions = []kube.WaitOption{kube.WithWaitContext(ctx)}
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
	a.PostRenderer, a.PostRenderStrategy = run.postRenderer()
	crds := crdsPolicy(spec.CRDs, spec.SkipCRDs, crdsCreate)
	if err := run.applyCRDs(ctx, crds, true); err != nil {
		return "", run.failed(ctx, actionInstall, err)
	}
	a.SkipCRDs = crds != crdsCreate

	start := time.Now()
	res, err := a.RunWithContext(ctx, run.chart, run.values)
	obj.Status.LastAttemptedReleaseActionDuration = &metav1.Duration{Duration: time.Since(start)}
	if err != nil {
		return "", run.failed(ctx, actionInstall, err)
	}
	rel, _ := toRelease(res)
	msg := fmt.Sprintf("Helm install succeeded for release %s with chart %s", refAt(rel), chartDescription(run.chart))
	return run.released(ctx, rel, helm.InstallSucceededReason, msg)
}

// upgrade upgrades the release, tests it, and remediates a failure.
func (run *releaseRun) upgrade(ctx context.Context) (string, error) {
	obj := run.obj
	spec := obj.Spec.Upgrade
	if spec == nil {
		spec = &helmv2.Upgrade{}
	}
	if exceeded(obj.Status.UpgradeFailures, upgradeRetries(spec)) {
		return "", loop.Stallf(helm.UpgradeFailedReason, "Failed to upgrade after %d attempt(s): %s",
			obj.Status.UpgradeFailures, conditionMessage(obj, helm.ReleasedCondition))
	}
	d := timeout(obj, spec.Timeout)
	run.r.progress(ctx, obj, fmt.Sprintf("Running 'upgrade' action with timeout of %s", d))
	obj.Status.LastAttemptedReleaseAction = actionUpgrade

	a := action.NewUpgrade(run.cfg)
	a.Namespace, a.Timeout = releaseNamespace(obj), d
	a.WaitStrategy = waitStrategy(obj, spec.DisableWait)
	a.WaitOptions = []kube.WaitOption{kube.WithWaitContext(ctx)}
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
	a.SkipCRDs = true
	a.Description = "Upgrade by the HelmRelease " + obj.Namespace + "/" + obj.Name
	a.PostRenderer, a.PostRenderStrategy = run.postRenderer()
	if err := run.applyCRDs(ctx, crdsPolicy(spec.CRDs, false, crdsSkip), false); err != nil {
		return "", run.failed(ctx, actionUpgrade, err)
	}

	start := time.Now()
	res, err := a.RunWithContext(ctx, run.name, run.chart, run.values)
	obj.Status.LastAttemptedReleaseActionDuration = &metav1.Duration{Duration: time.Since(start)}
	if err != nil {
		return "", run.failed(ctx, actionUpgrade, err)
	}
	rel, _ := toRelease(res)
	msg := fmt.Sprintf("Helm upgrade succeeded for release %s with chart %s", refAt(rel), chartDescription(run.chart))
	return run.released(ctx, rel, helm.UpgradeSucceededReason, msg)
}

// released records a successful install or upgrade and runs the tests.
func (run *releaseRun) released(ctx context.Context, rel *release.Release, reason, msg string) (string, error) {
	obj := run.obj
	setCondition(obj, helm.ReleasedCondition, metav1.ConditionTrue, reason, msg)
	removeCondition(obj, helm.RemediatedCondition)
	removeCondition(obj, helm.TestSuccessCondition)
	run.r.Events.Event(obj, corev1.EventTypeNormal, reason, msg)
	if run.testsEnabled() {
		if err := run.test(ctx, rel); err != nil {
			return "", err
		}
	}
	run.observe()
	return msg, nil
}

// failed records a failed install or upgrade, remediates it when the spec
// says so, and returns the error to report.
func (run *releaseRun) failed(ctx context.Context, act helmv2.ReleaseAction, cause error) error {
	obj := run.obj
	obj.Status.Failures++
	reason, verb := helm.InstallFailedReason, "install"
	failures, retries, remediateLast := &obj.Status.InstallFailures, installRetries(obj.Spec.Install), installRemediateLast(obj.Spec.Install)
	if act == actionUpgrade {
		reason, verb = helm.UpgradeFailedReason, "upgrade"
		failures, retries, remediateLast = &obj.Status.UpgradeFailures, upgradeRetries(obj.Spec.Upgrade), upgradeRemediateLast(obj.Spec.Upgrade)
	}
	*failures++
	msg := fmt.Sprintf("Helm %s failed for release %s with chart %s: %s", verb, run.ref(), chartDescription(run.chart), cause)
	setCondition(obj, helm.ReleasedCondition, metav1.ConditionFalse, reason, msg)
	run.r.Events.Event(obj, corev1.EventTypeWarning, reason, msg)
	if shouldRemediate(*failures, retries, remediateLast) {
		if err := run.remediate(ctx, act); err != nil {
			return err
		}
	}
	if exceeded(*failures, retries) {
		return loop.Stallf(reason, "%s (failed %d time(s), retries: %d)", msg, *failures, retries)
	}
	return loop.Failf(reason, "%s", msg)
}

// remediate undoes a failed release: an install is uninstalled, an upgrade
// rolled back (or uninstalled, as spec.upgrade.remediation.strategy says).
func (run *releaseRun) remediate(ctx context.Context, act helmv2.ReleaseAction) error {
	if act == actionInstall || upgradeStrategyIsUninstall(run.obj.Spec.Upgrade) {
		return run.uninstall(ctx, "remediating a failed "+string(act))
	}
	return run.rollback(ctx)
}

// rollback rolls the release back to its previous deployed revision.
func (run *releaseRun) rollback(ctx context.Context) error {
	obj := run.obj
	spec := obj.Spec.Rollback
	if spec == nil {
		spec = &helmv2.Rollback{}
	}
	a := action.NewRollback(run.cfg)
	a.Timeout = timeout(obj, spec.Timeout)
	a.WaitStrategy = waitStrategy(obj, spec.DisableWait)
	a.WaitOptions = []kube.WaitOption{kube.WithWaitContext(ctx)}
	a.WaitForJobs = !spec.DisableWait && !spec.DisableWaitForJobs
	a.DisableHooks = spec.DisableHooks
	a.ForceReplace = spec.Force || spec.Recreate
	a.CleanupOnFail = spec.CleanupOnFail
	a.ServerSideApply = serverSideApply(spec.ServerSideApply)
	a.ForceConflicts = a.ServerSideApply != "false"
	a.MaxHistory = maxHistory(obj)
	a.Description = "Rollback by the HelmRelease " + obj.Namespace + "/" + obj.Name
	if err := a.Run(run.name); err != nil {
		msg := fmt.Sprintf("Helm rollback of release %s failed: %s", run.ref(), err)
		setCondition(obj, helm.RemediatedCondition, metav1.ConditionFalse, helm.RollbackFailedReason, msg)
		run.r.Events.Event(obj, corev1.EventTypeWarning, helm.RollbackFailedReason, msg)
		return loop.Failf(helm.RollbackFailedReason, "%s", msg)
	}
	cur, _ := run.last()
	msg := fmt.Sprintf("Helm rollback of release %s succeeded", run.ref())
	if cur != nil {
		msg = fmt.Sprintf("Helm rollback to previous release %s with chart %s@%s succeeded", refAt(cur), cur.Chart.Metadata.Name, cur.Chart.Metadata.Version)
	}
	setCondition(obj, helm.RemediatedCondition, metav1.ConditionTrue, helm.RollbackSucceededReason, msg)
	run.r.Events.Event(obj, corev1.EventTypeNormal, helm.RollbackSucceededReason, msg)
	return nil
}

// uninstall removes the release (remediation, or replacing a failed
// first install).
func (run *releaseRun) uninstall(ctx context.Context, why string) error {
	obj := run.obj
	if err := uninstallRelease(ctx, run.cfg, obj, run.name); err != nil {
		msg := fmt.Sprintf("Helm uninstall of release %s (%s) failed: %s", run.ref(), why, err)
		setCondition(obj, helm.RemediatedCondition, metav1.ConditionFalse, helm.UninstallFailedReason, msg)
		run.r.Events.Event(obj, corev1.EventTypeWarning, helm.UninstallFailedReason, msg)
		return loop.Failf(helm.UninstallFailedReason, "%s", msg)
	}
	msg := fmt.Sprintf("Helm uninstall of release %s (%s) succeeded", run.ref(), why)
	setCondition(obj, helm.RemediatedCondition, metav1.ConditionTrue, helm.UninstallSucceededReason, msg)
	run.r.Events.Event(obj, corev1.EventTypeNormal, helm.UninstallSucceededReason, msg)
	return nil
}

// uninstallRelease runs Helm's uninstall with spec.uninstall.
func uninstallRelease(ctx context.Context, cfg *action.Configuration, obj *helmv2.HelmRelease, name string) error {
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
	a.DeletionPropagation = "background"
	if p := spec.DeletionPropagation; p != nil && *p != "" {
		a.DeletionPropagation = *p
	}
	a.Description = "Uninstall by the HelmRelease " + obj.Namespace + "/" + obj.Name
	_, err := a.Run(name)
	return err
}

// test runs the release's tests; a failure counts as a failure of the
// last action unless the spec ignores test failures.
func (run *releaseRun) test(ctx context.Context, rel *release.Release) error {
	obj := run.obj
	spec := obj.Spec.Test
	a := action.NewReleaseTesting(run.cfg)
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
	res, shutdown, err := a.Run(run.name)
	if shutdown != nil {
		_ = shutdown()
	}
	tested, _ := toRelease(res)
	if tested == nil {
		tested = rel
	}
	if err != nil {
		msg := fmt.Sprintf("Helm test failed for release %s with chart %s: %s", refAt(tested), chartDescription(run.chart), err)
		setCondition(obj, helm.TestSuccessCondition, metav1.ConditionFalse, helm.TestFailedReason, msg)
		run.r.Events.Event(obj, corev1.EventTypeWarning, helm.TestFailedReason, msg)
		if run.ignoreTestFailures() {
			return nil
		}
		return run.failed(ctx, obj.Status.LastAttemptedReleaseAction, fmt.Errorf("tests failed: %w", err))
	}
	n := len(testHooks(tested))
	msg := fmt.Sprintf("Helm test succeeded for release %s with chart %s: %d test hook(s) completed successfully", refAt(tested), chartDescription(run.chart), n)
	if n == 0 {
		msg = fmt.Sprintf("Helm test succeeded for release %s with chart %s: no test hooks", refAt(tested), chartDescription(run.chart))
	}
	setCondition(obj, helm.TestSuccessCondition, metav1.ConditionTrue, helm.TestSucceededReason, msg)
	run.r.Events.Event(obj, corev1.EventTypeNormal, helm.TestSucceededReason, msg)
	return nil
}

func (run *releaseRun) testsEnabled() bool {
	return run.obj.Spec.Test != nil && run.obj.Spec.Test.Enable
}

// ignoreTestFailures is the remediation's ignoreTestFailures of the last
// action, else spec.test.ignoreFailures.
func (run *releaseRun) ignoreTestFailures() bool {
	obj := run.obj
	var v *bool
	switch {
	case obj.Status.LastAttemptedReleaseAction == actionUpgrade && obj.Spec.Upgrade != nil && obj.Spec.Upgrade.Remediation != nil:
		v = obj.Spec.Upgrade.Remediation.IgnoreTestFailures
	case obj.Status.LastAttemptedReleaseAction == actionInstall && obj.Spec.Install != nil && obj.Spec.Install.Remediation != nil:
		v = obj.Spec.Install.Remediation.IgnoreTestFailures
	}
	if v != nil {
		return *v
	}
	return obj.Spec.Test != nil && obj.Spec.Test.IgnoreFailures
}

// testedOK reports whether every test hook of rel ran and succeeded.
func testedOK(rel *release.Release) bool {
	hooks := testHooks(rel)
	for _, h := range hooks {
		if h.LastRun.Phase != release.HookPhaseSucceeded {
			return false
		}
	}
	return len(hooks) > 0
}

// testFailedFor reports whether the tests of this very revision already
// failed (and were ignored): they are not run again on every interval.
func (run *releaseRun) testFailedFor(rel *release.Release) bool {
	c := findCondition(run.obj, helm.TestSuccessCondition)
	return c != nil && c.Status == metav1.ConditionFalse && strings.Contains(c.Message, refAt(rel)+" ")
}

func testHooks(rel *release.Release) []*release.Hook {
	var out []*release.Hook
	for _, h := range rel.Hooks {
		for _, e := range h.Events {
			if e == release.HookTest {
				out = append(out, h)
				break
			}
		}
	}
	return out
}

// exceeded reports whether failures used up the retries (negative retries
// are unlimited).
func exceeded(failures int64, retries int) bool {
	return retries >= 0 && failures > int64(retries)
}

// shouldRemediate is Flux's rule: remediate between retries, and after the
// last one only when remediateLastFailure.
func shouldRemediate(failures int64, retries int, remediateLast bool) bool {
	return !exceeded(failures, retries) || remediateLast
}

func installRetries(spec *helmv2.Install) int {
	if spec == nil || spec.Remediation == nil {
		return 0
	}
	return spec.Remediation.Retries
}

func upgradeRetries(spec *helmv2.Upgrade) int {
	if spec == nil || spec.Remediation == nil {
		return 0
	}
	return spec.Remediation.Retries
}

// installRemediateLast defaults to true when retries are set, as in Flux.
func installRemediateLast(spec *helmv2.Install) bool {
	if spec == nil || spec.Remediation == nil {
		return false
	}
	if v := spec.Remediation.RemediateLastFailure; v != nil {
		return *v
	}
	return spec.Remediation.Retries != 0
}

func upgradeRemediateLast(spec *helmv2.Upgrade) bool {
	if spec == nil || spec.Remediation == nil {
		return false
	}
	if v := spec.Remediation.RemediateLastFailure; v != nil {
		return *v
	}
	return spec.Remediation.Retries != 0
}

func upgradeStrategyIsUninstall(spec *helmv2.Upgrade) bool {
	return spec != nil && spec.Remediation != nil && spec.Remediation.Strategy != nil &&
		*spec.Remediation.Strategy == remediateByUninstall
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

func maxHistory(obj *helmv2.HelmRelease) int {
	if obj.Spec.MaxHistory != nil {
		return *obj.Spec.MaxHistory
	}
	return 5 // Flux's default
}

// crdsPolicy is the CRD policy of an action: the spec's, else Skip when
// skipCRDs (deprecated), else def.
func crdsPolicy(p helmv2.CRDsPolicy, skip bool, def helmv2.CRDsPolicy) helmv2.CRDsPolicy {
	switch {
	case p != "":
		return p
	case skip:
		return crdsSkip
	}
	return def
}

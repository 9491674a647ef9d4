package helm

import (
	"context"
	"fmt"
	"time"

	rcommon "helm.sh/helm/v4/pkg/release/common"

	release "helm.sh/helm/v4/pkg/release/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// The steps of a release run: each runs one Helm action (actions.go builds
// it from the spec) and records what it did in conditions and events.

// install installs the release, tests it, and remediates a failure.
func (run *releaseRun) install(ctx context.Context) (string, error) {
	obj := run.obj
	if !retriesOnFailure(obj, actionInstall) && exceeded(obj.Status.InstallFailures, installRetries(obj.Spec.Install)) {
		return "", loop.Stallf(helm.InstallFailedReason, "Failed to install after %d attempt(s): %s",
			obj.Status.InstallFailures, conditionMessage(obj, helm.ReleasedCondition))
	}
	a := installAction(ctx, run.cfg, obj)
	// A release uninstalled with keepHistory (a remediation, a chart
	// rename) still holds its name: Helm reuses it only with Replace.
	if last, _ := run.last(); last != nil && last.Info.Status == rcommon.StatusUninstalled {
		a.Replace = true
	}
	run.r.progress(ctx, obj, fmt.Sprintf("Running 'install' action with timeout of %s", a.Timeout))
	obj.Status.LastAttemptedReleaseAction = actionInstall
	if err := run.applyCRDs(ctx, installCRDs(obj), true); err != nil {
		return "", run.failed(ctx, actionInstall, err)
	}

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
	if !retriesOnFailure(obj, actionUpgrade) && exceeded(obj.Status.UpgradeFailures, upgradeRetries(obj.Spec.Upgrade)) {
		return "", loop.Stallf(helm.UpgradeFailedReason, "Failed to upgrade after %d attempt(s): %s",
			obj.Status.UpgradeFailures, conditionMessage(obj, helm.ReleasedCondition))
	}
	a := upgradeAction(ctx, run.cfg, obj)
	run.r.progress(ctx, obj, fmt.Sprintf("Running 'upgrade' action with timeout of %s", a.Timeout))
	obj.Status.LastAttemptedReleaseAction = actionUpgrade
	if err := run.applyCRDs(ctx, upgradeCRDs(obj), false); err != nil {
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

// rollback rolls the release back to its previous deployed revision.
func (run *releaseRun) rollback(ctx context.Context) error {
	obj := run.obj
	a := rollbackAction(ctx, run.cfg, obj)
	// Helm's default target is the revision before the current one, which
	// may itself have failed; the target is the last one that deployed.
	a.Version = run.lastDeployedVersion()
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
	if _, err := uninstallAction(ctx, run.cfg, obj).Run(run.name); err != nil {
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

// test runs the release's tests; a failure counts as a failure of the
// last action unless the spec ignores test failures.
func (run *releaseRun) test(ctx context.Context, rel *release.Release) error {
	obj := run.obj
	res, shutdown, err := testAction(ctx, run.cfg, obj).Run(run.name)
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
		if ignoreTestFailures(obj) {
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

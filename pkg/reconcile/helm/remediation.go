package helm

import (
	"context"
	"fmt"
	"slices"
	"strings"

	release "helm.sh/helm/v4/pkg/release/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

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
	if retriesOnFailure(obj, act) {
		// RetryOnFailure: no remediation, no stall; the same action is
		// tried again after the strategy's retryInterval.
		return loop.Failf(reason, "%s", msg)
	}
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

// ignoreTestFailures is the remediation's ignoreTestFailures of the last
// action, else spec.test.ignoreFailures.
func ignoreTestFailures(obj *helmv2.HelmRelease) bool {
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

// testedOK reports whether every test hook of rel that spec.test.filters
// select ran and succeeded (hooks the filters skip never run).
func testedOK(obj *helmv2.HelmRelease, rel *release.Release) bool {
	hooks := selectedTests(obj, rel)
	for _, h := range hooks {
		if h.LastRun.Phase != release.HookPhaseSucceeded {
			return false
		}
	}
	return len(hooks) > 0
}

// selectedTests are the test hooks of rel that spec.test.filters select,
// as Helm selects them: excluded names are skipped and, when names are
// included, only those run.
func selectedTests(obj *helmv2.HelmRelease, rel *release.Release) []*release.Hook {
	hooks := testHooks(rel)
	if obj.Spec.Test == nil || obj.Spec.Test.Filters == nil {
		return hooks
	}
	var include, exclude []string
	for _, f := range *obj.Spec.Test.Filters {
		if f.Exclude {
			exclude = append(exclude, f.Name)
		} else {
			include = append(include, f.Name)
		}
	}
	return slices.DeleteFunc(hooks, func(h *release.Hook) bool {
		return slices.Contains(exclude, h.Name) || (len(include) > 0 && !slices.Contains(include, h.Name))
	})
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

// retriesOnFailure reports whether act's strategy is RetryOnFailure.
func retriesOnFailure(obj *helmv2.HelmRelease, act helmv2.ReleaseAction) bool {
	name, _ := strategy(obj, act)
	return name == helm.RetryOnFailureStrategy
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

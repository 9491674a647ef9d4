package helm

import (
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// Remediation, retries and test failures on Helm's fakes (fakes_test.go).

func installRemediation(r helmv2.InstallRemediation) func(*helmv2.HelmReleaseSpec) {
	return func(s *helmv2.HelmReleaseSpec) {
		if s.Install == nil {
			s.Install = &helmv2.Install{}
		}
		s.Install.Remediation = &r
	}
}

func upgradeRemediation(r helmv2.UpgradeRemediation) func(*helmv2.HelmReleaseSpec) {
	return func(s *helmv2.HelmReleaseSpec) {
		if s.Upgrade == nil {
			s.Upgrade = &helmv2.Upgrade{}
		}
		s.Upgrade.Remediation = &r
	}
}

func TestHelmRelease_FailedInstallIsUninstalledThenRetried(t *testing.T) {
	w := newWorld(t, chartFiles(t, "app", "1.0.0"))
	obj := webRelease(installRemediation(helmv2.InstallRemediation{Retries: 1}))
	w.kube.failWaits = 1
	res, outcome := w.reconcile(t, obj)
	if outcome != loop.Failed || !strings.Contains(res.Err.Error(), "Helm install failed") {
		t.Fatalf("first attempt: outcome %v, %v; want a failure to retry", outcome, res.Err)
	}
	wantCondition(t, obj, helm.RemediatedCondition, metav1.ConditionTrue, helm.UninstallSucceededReason)
	wantHistory(t, w) // uninstalled, history and all
	if obj.Status.InstallFailures != 1 || obj.Status.Failures != 1 {
		t.Errorf("failures: install %d, total %d; want 1, 1", obj.Status.InstallFailures, obj.Status.Failures)
	}

	if res, outcome := w.reconcile(t, obj); outcome != loop.Succeeded {
		t.Fatalf("retry: %v", res.Err)
	}
	wantCondition(t, obj, helm.ReleasedCondition, metav1.ConditionTrue, helm.InstallSucceededReason)
	wantNoCondition(t, obj, helm.RemediatedCondition)
	wantHistory(t, w, "deployed")
}

func TestHelmRelease_InstallStallsWhenRetriesAreUsedUp(t *testing.T) {
	w := newWorld(t, chartFiles(t, "app", "1.0.0"))
	obj := webRelease(installRemediation(helmv2.InstallRemediation{Retries: 1}))
	w.kube.failWaits = forever
	if _, outcome := w.reconcile(t, obj); outcome != loop.Failed {
		t.Fatalf("first failure: outcome %v, want Failed (one retry left)", outcome)
	}
	res, outcome := w.reconcile(t, obj)
	if outcome != loop.Stalled || !strings.Contains(res.Err.Error(), "failed 2 time(s), retries: 1") {
		t.Fatalf("second failure: outcome %v, %v; want a stall", outcome, res.Err)
	}
	// remediateLastFailure defaults to true with retries: the last
	// failure is uninstalled too.
	wantCondition(t, obj, helm.RemediatedCondition, metav1.ConditionTrue, helm.UninstallSucceededReason)
	wantHistory(t, w)
	wantCondition(t, obj, common.StalledCondition, metav1.ConditionTrue, helm.InstallFailedReason)

	left := w.kube.failWaits
	res, outcome = w.reconcile(t, obj)
	if outcome != loop.Stalled || !strings.Contains(res.Err.Error(), "Failed to install after 2 attempt(s)") {
		t.Errorf("after the stall: outcome %v, %v", outcome, res.Err)
	}
	if w.kube.failWaits != left {
		t.Error("a stalled install was attempted again")
	}
}

func TestHelmRelease_InstallRemediateLastFailure(t *testing.T) {
	for _, tc := range []struct {
		name        string
		remediation helmv2.InstallRemediation
		attempts    int
		history     []string
	}{
		{name: "no retries: the failure is kept", attempts: 1, history: []string{"failed"}},
		{name: "no retries, remediateLastFailure: uninstalled", attempts: 1,
			remediation: helmv2.InstallRemediation{RemediateLastFailure: ptr(true)}},
		{name: "retries: the last failure is uninstalled", attempts: 2, remediation: helmv2.InstallRemediation{Retries: 1}},
		{name: "retries, remediateLastFailure false: the last failure is kept", attempts: 2, history: []string{"failed"},
			remediation: helmv2.InstallRemediation{Retries: 1, RemediateLastFailure: ptr(false)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, chartFiles(t, "app", "1.0.0"))
			obj := webRelease(installRemediation(tc.remediation))
			w.kube.failWaits = forever
			var outcome loop.Outcome
			for range tc.attempts {
				_, outcome = w.reconcile(t, obj)
			}
			if outcome != loop.Stalled {
				t.Errorf("after %d failure(s): outcome %v, want Stalled", tc.attempts, outcome)
			}
			wantHistory(t, w, tc.history...)
		})
	}
}

func TestHelmRelease_FailedUpgradeIsRolledBack(t *testing.T) {
	w := newWorld(t, chartFiles(t, "app", "1.0.0"))
	obj := webRelease(upgradeRemediation(helmv2.UpgradeRemediation{Retries: 1}))
	deployed(t, w, obj)
	changeValues(obj, `{"replicaCount":2}`)
	w.kube.failWaits = 1
	if res, outcome := w.reconcile(t, obj); outcome != loop.Failed || !strings.Contains(res.Err.Error(), "Helm upgrade failed") {
		t.Fatalf("failed upgrade: outcome %v, %v; want a failure to retry", outcome, res.Err)
	}
	wantCondition(t, obj, helm.RemediatedCondition, metav1.ConditionTrue, helm.RollbackSucceededReason)
	hist := w.history(t, "apps", "web")
	if got := statuses(hist); !slices.Equal(got, []string{"superseded", "failed", "deployed"}) || hist[2].Config["replicaCount"] != nil {
		t.Errorf("revisions %v, the deployed one with values %v; want revision 3 rolled back to revision 1", got, hist[len(hist)-1].Config)
	}

	if res, outcome := w.reconcile(t, obj); outcome != loop.Succeeded {
		t.Fatalf("retried upgrade: %v", res.Err)
	}
	wantCondition(t, obj, helm.ReleasedCondition, metav1.ConditionTrue, helm.UpgradeSucceededReason)
	wantHistory(t, w, "superseded", "failed", "superseded", "deployed")
}

// TestHelmRelease_RollbackSkipsFailedRevisions: a remediation rolls back to
// the last revision that deployed, not to the one before the current (Helm's
// default), which may have failed too.
func TestHelmRelease_RollbackSkipsFailedRevisions(t *testing.T) {
	w := newWorld(t, chartFiles(t, "app", "1.0.0"))
	obj := webRelease(upgradeRemediation(helmv2.UpgradeRemediation{Retries: 3}))
	deployed(t, w, obj)
	// Revision 2 fails and is left failed (remediation of the last
	// failure is off by default), revision 3 fails and is rolled back.
	changeValues(obj, `{"replicaCount":2}`)
	obj.Spec.Upgrade.Remediation.Strategy = nil
	w.kube.failWaits = 1
	noRemediation := *obj.Spec.Upgrade.Remediation
	noRemediation.Retries = 0
	saved := obj.Spec.Upgrade.Remediation
	obj.Spec.Upgrade.Remediation = &noRemediation
	w.reconcile(t, obj)
	obj.Spec.Upgrade.Remediation = saved
	obj.Status.UpgradeFailures = 0
	changeValues(obj, `{"replicaCount":3}`)
	w.kube.failWaits = 1
	w.reconcile(t, obj)
	hist := w.history(t, "apps", "web")
	last := hist[len(hist)-1]
	if last.Info.Status.String() != "deployed" || last.Config["replicaCount"] != nil {
		t.Fatalf("revisions %v; the rollback deployed values %v, want revision 1's (no replicaCount)", statuses(hist), last.Config)
	}
}

func TestHelmRelease_FailedUpgradeIsUninstalledWithTheUninstallStrategy(t *testing.T) {
	w := newWorld(t, chartFiles(t, "app", "1.0.0"))
	obj := webRelease(upgradeRemediation(helmv2.UpgradeRemediation{Retries: 1,
		Strategy: ptr(helmv2.RemediationStrategy(helm.UninstallRemediationStrategy))}))
	deployed(t, w, obj)
	changeValues(obj, `{"replicaCount":2}`)
	w.kube.failWaits = 1
	if _, outcome := w.reconcile(t, obj); outcome != loop.Failed {
		t.Fatalf("failed upgrade: outcome %v, want Failed", outcome)
	}
	wantCondition(t, obj, helm.RemediatedCondition, metav1.ConditionTrue, helm.UninstallSucceededReason)
	wantHistory(t, w)

	if res, outcome := w.reconcile(t, obj); outcome != loop.Succeeded {
		t.Fatalf("after the uninstall: %v", res.Err)
	}
	wantCondition(t, obj, helm.ReleasedCondition, metav1.ConditionTrue, helm.InstallSucceededReason)
	wantHistory(t, w, "deployed")
}

func TestHelmRelease_UpgradeRemediateLastFailure(t *testing.T) {
	for _, tc := range []struct {
		name        string
		remediation helmv2.UpgradeRemediation
		history     []string
	}{
		{name: "no retries: the failure is kept", history: []string{"deployed", "failed"}},
		{name: "no retries, remediateLastFailure: rolled back", history: []string{"superseded", "failed", "deployed"},
			remediation: helmv2.UpgradeRemediation{RemediateLastFailure: ptr(true)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, chartFiles(t, "app", "1.0.0"))
			obj := webRelease(upgradeRemediation(tc.remediation))
			deployed(t, w, obj)
			changeValues(obj, `{"replicaCount":2}`)
			w.kube.failWaits = 1
			if _, outcome := w.reconcile(t, obj); outcome != loop.Stalled {
				t.Errorf("outcome %v, want Stalled", outcome)
			}
			wantHistory(t, w, tc.history...)
		})
	}
}

func TestHelmRelease_TestFailuresFailTheReleaseUnlessIgnored(t *testing.T) {
	testsOn := func(s *helmv2.HelmReleaseSpec) { s.Test = &helmv2.Test{Enable: true} }
	for _, tc := range []struct {
		name    string
		spec    []func(*helmv2.HelmReleaseSpec)
		upgrade bool
		ignored bool
	}{
		{name: "install", spec: []func(*helmv2.HelmReleaseSpec){testsOn}},
		{name: "install, test.ignoreFailures", ignored: true,
			spec: []func(*helmv2.HelmReleaseSpec){func(s *helmv2.HelmReleaseSpec) { s.Test = &helmv2.Test{Enable: true, IgnoreFailures: true} }}},
		{name: "install, install.remediation.ignoreTestFailures", ignored: true,
			spec: []func(*helmv2.HelmReleaseSpec){testsOn, installRemediation(helmv2.InstallRemediation{IgnoreTestFailures: ptr(true)})}},
		{name: "install.remediation.ignoreTestFailures false over test.ignoreFailures",
			spec: []func(*helmv2.HelmReleaseSpec){func(s *helmv2.HelmReleaseSpec) { s.Test = &helmv2.Test{Enable: true, IgnoreFailures: true} },
				installRemediation(helmv2.InstallRemediation{IgnoreTestFailures: ptr(false)})}},
		{name: "upgrade", upgrade: true, spec: []func(*helmv2.HelmReleaseSpec){testsOn}},
		{name: "upgrade, upgrade.remediation.ignoreTestFailures", upgrade: true, ignored: true,
			spec: []func(*helmv2.HelmReleaseSpec){testsOn, upgradeRemediation(helmv2.UpgradeRemediation{IgnoreTestFailures: ptr(true)})}},
		{name: "upgrade, install.remediation.ignoreTestFailures is the install's", upgrade: true,
			spec: []func(*helmv2.HelmReleaseSpec){testsOn, installRemediation(helmv2.InstallRemediation{IgnoreTestFailures: ptr(true)})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, chartFiles(t, "app", "1.0.0", "smoke"))
			obj := webRelease(tc.spec...)
			act, failed := helm.InstallSucceededReason, helm.InstallFailedReason
			if tc.upgrade {
				deployed(t, w, obj)
				wantCondition(t, obj, helm.TestSuccessCondition, metav1.ConditionTrue, helm.TestSucceededReason)
				changeValues(obj, `{"replicaCount":2}`)
				act, failed = helm.UpgradeSucceededReason, helm.UpgradeFailedReason
			}
			w.kube.WatchUntilReadyError = errWait
			res, outcome := w.reconcile(t, obj)
			wantCondition(t, obj, helm.TestSuccessCondition, metav1.ConditionFalse, helm.TestFailedReason)
			if tc.ignored {
				if outcome != loop.Succeeded {
					t.Fatalf("ignored test failure: %v", res.Err)
				}
				wantCondition(t, obj, helm.ReleasedCondition, metav1.ConditionTrue, act)
				wantCondition(t, obj, common.ReadyCondition, metav1.ConditionTrue, "")
				if obj.Status.Failures != 0 {
					t.Errorf("failures %d, want 0", obj.Status.Failures)
				}
				return
			}
			if outcome == loop.Succeeded || !strings.Contains(res.Err.Error(), "tests failed") {
				t.Fatalf("test failure: outcome %v, %v; want the release to fail", outcome, res.Err)
			}
			wantCondition(t, obj, helm.ReleasedCondition, metav1.ConditionFalse, failed)
			if obj.Status.Failures != 1 {
				t.Errorf("failures %d, want 1", obj.Status.Failures)
			}
		})
	}
}

func TestHelmRelease_RetryOnFailureRetriesWithoutRemediationOrStall(t *testing.T) {
	retry := func(interval *common.Duration) *helmv2.InstallStrategy {
		return &helmv2.InstallStrategy{Name: helm.RetryOnFailureStrategy, RetryInterval: interval}
	}
	t.Run("install", func(t *testing.T) {
		w := newWorld(t, chartFiles(t, "app", "1.0.0"))
		obj := webRelease(func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{Strategy: retry(dur("2m"))} })
		w.kube.failWaits = forever
		for i := range 3 {
			res, outcome := w.reconcile(t, obj)
			if outcome != loop.Failed || res.RequeueAfter != 2*time.Minute {
				t.Fatalf("attempt %d: outcome %v, requeue after %s; want Failed, again after strategy.retryInterval 2m", i+1, outcome, res.RequeueAfter)
			}
		}
		if obj.Status.InstallFailures != 3 {
			t.Errorf("install failures %d, want 3 (with retries 0)", obj.Status.InstallFailures)
		}
		wantHistory(t, w, "failed") // not remediated by the last attempt
	})
	t.Run("upgrade", func(t *testing.T) {
		w := newWorld(t, chartFiles(t, "app", "1.0.0"))
		obj := webRelease(func(s *helmv2.HelmReleaseSpec) {
			s.Upgrade = &helmv2.Upgrade{Strategy: &helmv2.UpgradeStrategy{Name: helm.RetryOnFailureStrategy, RetryInterval: dur("3m")},
				Remediation: &helmv2.UpgradeRemediation{Retries: 1}}
		})
		deployed(t, w, obj)
		changeValues(obj, `{"replicaCount":2}`)
		w.kube.failWaits = forever
		for i := range 3 {
			res, outcome := w.reconcile(t, obj)
			if outcome != loop.Failed || res.RequeueAfter != 3*time.Minute {
				t.Fatalf("attempt %d: outcome %v, requeue after %s; want Failed, again after 3m", i+1, outcome, res.RequeueAfter)
			}
		}
		wantNoCondition(t, obj, helm.RemediatedCondition)
		wantHistory(t, w, "deployed", "failed", "failed", "failed")
	})
	t.Run("retryInterval defaults to 5m", func(t *testing.T) {
		w := newWorld(t, chartFiles(t, "app", "1.0.0"))
		obj := webRelease(func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{Strategy: retry(nil)} })
		w.kube.failWaits = forever
		if res, outcome := w.reconcile(t, obj); outcome != loop.Failed || res.RequeueAfter != 5*time.Minute {
			t.Errorf("outcome %v, requeue after %s; want Failed, 5m", outcome, res.RequeueAfter)
		}
	})
	t.Run("RemediateOnFailure", func(t *testing.T) {
		w := newWorld(t, chartFiles(t, "app", "1.0.0"))
		obj := webRelease(func(s *helmv2.HelmReleaseSpec) {
			s.Install = &helmv2.Install{Strategy: &helmv2.InstallStrategy{Name: helm.RemediateOnFailureStrategy, RetryInterval: dur("2m")}}
		})
		w.kube.failWaits = forever
		if res, outcome := w.reconcile(t, obj); outcome != loop.Stalled || res.RequeueAfter != 10*time.Minute {
			t.Errorf("outcome %v, requeue after %s; want Stalled, spec.interval", outcome, res.RequeueAfter)
		}
	})
}

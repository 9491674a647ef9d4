package helm

import (
	"slices"
	"testing"

	rcommon "helm.sh/helm/v4/pkg/release/common"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// Behaviour of the release state machine on Helm's fakes (fakes_test.go).

// forever makes every wait of the release's objects fail.
const forever = 1 << 20

// changeValues makes the deployed release out of sync: the next run
// upgrades.
func changeValues(obj *helmv2.HelmRelease, raw string) {
	obj.Spec.Values = &common.JSON{Raw: []byte(raw)}
	obj.Generation++
}

func wantCondition(t *testing.T, obj *helmv2.HelmRelease, typ string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	c := findCondition(obj, typ)
	if c == nil || c.Status != status || (reason != "" && c.Reason != reason) {
		t.Errorf("%s = %+v, want %s %s", typ, c, status, reason)
	}
}

func wantNoCondition(t *testing.T, obj *helmv2.HelmRelease, typ string) {
	t.Helper()
	if c := findCondition(obj, typ); c != nil {
		t.Errorf("%s = %+v, want none", typ, c)
	}
}

func wantHistory(t *testing.T, w *world, want ...string) {
	t.Helper()
	if got := statuses(w.history(t, "apps", "web")); !slices.Equal(got, want) {
		t.Errorf("revisions %v, want %v", got, want)
	}
}

// deployed installs obj's release successfully.
func deployed(t *testing.T, w *world, obj *helmv2.HelmRelease) {
	t.Helper()
	if res, outcome := w.reconcile(t, obj); outcome != loop.Succeeded {
		t.Fatalf("first install: %v", res.Err)
	}
}

func TestHelmRelease_TestFiltersPickTheTests(t *testing.T) {
	for _, tc := range []struct {
		name    string
		filters []helmv2.Filter
		ran     []string
	}{
		{name: "all", ran: []string{"slow", "smoke"}},
		{name: "exclude", filters: []helmv2.Filter{{Name: "slow", Exclude: true}}, ran: []string{"smoke"}},
		{name: "include", filters: []helmv2.Filter{{Name: "slow"}}, ran: []string{"slow"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, chartFiles(t, "app", "1.0.0", "smoke", "slow"))
			obj := webRelease(func(s *helmv2.HelmReleaseSpec) {
				s.Test = &helmv2.Test{Enable: true, Filters: &tc.filters}
			})
			deployed(t, w, obj)
			hist := w.history(t, "apps", "web")
			var ran []string
			for _, h := range testHooks(hist[len(hist)-1]) {
				if h.LastRun.Phase == "Succeeded" {
					ran = append(ran, h.Name)
				}
			}
			slices.Sort(ran)
			if !slices.Equal(ran, tc.ran) {
				t.Errorf("tests that ran: %v, want %v", ran, tc.ran)
			}
			// The tests ran for this revision: an in-sync run does not
			// run them again.
			w.kube.WatchUntilReadyError = errWait
			if res, outcome := w.reconcile(t, obj); outcome != loop.Succeeded {
				t.Errorf("in-sync run: %v", res.Err)
			}
		})
	}
}

func TestHelmRelease_ChartNameChange(t *testing.T) {
	for _, tc := range []struct {
		strategy string
		history  []string
		version  int
	}{
		{strategy: "", history: []string{"deployed"}, version: 1},
		{strategy: helm.ChartNameChangeReinstall, history: []string{"deployed"}, version: 1},
		{strategy: helm.ChartNameChangeInPlaceUpdate, history: []string{"superseded", "deployed"}, version: 2},
	} {
		t.Run("strategy "+tc.strategy, func(t *testing.T) {
			w := newWorld(t, chartFiles(t, "app", "1.0.0"))
			obj := webRelease(func(s *helmv2.HelmReleaseSpec) { s.Upgrade = &helmv2.Upgrade{ChartNameChangeStrategy: tc.strategy} })
			deployed(t, w, obj)
			w.publish(t, chartFiles(t, "other", "1.0.0"))
			if res, outcome := w.reconcile(t, obj); outcome != loop.Succeeded {
				t.Fatalf("new chart: %v", res.Err)
			}
			hist := w.history(t, "apps", "web")
			last := hist[len(hist)-1]
			if got := statuses(hist); !slices.Equal(got, tc.history) || last.Chart.Metadata.Name != "other" || last.Version != tc.version {
				t.Errorf("revisions %v, last v%d of chart %s; want %v, v%d of other", got, last.Version, last.Chart.Metadata.Name, tc.history, tc.version)
			}
		})
	}
}

func TestHelmRelease_ForceAtUpgradesAnInSyncRelease(t *testing.T) {
	w := newWorld(t, chartFiles(t, "app", "1.0.0"))
	obj := webRelease()
	deployed(t, w, obj)

	obj.Annotations = map[string]string{helm.ForceRequestAnnotation: "a"}
	w.reconcile(t, obj)
	wantHistory(t, w, "deployed") // forceAt without the same requestedAt is no request

	obj.Annotations[common.ReconcileRequestAnnotation] = "a"
	if res, outcome := w.reconcile(t, obj); outcome != loop.Succeeded {
		t.Fatal(res.Err)
	}
	wantHistory(t, w, "superseded", "deployed")
	wantCondition(t, obj, helm.ReleasedCondition, metav1.ConditionTrue, helm.UpgradeSucceededReason)
	if obj.Status.LastHandledForceAt != "a" {
		t.Errorf("lastHandledForceAt %q", obj.Status.LastHandledForceAt)
	}
	w.reconcile(t, obj)
	wantHistory(t, w, "superseded", "deployed") // handled once
}

func TestHelmRelease_ResetAtRetriesAStalledRelease(t *testing.T) {
	w := newWorld(t, chartFiles(t, "app", "1.0.0"))
	obj := webRelease()
	w.kube.failWaits = 1
	if _, outcome := w.reconcile(t, obj); outcome != loop.Stalled {
		t.Fatalf("outcome %v, want Stalled (no retries)", outcome)
	}
	if _, outcome := w.reconcile(t, obj); outcome != loop.Stalled {
		t.Fatalf("outcome %v, want still Stalled", outcome)
	}
	obj.Annotations = map[string]string{helm.ResetRequestAnnotation: "r", common.ReconcileRequestAnnotation: "r"}
	if res, outcome := w.reconcile(t, obj); outcome != loop.Succeeded {
		t.Fatalf("after resetAt: %v", res.Err)
	}
	if obj.Status.LastHandledResetAt != "r" || obj.Status.InstallFailures != 0 {
		t.Errorf("lastHandledResetAt %q, install failures %d", obj.Status.LastHandledResetAt, obj.Status.InstallFailures)
	}
	// A failed first install is replaced: uninstalled, then installed.
	wantHistory(t, w, "deployed")
}

func TestHelmRelease_StalePendingReleaseIsMarkedFailedThenHandled(t *testing.T) {
	t.Run("pending upgrade is upgraded", func(t *testing.T) {
		w := newWorld(t, chartFiles(t, "app", "1.0.0"))
		obj := webRelease()
		deployed(t, w, obj)
		w.storePending(t, 2, rcommon.StatusPendingUpgrade)
		if res, outcome := w.reconcile(t, obj); outcome != loop.Succeeded {
			t.Fatal(res.Err)
		}
		wantHistory(t, w, "superseded", "failed", "deployed")
	})
	t.Run("pending install is installed again", func(t *testing.T) {
		w := newWorld(t, chartFiles(t, "app", "1.0.0"))
		obj := webRelease()
		w.storePending(t, 1, rcommon.StatusPendingInstall)
		if res, outcome := w.reconcile(t, obj); outcome != loop.Succeeded {
			t.Fatal(res.Err)
		}
		wantCondition(t, obj, helm.ReleasedCondition, metav1.ConditionTrue, helm.InstallSucceededReason)
		wantHistory(t, w, "deployed")
	})
}

// TestHelmRelease_StorageAndTargetNamespaces: Helm's configuration gets
// the storage namespace (where the real one keeps its Secrets; the
// memory driver files releases under their own namespace, so the test
// stops at what the worker asks for) and the release namespace.
func TestHelmRelease_StorageAndTargetNamespaces(t *testing.T) {
	w := newWorld(t, chartFiles(t, "app", "1.0.0"))
	obj := webRelease(func(s *helmv2.HelmReleaseSpec) { s.StorageNamespace, s.TargetNamespace = "helm", "prod" })
	deployed(t, w, obj)
	if want := [2]string{"prod", "helm"}; w.namespaces[0] != want {
		t.Errorf("Helm configured with release and storage namespaces %v, want %v", w.namespaces[0], want)
	}
	if hist := w.history(t, "prod", "prod-web"); len(hist) != 1 || hist[0].Namespace != "prod" {
		t.Errorf("no release prod-web in namespace prod: %v", statuses(hist))
	}
	if obj.Status.StorageNamespace != "helm" {
		t.Errorf("status.storageNamespace %q", obj.Status.StorageNamespace)
	}

	w = newWorld(t, chartFiles(t, "app", "1.0.0"))
	obj = webRelease()
	deployed(t, w, obj)
	if want := [2]string{"apps", "apps"}; w.namespaces[0] != want || obj.Status.StorageNamespace != "apps" {
		t.Errorf("by default: namespaces %v, status.storageNamespace %q; want the HelmRelease's", w.namespaces[0], obj.Status.StorageNamespace)
	}
}

func TestHelmRelease_MaxHistoryPrunesOldRevisions(t *testing.T) {
	w := newWorld(t, chartFiles(t, "app", "1.0.0"))
	obj := webRelease(func(s *helmv2.HelmReleaseSpec) { s.MaxHistory = ptr(2) })
	deployed(t, w, obj)
	for i := range 3 {
		changeValues(obj, `{"replicaCount":`+string(rune('2'+i))+`}`)
		deployed(t, w, obj)
	}
	hist := w.history(t, "apps", "web")
	if got := statuses(hist); !slices.Equal(got, []string{"superseded", "deployed"}) || hist[1].Version != 4 {
		t.Errorf("revisions %v; want the last 2 of 4", got)
	}
}

func TestHelmRelease_DisableWaitDoesNotWait(t *testing.T) {
	w := newWorld(t, chartFiles(t, "app", "1.0.0"))
	obj := webRelease(func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{DisableWait: true} })
	w.kube.failWaits = forever
	deployed(t, w, obj)
	if w.kube.failWaits != forever {
		t.Error("the install waited for the release's objects")
	}
}

func TestHelmRelease_UninstallKeepHistory(t *testing.T) {
	w := newWorld(t, chartFiles(t, "app", "1.0.0"))
	obj := webRelease(installRemediation(helmv2.InstallRemediation{Retries: 1}),
		func(s *helmv2.HelmReleaseSpec) { s.Uninstall = &helmv2.Uninstall{KeepHistory: true} })
	w.kube.failWaits = 1
	w.reconcile(t, obj)
	wantHistory(t, w, "uninstalled")

	// The kept, uninstalled revision holds the name: the retry must reuse
	// it (Helm's Replace), not fail with "cannot reuse a name".
	if res, outcome := w.reconcile(t, obj); outcome != loop.Succeeded {
		t.Fatalf("install after an uninstall that kept history: %v", res.Err)
	}
	wantHistory(t, w, "superseded", "deployed")
}

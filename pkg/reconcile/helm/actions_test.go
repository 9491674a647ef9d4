package helm

import (
	"context"
	"reflect"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
)

// The action builders are compared field by field through a view of what
// each Helm action takes from the spec; a case changes the spec and the
// fields it expects to change from the defaults.

func dur(s string) *common.Duration { d := common.Duration(s); return &d }
func ptr[T any](v T) *T             { return &v }

type installView struct {
	ReleaseName, Namespace   string
	Timeout                  time.Duration
	WaitStrategy             kube.WaitStrategy
	WaitForJobs              bool
	DisableHooks             bool
	DisableOpenAPIValidation bool
	SkipSchemaValidation     bool
	Replace                  bool
	CreateNamespace          bool
	TakeOwnership            bool
	ServerSideApply          bool
	ForceConflicts           bool
	SkipCRDs                 bool
	PostRenderStrategy       action.PostRenderStrategy
}

func TestInstallAction_MapsFluxFieldsOntoHelm(t *testing.T) {
	defaults := installView{ReleaseName: "web", Namespace: "apps", Timeout: 5 * time.Minute,
		WaitStrategy: kube.StatusWatcherStrategy, WaitForJobs: true, TakeOwnership: true,
		ServerSideApply: true, ForceConflicts: true, PostRenderStrategy: action.PostRenderStrategyCombined}
	for _, tc := range []struct {
		name string
		spec func(*helmv2.HelmReleaseSpec)
		want func(*installView)
	}{
		{"defaults", func(*helmv2.HelmReleaseSpec) {}, func(*installView) {}},
		{"spec.timeout", func(s *helmv2.HelmReleaseSpec) { s.Timeout = dur("2m") },
			func(v *installView) { v.Timeout = 2 * time.Minute }},
		{"install.timeout over spec.timeout", func(s *helmv2.HelmReleaseSpec) {
			s.Timeout, s.Install = dur("2m"), &helmv2.Install{Timeout: dur("30s")}
		}, func(v *installView) { v.Timeout = 30 * time.Second }},
		{"disableWait waits for hooks only", func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{DisableWait: true} },
			func(v *installView) { v.WaitStrategy, v.WaitForJobs = kube.HookOnlyStrategy, false }},
		{"waitStrategy legacy", func(s *helmv2.HelmReleaseSpec) { s.WaitStrategy = &helmv2.WaitStrategy{Name: helm.WaitStrategyLegacy} },
			func(v *installView) { v.WaitStrategy = kube.LegacyStrategy }},
		{"waitStrategy poller", func(s *helmv2.HelmReleaseSpec) { s.WaitStrategy = &helmv2.WaitStrategy{Name: helm.WaitStrategyPoller} },
			func(*installView) {}},
		{"disableWait over waitStrategy", func(s *helmv2.HelmReleaseSpec) {
			s.WaitStrategy, s.Install = &helmv2.WaitStrategy{Name: helm.WaitStrategyLegacy}, &helmv2.Install{DisableWait: true}
		}, func(v *installView) { v.WaitStrategy, v.WaitForJobs = kube.HookOnlyStrategy, false }},
		{"disableWaitForJobs", func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{DisableWaitForJobs: true} },
			func(v *installView) { v.WaitForJobs = false }},
		{"disableHooks", func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{DisableHooks: true} },
			func(v *installView) { v.DisableHooks = true }},
		{"disableOpenAPIValidation", func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{DisableOpenAPIValidation: true} },
			func(v *installView) { v.DisableOpenAPIValidation = true }},
		{"disableSchemaValidation", func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{DisableSchemaValidation: true} },
			func(v *installView) { v.SkipSchemaValidation = true }},
		{"replace", func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{Replace: true} },
			func(v *installView) { v.Replace = true }},
		{"createNamespace", func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{CreateNamespace: true} },
			func(v *installView) { v.CreateNamespace = true }},
		{"disableTakeOwnership", func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{DisableTakeOwnership: true} },
			func(v *installView) { v.TakeOwnership = false }},
		{"serverSideApply false", func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{ServerSideApply: ptr(false)} },
			func(v *installView) { v.ServerSideApply, v.ForceConflicts = false, false }},
		{"serverSideApply true", func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{ServerSideApply: ptr(true)} },
			func(*installView) {}},
		{"skipCRDs", func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{SkipCRDs: true} },
			func(v *installView) { v.SkipCRDs = true }},
		{"crds Skip", func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{CRDs: crdsSkip} },
			func(v *installView) { v.SkipCRDs = true }},
		{"crds CreateReplace is applied before Helm", func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{CRDs: crdsCreateReplace} },
			func(v *installView) { v.SkipCRDs = true }},
		{"crds Create over skipCRDs", func(s *helmv2.HelmReleaseSpec) { s.Install = &helmv2.Install{CRDs: crdsCreate, SkipCRDs: true} },
			func(*installView) {}},
		{"targetNamespace", func(s *helmv2.HelmReleaseSpec) { s.TargetNamespace = "prod" },
			func(v *installView) { v.ReleaseName, v.Namespace = "prod-web", "prod" }},
		{"releaseName", func(s *helmv2.HelmReleaseSpec) { s.ReleaseName, s.TargetNamespace = "mine", "prod" },
			func(v *installView) { v.ReleaseName, v.Namespace = "mine", "prod" }},
		{"postRenderStrategy nohooks", func(s *helmv2.HelmReleaseSpec) { s.PostRenderStrategy = helm.PostRenderNoHooks },
			func(v *installView) { v.PostRenderStrategy = action.PostRenderStrategyNoHooks }},
		{"postRenderStrategy separate", func(s *helmv2.HelmReleaseSpec) { s.PostRenderStrategy = helm.PostRenderSeparate },
			func(v *installView) { v.PostRenderStrategy = action.PostRenderStrategySeparate }},
		{"postRenderStrategy combined", func(s *helmv2.HelmReleaseSpec) { s.PostRenderStrategy = helm.PostRenderCombined },
			func(*installView) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := hr("web")
			tc.spec(&obj.Spec)
			a := installAction(context.Background(), action.NewConfiguration(), obj)
			got := installView{a.ReleaseName, a.Namespace, a.Timeout, a.WaitStrategy, a.WaitForJobs, a.DisableHooks,
				a.DisableOpenAPIValidation, a.SkipSchemaValidation, a.Replace, a.CreateNamespace, a.TakeOwnership,
				a.ServerSideApply, a.ForceConflicts, a.SkipCRDs, a.PostRenderStrategy}
			want := defaults
			tc.want(&want)
			if got != want {
				t.Errorf("install\n got %+v\nwant %+v", got, want)
			}
			if len(a.WaitOptions) != 1 || a.Description != "Install by the HelmRelease apps/web" {
				t.Errorf("wait options %d, description %q", len(a.WaitOptions), a.Description)
			}
		})
	}
}

type upgradeView struct {
	Namespace                string
	Timeout                  time.Duration
	WaitStrategy             kube.WaitStrategy
	WaitForJobs              bool
	DisableHooks             bool
	DisableOpenAPIValidation bool
	SkipSchemaValidation     bool
	ForceReplace             bool
	CleanupOnFail            bool
	TakeOwnership            bool
	ResetValues, ReuseValues bool
	ServerSideApply          string
	ForceConflicts           bool
	MaxHistory               int
	SkipCRDs                 bool
	PostRenderStrategy       action.PostRenderStrategy
}

func TestUpgradeAction_MapsFluxFieldsOntoHelm(t *testing.T) {
	defaults := upgradeView{Namespace: "apps", Timeout: 5 * time.Minute, WaitStrategy: kube.StatusWatcherStrategy,
		WaitForJobs: true, TakeOwnership: true, ResetValues: true, ServerSideApply: "auto", ForceConflicts: true,
		MaxHistory: 5, SkipCRDs: true, PostRenderStrategy: action.PostRenderStrategyCombined}
	up := func(u helmv2.Upgrade) func(*helmv2.HelmReleaseSpec) {
		return func(s *helmv2.HelmReleaseSpec) { s.Upgrade = &u }
	}
	for _, tc := range []struct {
		name string
		spec func(*helmv2.HelmReleaseSpec)
		want func(*upgradeView)
	}{
		{"defaults", func(*helmv2.HelmReleaseSpec) {}, func(*upgradeView) {}},
		{"spec.timeout", func(s *helmv2.HelmReleaseSpec) { s.Timeout = dur("90s") },
			func(v *upgradeView) { v.Timeout = 90 * time.Second }},
		{"upgrade.timeout over spec.timeout", func(s *helmv2.HelmReleaseSpec) {
			s.Timeout, s.Upgrade = dur("90s"), &helmv2.Upgrade{Timeout: dur("10m")}
		}, func(v *upgradeView) { v.Timeout = 10 * time.Minute }},
		{"disableWait", up(helmv2.Upgrade{DisableWait: true}),
			func(v *upgradeView) { v.WaitStrategy, v.WaitForJobs = kube.HookOnlyStrategy, false }},
		{"waitStrategy legacy", func(s *helmv2.HelmReleaseSpec) { s.WaitStrategy = &helmv2.WaitStrategy{Name: helm.WaitStrategyLegacy} },
			func(v *upgradeView) { v.WaitStrategy = kube.LegacyStrategy }},
		{"disableWaitForJobs", up(helmv2.Upgrade{DisableWaitForJobs: true}), func(v *upgradeView) { v.WaitForJobs = false }},
		{"disableHooks", up(helmv2.Upgrade{DisableHooks: true}), func(v *upgradeView) { v.DisableHooks = true }},
		{"disableOpenAPIValidation", up(helmv2.Upgrade{DisableOpenAPIValidation: true}),
			func(v *upgradeView) { v.DisableOpenAPIValidation = true }},
		{"disableSchemaValidation", up(helmv2.Upgrade{DisableSchemaValidation: true}),
			func(v *upgradeView) { v.SkipSchemaValidation = true }},
		{"force", up(helmv2.Upgrade{Force: true}), func(v *upgradeView) { v.ForceReplace = true }},
		{"cleanupOnFail", up(helmv2.Upgrade{CleanupOnFail: true}), func(v *upgradeView) { v.CleanupOnFail = true }},
		{"disableTakeOwnership", up(helmv2.Upgrade{DisableTakeOwnership: true}), func(v *upgradeView) { v.TakeOwnership = false }},
		{"preserveValues reuses the release's values", up(helmv2.Upgrade{PreserveValues: true}),
			func(v *upgradeView) { v.ResetValues, v.ReuseValues = false, true }},
		{"serverSideApply enabled", up(helmv2.Upgrade{ServerSideApply: helm.ServerSideApplyEnabled}),
			func(v *upgradeView) { v.ServerSideApply = "true" }},
		{"serverSideApply disabled", up(helmv2.Upgrade{ServerSideApply: helm.ServerSideApplyDisabled}),
			func(v *upgradeView) { v.ServerSideApply, v.ForceConflicts = "false", false }},
		{"serverSideApply auto", up(helmv2.Upgrade{ServerSideApply: helm.ServerSideApplyAuto}), func(*upgradeView) {}},
		{"maxHistory", func(s *helmv2.HelmReleaseSpec) { s.MaxHistory = ptr(2) }, func(v *upgradeView) { v.MaxHistory = 2 }},
		{"maxHistory 0 keeps all", func(s *helmv2.HelmReleaseSpec) { s.MaxHistory = ptr(0) }, func(v *upgradeView) { v.MaxHistory = 0 }},
		{"crds never by Helm", up(helmv2.Upgrade{CRDs: crdsCreate}), func(*upgradeView) {}},
		{"targetNamespace", func(s *helmv2.HelmReleaseSpec) { s.TargetNamespace = "prod" }, func(v *upgradeView) { v.Namespace = "prod" }},
		{"postRenderStrategy nohooks", func(s *helmv2.HelmReleaseSpec) { s.PostRenderStrategy = helm.PostRenderNoHooks },
			func(v *upgradeView) { v.PostRenderStrategy = action.PostRenderStrategyNoHooks }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := hr("web")
			tc.spec(&obj.Spec)
			a := upgradeAction(context.Background(), action.NewConfiguration(), obj)
			got := upgradeView{a.Namespace, a.Timeout, a.WaitStrategy, a.WaitForJobs, a.DisableHooks, a.DisableOpenAPIValidation,
				a.SkipSchemaValidation, a.ForceReplace, a.CleanupOnFail, a.TakeOwnership, a.ResetValues, a.ReuseValues,
				a.ServerSideApply, a.ForceConflicts, a.MaxHistory, a.SkipCRDs, a.PostRenderStrategy}
			want := defaults
			tc.want(&want)
			if got != want {
				t.Errorf("upgrade\n got %+v\nwant %+v", got, want)
			}
			if len(a.WaitOptions) != 1 || a.Description != "Upgrade by the HelmRelease apps/web" {
				t.Errorf("wait options %d, description %q", len(a.WaitOptions), a.Description)
			}
		})
	}
}

type rollbackView struct {
	Timeout         time.Duration
	WaitStrategy    kube.WaitStrategy
	WaitForJobs     bool
	DisableHooks    bool
	ForceReplace    bool
	CleanupOnFail   bool
	ServerSideApply string
	ForceConflicts  bool
	MaxHistory      int
}

func TestRollbackAction_MapsFluxFieldsOntoHelm(t *testing.T) {
	defaults := rollbackView{Timeout: 5 * time.Minute, WaitStrategy: kube.StatusWatcherStrategy, WaitForJobs: true,
		ServerSideApply: "auto", ForceConflicts: true, MaxHistory: 5}
	rb := func(r helmv2.Rollback) func(*helmv2.HelmReleaseSpec) {
		return func(s *helmv2.HelmReleaseSpec) { s.Rollback = &r }
	}
	for _, tc := range []struct {
		name string
		spec func(*helmv2.HelmReleaseSpec)
		want func(*rollbackView)
	}{
		{"defaults", func(*helmv2.HelmReleaseSpec) {}, func(*rollbackView) {}},
		{"spec.timeout", func(s *helmv2.HelmReleaseSpec) { s.Timeout = dur("1m") }, func(v *rollbackView) { v.Timeout = time.Minute }},
		{"rollback.timeout over spec.timeout", func(s *helmv2.HelmReleaseSpec) {
			s.Timeout, s.Rollback = dur("1m"), &helmv2.Rollback{Timeout: dur("3m")}
		}, func(v *rollbackView) { v.Timeout = 3 * time.Minute }},
		{"disableWait", rb(helmv2.Rollback{DisableWait: true}),
			func(v *rollbackView) { v.WaitStrategy, v.WaitForJobs = kube.HookOnlyStrategy, false }},
		{"waitStrategy legacy", func(s *helmv2.HelmReleaseSpec) { s.WaitStrategy = &helmv2.WaitStrategy{Name: helm.WaitStrategyLegacy} },
			func(v *rollbackView) { v.WaitStrategy = kube.LegacyStrategy }},
		{"disableWaitForJobs", rb(helmv2.Rollback{DisableWaitForJobs: true}), func(v *rollbackView) { v.WaitForJobs = false }},
		{"disableHooks", rb(helmv2.Rollback{DisableHooks: true}), func(v *rollbackView) { v.DisableHooks = true }},
		{"recreate replaces", rb(helmv2.Rollback{Recreate: true}), func(v *rollbackView) { v.ForceReplace = true }},
		{"force replaces", rb(helmv2.Rollback{Force: true}), func(v *rollbackView) { v.ForceReplace = true }},
		{"cleanupOnFail", rb(helmv2.Rollback{CleanupOnFail: true}), func(v *rollbackView) { v.CleanupOnFail = true }},
		{"serverSideApply enabled", rb(helmv2.Rollback{ServerSideApply: helm.ServerSideApplyEnabled}),
			func(v *rollbackView) { v.ServerSideApply = "true" }},
		{"serverSideApply disabled", rb(helmv2.Rollback{ServerSideApply: helm.ServerSideApplyDisabled}),
			func(v *rollbackView) { v.ServerSideApply, v.ForceConflicts = "false", false }},
		{"maxHistory", func(s *helmv2.HelmReleaseSpec) { s.MaxHistory = ptr(3) }, func(v *rollbackView) { v.MaxHistory = 3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := hr("web")
			tc.spec(&obj.Spec)
			a := rollbackAction(context.Background(), action.NewConfiguration(), obj)
			got := rollbackView{a.Timeout, a.WaitStrategy, a.WaitForJobs, a.DisableHooks, a.ForceReplace, a.CleanupOnFail,
				a.ServerSideApply, a.ForceConflicts, a.MaxHistory}
			want := defaults
			tc.want(&want)
			if got != want {
				t.Errorf("rollback\n got %+v\nwant %+v", got, want)
			}
			if a.Version != 0 || len(a.WaitOptions) != 1 || a.Description != "Rollback by the HelmRelease apps/web" {
				t.Errorf("version %d (want 0: the previous revision), wait options %d, description %q", a.Version, len(a.WaitOptions), a.Description)
			}
		})
	}
}

type uninstallView struct {
	Timeout             time.Duration
	DisableHooks        bool
	KeepHistory         bool
	IgnoreNotFound      bool
	WaitStrategy        kube.WaitStrategy
	DeletionPropagation string
}

func TestUninstallAction_MapsFluxFieldsOntoHelm(t *testing.T) {
	defaults := uninstallView{Timeout: 5 * time.Minute, IgnoreNotFound: true, WaitStrategy: kube.StatusWatcherStrategy,
		DeletionPropagation: "background"}
	un := func(u helmv2.Uninstall) func(*helmv2.HelmReleaseSpec) {
		return func(s *helmv2.HelmReleaseSpec) { s.Uninstall = &u }
	}
	for _, tc := range []struct {
		name string
		spec func(*helmv2.HelmReleaseSpec)
		want func(*uninstallView)
	}{
		{"defaults", func(*helmv2.HelmReleaseSpec) {}, func(*uninstallView) {}},
		{"spec.timeout", func(s *helmv2.HelmReleaseSpec) { s.Timeout = dur("1m") }, func(v *uninstallView) { v.Timeout = time.Minute }},
		{"uninstall.timeout over spec.timeout", func(s *helmv2.HelmReleaseSpec) {
			s.Timeout, s.Uninstall = dur("1m"), &helmv2.Uninstall{Timeout: dur("20s")}
		}, func(v *uninstallView) { v.Timeout = 20 * time.Second }},
		{"disableHooks", un(helmv2.Uninstall{DisableHooks: true}), func(v *uninstallView) { v.DisableHooks = true }},
		{"keepHistory", un(helmv2.Uninstall{KeepHistory: true}), func(v *uninstallView) { v.KeepHistory = true }},
		{"disableWait", un(helmv2.Uninstall{DisableWait: true}), func(v *uninstallView) { v.WaitStrategy = kube.HookOnlyStrategy }},
		{"waitStrategy legacy", func(s *helmv2.HelmReleaseSpec) { s.WaitStrategy = &helmv2.WaitStrategy{Name: helm.WaitStrategyLegacy} },
			func(v *uninstallView) { v.WaitStrategy = kube.LegacyStrategy }},
		{"deletionPropagation foreground", un(helmv2.Uninstall{DeletionPropagation: ptr("foreground")}),
			func(v *uninstallView) { v.DeletionPropagation = "foreground" }},
		{"deletionPropagation orphan", un(helmv2.Uninstall{DeletionPropagation: ptr("orphan")}),
			func(v *uninstallView) { v.DeletionPropagation = "orphan" }},
		{"deletionPropagation empty is background", un(helmv2.Uninstall{DeletionPropagation: ptr("")}), func(*uninstallView) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := hr("web")
			tc.spec(&obj.Spec)
			a := uninstallAction(context.Background(), action.NewConfiguration(), obj)
			got := uninstallView{a.Timeout, a.DisableHooks, a.KeepHistory, a.IgnoreNotFound, a.WaitStrategy, a.DeletionPropagation}
			want := defaults
			tc.want(&want)
			if got != want {
				t.Errorf("uninstall\n got %+v\nwant %+v", got, want)
			}
			if len(a.WaitOptions) != 1 || a.Description != "Uninstall by the HelmRelease apps/web" {
				t.Errorf("wait options %d, description %q", len(a.WaitOptions), a.Description)
			}
		})
	}
}

func TestTestAction_MapsFluxFieldsOntoHelm(t *testing.T) {
	for _, tc := range []struct {
		name        string
		spec        func(*helmv2.HelmReleaseSpec)
		namespace   string
		timeout     time.Duration
		filters     map[string][]string
		description string
	}{
		{name: "defaults", spec: func(*helmv2.HelmReleaseSpec) {}, namespace: "apps", timeout: 5 * time.Minute, filters: map[string][]string{}},
		{name: "spec.timeout", spec: func(s *helmv2.HelmReleaseSpec) { s.Timeout = dur("1m") },
			namespace: "apps", timeout: time.Minute, filters: map[string][]string{}},
		{name: "test.timeout over spec.timeout", spec: func(s *helmv2.HelmReleaseSpec) {
			s.Timeout, s.Test = dur("1m"), &helmv2.Test{Enable: true, Timeout: dur("45s")}
		}, namespace: "apps", timeout: 45 * time.Second, filters: map[string][]string{}},
		{name: "filters include and exclude", spec: func(s *helmv2.HelmReleaseSpec) {
			s.Test = &helmv2.Test{Enable: true, Filters: &[]helmv2.Filter{{Name: "a"}, {Name: "b", Exclude: true}, {Name: "c"}}}
		}, namespace: "apps", timeout: 5 * time.Minute,
			filters: map[string][]string{action.IncludeNameFilter: {"a", "c"}, action.ExcludeNameFilter: {"b"}}},
		{name: "targetNamespace", spec: func(s *helmv2.HelmReleaseSpec) { s.TargetNamespace = "prod" },
			namespace: "prod", timeout: 5 * time.Minute, filters: map[string][]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := hr("web")
			tc.spec(&obj.Spec)
			a := testAction(context.Background(), action.NewConfiguration(), obj)
			if a.Namespace != tc.namespace || a.Timeout != tc.timeout || !reflect.DeepEqual(a.Filters, tc.filters) || len(a.WaitOptions) != 1 {
				t.Errorf("test: namespace %q, timeout %s, filters %v; want %q, %s, %v", a.Namespace, a.Timeout, a.Filters,
					tc.namespace, tc.timeout, tc.filters)
			}
		})
	}
}

// TestCRDsPolicy_InstallCreatesUpgradeSkipsUnlessAsked covers the policy
// the worker applies CRDs with before Helm runs (crds.go).
func TestCRDsPolicy_InstallCreatesUpgradeSkipsUnlessAsked(t *testing.T) {
	for _, tc := range []struct {
		name             string
		spec             helmv2.HelmReleaseSpec
		install, upgrade helmv2.CRDsPolicy
	}{
		{name: "defaults", install: crdsCreate, upgrade: crdsSkip},
		{name: "install.crds", spec: helmv2.HelmReleaseSpec{Install: &helmv2.Install{CRDs: crdsCreateReplace}},
			install: crdsCreateReplace, upgrade: crdsSkip},
		{name: "install.skipCRDs", spec: helmv2.HelmReleaseSpec{Install: &helmv2.Install{SkipCRDs: true}},
			install: crdsSkip, upgrade: crdsSkip},
		{name: "install.crds over skipCRDs", spec: helmv2.HelmReleaseSpec{Install: &helmv2.Install{SkipCRDs: true, CRDs: crdsCreate}},
			install: crdsCreate, upgrade: crdsSkip},
		{name: "upgrade.crds Create", spec: helmv2.HelmReleaseSpec{Upgrade: &helmv2.Upgrade{CRDs: crdsCreate}},
			install: crdsCreate, upgrade: crdsCreate},
		{name: "upgrade.crds CreateReplace", spec: helmv2.HelmReleaseSpec{Upgrade: &helmv2.Upgrade{CRDs: crdsCreateReplace}},
			install: crdsCreate, upgrade: crdsCreateReplace},
	} {
		obj := hr("web")
		obj.Spec = tc.spec
		if got := installCRDs(obj); got != tc.install {
			t.Errorf("%s: install CRDs %s, want %s", tc.name, got, tc.install)
		}
		if got := upgradeCRDs(obj); got != tc.upgrade {
			t.Errorf("%s: upgrade CRDs %s, want %s", tc.name, got, tc.upgrade)
		}
	}
}

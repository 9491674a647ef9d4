package reconcile

import (
	"bytes"
	"context"
	"maps"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helm/helmtest"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helmrelease"
	helmrec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/helm"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	sourcerec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/source"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/target"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// The HelmRelease's fields. A test named for a field exercises it through
// the worker, or (marked "engine") exercises the code the worker hands the
// field to unchanged. Release options are mapped onto Helm's actions by
// pure functions (pkg/reconcile/helm/actions.go) that the
// Test<Action>Action_MapsFluxFieldsOntoHelm tables check field by field;
// what Helm then does with them (wait, replace, server-side apply, ...)
// needs a cluster. Remediation, retries, tests, forced upgrades and the
// rest of the state machine run on Helm's in-memory storage and fake kube
// client (pkg/reconcile/helm/release_test.go).
var helmReleaseFields = map[string]field{
	// spec.chart is made into a HelmChart (chart.go templateChart); the
	// HelmChart table covers what its worker does with each field.
	"spec.chart.metadata.labels":               used(chartTemplateTest),
	"spec.chart.metadata.annotations":          used(chartTemplateTest),
	"spec.chart.spec.chart":                    used("TestHelmRelease_InstallUpgradeTestRollbackUninstall"),
	"spec.chart.spec.version":                  used("TestHelmRelease_InstallUpgradeTestRollbackUninstall"),
	"spec.chart.spec.sourceRef.apiVersion":     informational(apiVersionOfReference),
	"spec.chart.spec.sourceRef.kind":           used("TestHelmRelease_InstallUpgradeTestRollbackUninstall"),
	"spec.chart.spec.sourceRef.name":           used("TestHelmRelease_InstallUpgradeTestRollbackUninstall"),
	"spec.chart.spec.sourceRef.namespace":      used(chartTemplateTest),
	"spec.chart.spec.interval":                 used(chartTemplateTest),
	"spec.chart.spec.reconcileStrategy":        used(chartTemplateTest),
	"spec.chart.spec.valuesFiles":              used(chartTemplateTest),
	"spec.chart.spec.ignoreMissingValuesFiles": used(chartTemplateTest),
	// Carried to the HelmChart, which stalls naming spec.verify; the
	// HelmRelease waits for it with that message.
	"spec.chart.spec.verify.provider":       used(chartTemplateTest),
	"spec.chart.spec.verify.secretRef.name": used(chartTemplateTest),
	"spec.chartRef.apiVersion":              informational(apiVersionOfReference),
	"spec.chartRef.kind":                    used("TestHelmRelease_ChartFromOCIRegistry"),
	"spec.chartRef.name":                    used("TestHelmRelease_ChartFromOCIRegistry"),
	"spec.chartRef.namespace":               used("TestHelmRelease_ChartRefNamespaceIsWhereTheSourceIs"),

	"spec.interval":                     used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
	"spec.kubeConfig.secretRef.name":    used("TestTargetsConfig_ReadsKubeConfigFromSecret"), // engine: pkg/reconcile/target
	"spec.kubeConfig.secretRef.key":     used("TestTargetsConfig_ReadsKubeConfigFromSecret"), // engine: pkg/reconcile/target
	"spec.kubeConfig.configMapRef.name": refused("spec.kubeConfig.configMapRef", nil),
	"spec.suspend":                      used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
	"spec.releaseName":                  used("TestReleaseName_IsFluxs"),
	"spec.targetNamespace":              used("TestReleaseName_IsFluxs"),
	// The worker hands it to Helm's configuration (where Helm keeps its
	// release Secrets) and status.storageNamespace.
	"spec.storageNamespace":      used("TestHelmRelease_StorageAndTargetNamespaces"),
	"spec.dependsOn[].name":      used("TestHelmRelease_DependsOnAKustomization"),
	"spec.dependsOn[].namespace": used("TestHelmRelease_DependencyNamespace"),
	"spec.dependsOn[].readyExpr": used("TestHelmRelease_ReadyExprReplacesTheReadyCheck"),
	"spec.dependsOn[].kind":      used("TestHelmRelease_DependsOnAKustomization"),
	"spec.timeout":               used("TestHelmRelease_InstallUpgradeTestRollbackUninstall"),
	"spec.maxHistory":            used("TestHelmRelease_MaxHistoryPrunesOldRevisions"),
	"spec.serviceAccountName":    used("TestTargetsConfig_ImpersonatesTheServiceAccount"), // engine: pkg/reconcile/target
	"spec.persistentClient":      informational(informationalFields["HelmRelease spec.persistentClient"]),

	// The worker's rules (drift.go ignoreRules) on the objects the
	// comparison gets; the comparison itself is a dry-run apply against
	// an API server (TestHelmRelease_DriftIsCorrected).
	"spec.driftDetection.mode":                               used("TestHelmRelease_DriftIsCorrected"),
	"spec.driftDetection.ignore[].paths":                     used("TestApply_RemovesPathsOfTargetedObjects"), // engine: pkg/reconcile/ignore
	"spec.driftDetection.ignore[].target.group":              used(driftIgnoreTargetTest),
	"spec.driftDetection.ignore[].target.version":            used(driftIgnoreTargetTest),
	"spec.driftDetection.ignore[].target.kind":               used("TestApply_RemovesPathsOfTargetedObjects"), // engine: pkg/reconcile/ignore
	"spec.driftDetection.ignore[].target.namespace":          used(driftIgnoreTargetTest),
	"spec.driftDetection.ignore[].target.name":               used("TestKustomization_IgnoredPathsAreNotApplied"), // engine: pkg/reconcile/ignore
	"spec.driftDetection.ignore[].target.annotationSelector": used(driftIgnoreTargetTest),
	"spec.driftDetection.ignore[].target.labelSelector":      used("TestApply_RemovesPathsOfTargetedObjects"), // engine: pkg/reconcile/ignore

	"spec.install.timeout":                          used(installActionTest),
	"spec.install.remediation.retries":              used("TestHelmRelease_FailedInstallIsUninstalledThenRetried"),
	"spec.install.remediation.ignoreTestFailures":   used(testFailuresTest),
	"spec.install.remediation.remediateLastFailure": used("TestHelmRelease_InstallRemediateLastFailure"),
	"spec.install.strategy.name":                    used(retryOnFailureTest),
	"spec.install.strategy.retryInterval":           used(retryOnFailureTest),
	"spec.install.disableTakeOwnership":             used(installActionTest),
	"spec.install.disableWait":                      used(installActionTest),
	"spec.install.disableWaitForJobs":               used(installActionTest),
	"spec.install.disableHooks":                     used(installActionTest),
	"spec.install.disableOpenAPIValidation":         used(installActionTest),
	"spec.install.disableSchemaValidation":          used(installActionTest),
	"spec.install.replace":                          used(installActionTest),
	"spec.install.skipCRDs":                         used(installActionTest),
	// The policy Helm's SkipCRDs and the worker's own CRD apply
	// (crds.go, against an API server) follow.
	"spec.install.crds":            used(crdsPolicyTest),
	"spec.install.createNamespace": used(installActionTest),
	"spec.install.serverSideApply": used(installActionTest),

	"spec.upgrade.timeout":                          used(upgradeActionTest),
	"spec.upgrade.remediation.retries":              used("TestHelmRelease_FailedUpgradeIsRolledBack"),
	"spec.upgrade.remediation.ignoreTestFailures":   used(testFailuresTest),
	"spec.upgrade.remediation.remediateLastFailure": used("TestHelmRelease_UpgradeRemediateLastFailure"),
	"spec.upgrade.remediation.strategy":             used("TestHelmRelease_FailedUpgradeIsUninstalledWithTheUninstallStrategy"),
	"spec.upgrade.strategy.name":                    used(retryOnFailureTest),
	"spec.upgrade.strategy.retryInterval":           used(retryOnFailureTest),
	"spec.upgrade.disableTakeOwnership":             used(upgradeActionTest),
	"spec.upgrade.disableWait":                      used(upgradeActionTest),
	"spec.upgrade.disableWaitForJobs":               used(upgradeActionTest),
	"spec.upgrade.disableHooks":                     used(upgradeActionTest),
	"spec.upgrade.disableOpenAPIValidation":         used(upgradeActionTest),
	"spec.upgrade.disableSchemaValidation":          used(upgradeActionTest),
	"spec.upgrade.force":                            used(upgradeActionTest),
	"spec.upgrade.preserveValues":                   used(upgradeActionTest),
	"spec.upgrade.cleanupOnFail":                    used(upgradeActionTest),
	"spec.upgrade.crds":                             used(crdsPolicyTest),
	"spec.upgrade.serverSideApply":                  used(upgradeActionTest),
	"spec.upgrade.chartNameChangeStrategy":          used("TestHelmRelease_ChartNameChange"),

	"spec.test.enable":            used("TestHelmRelease_InstallUpgradeTestRollbackUninstall"),
	"spec.test.timeout":           used("TestTestAction_MapsFluxFieldsOntoHelm"),
	"spec.test.ignoreFailures":    used(testFailuresTest),
	"spec.test.filters[].name":    used("TestHelmRelease_TestFiltersPickTheTests"),
	"spec.test.filters[].exclude": used("TestHelmRelease_TestFiltersPickTheTests"),

	"spec.rollback.timeout":            used(rollbackActionTest),
	"spec.rollback.disableWait":        used(rollbackActionTest),
	"spec.rollback.disableWaitForJobs": used(rollbackActionTest),
	"spec.rollback.disableHooks":       used(rollbackActionTest),
	"spec.rollback.recreate":           used(rollbackActionTest),
	"spec.rollback.force":              used(rollbackActionTest),
	"spec.rollback.cleanupOnFail":      used(rollbackActionTest),
	"spec.rollback.serverSideApply":    used(rollbackActionTest),

	"spec.uninstall.timeout":             used(uninstallActionTest),
	"spec.uninstall.disableHooks":        used(uninstallActionTest),
	"spec.uninstall.keepHistory":         used("TestHelmRelease_UninstallKeepHistory"),
	"spec.uninstall.disableWait":         used(uninstallActionTest),
	"spec.uninstall.deletionPropagation": used(uninstallActionTest),

	"spec.valuesFrom[].kind":       used("TestValues_FluxOrderAndNoDataInErrors"),
	"spec.valuesFrom[].name":       used("TestValues_FluxOrderAndNoDataInErrors"),
	"spec.valuesFrom[].valuesKey":  used("TestValues_FluxOrderAndNoDataInErrors"),
	"spec.valuesFrom[].targetPath": used("TestValues_FluxOrderAndNoDataInErrors"),
	"spec.valuesFrom[].optional":   used("TestValues_FluxOrderAndNoDataInErrors"),
	"spec.valuesFrom[].literal":    used("TestSetValue_TypedOrLiteralAndOneValueDespiteCommas"), // engine: pkg/helmrelease
	"spec.values":                  used("TestValues_FluxOrderAndNoDataInErrors"),

	// Post-renderers run the Kustomization's build (pkg/kustomize/build)
	// through pkg/helmrelease.
	"spec.postRenderers[].kustomize.patches[].patch":                     used("TestPostRenderer_KustomizePatchesImagesAndCommonMetadata"), // engine: pkg/helmrelease
	"spec.postRenderers[].kustomize.patches[].target.group":              used("TestBuild_Patches"),                                        // engine: pkg/kustomize/build
	"spec.postRenderers[].kustomize.patches[].target.version":            used("TestBuild_Patches"),                                        // engine: pkg/kustomize/build
	"spec.postRenderers[].kustomize.patches[].target.kind":               used("TestPostRenderer_KustomizePatchesImagesAndCommonMetadata"), // engine: pkg/helmrelease
	"spec.postRenderers[].kustomize.patches[].target.namespace":          used("TestPostRenderer_PatchTargetSelectsByNamespace"),
	"spec.postRenderers[].kustomize.patches[].target.name":               used("TestBuild_Patches"),                                        // engine: pkg/kustomize/build
	"spec.postRenderers[].kustomize.patches[].target.annotationSelector": used("TestBuild_Patches"),                                        // engine: pkg/kustomize/build
	"spec.postRenderers[].kustomize.patches[].target.labelSelector":      used("TestBuild_Patches"),                                        // engine: pkg/kustomize/build
	"spec.postRenderers[].kustomize.images[].name":                       used("TestPostRenderer_KustomizePatchesImagesAndCommonMetadata"), // engine: pkg/helmrelease
	"spec.postRenderers[].kustomize.images[].newName":                    used("TestBuild_ExistingKustomization"),                          // engine: pkg/kustomize/build
	"spec.postRenderers[].kustomize.images[].newTag":                     used("TestPostRenderer_KustomizePatchesImagesAndCommonMetadata"), // engine: pkg/helmrelease
	"spec.postRenderers[].kustomize.images[].digest":                     used("TestBuild_ExistingKustomization"),                          // engine: pkg/kustomize/build
	"spec.postRenderStrategy":                                            used(installActionTest),
	"spec.commonMetadata.labels":                                         used("TestPostRenderer_KustomizePatchesImagesAndCommonMetadata"), // engine: pkg/helmrelease
	"spec.commonMetadata.annotations":                                    used("TestBuild_CommonMetadata"),                                 // engine: pkg/kustomize/build

	"spec.healthCheckExprs[].apiVersion": used("TestHelmRelease_CELHealthCheckExprs"),
	"spec.healthCheckExprs[].kind":       used("TestHelmRelease_CELHealthCheckExprs"),
	"spec.healthCheckExprs[].inProgress": used("TestHelmRelease_CELHealthCheckExprs"),
	"spec.healthCheckExprs[].failed":     used("TestHelmRelease_CELHealthCheckExprs"),
	"spec.healthCheckExprs[].current":    used("TestHelmRelease_CELHealthCheckExprs"),
	"spec.waitStrategy.name":             used(installActionTest),
}

// Tests of pkg/reconcile/helm that several fields name.
const (
	chartTemplateTest     = "TestSpecFields_HelmReleaseChartTemplateMakesItsHelmChart"
	installActionTest     = "TestInstallAction_MapsFluxFieldsOntoHelm"
	upgradeActionTest     = "TestUpgradeAction_MapsFluxFieldsOntoHelm"
	rollbackActionTest    = "TestRollbackAction_MapsFluxFieldsOntoHelm"
	uninstallActionTest   = "TestUninstallAction_MapsFluxFieldsOntoHelm"
	crdsPolicyTest        = "TestCRDsPolicy_InstallCreatesUpgradeSkipsUnlessAsked"
	testFailuresTest      = "TestHelmRelease_TestFailuresFailTheReleaseUnlessIgnored"
	retryOnFailureTest    = "TestHelmRelease_RetryOnFailureRetriesWithoutRemediationOrStall"
	driftIgnoreTargetTest = "TestDriftDetection_IgnoreTargetSelectsObjects"
)

// helmChartArtifact is where the minimal HelmRelease's chart is: HelmChart
// apps/apps-app, the name the worker gives the HelmChart of spec.chart.
var helmChartArtifact = artifact.Key{Kind: helm.HelmChartKind, Namespace: "apps", Name: "apps-app"}

// helmReleaseHarness runs the worker up to the release: the HelmChart it
// makes has an artifact, the chart loads, the values compose, and the
// target cluster is unreachable (reading the last release fails, which is
// no stall).
var helmReleaseHarness = harness{
	object: func() any {
		return &helmv2.HelmRelease{
			ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "app", Generation: 1, Finalizers: []string{helmrec.Finalizer}},
			Spec: helmv2.HelmReleaseSpec{Interval: "1m", Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{
				Chart: "app", SourceRef: common.NamespacedObjectKindReference{Kind: source.HelmRepositoryKind, Name: "charts"},
			}}},
		}
	},
	reconcile: func(t *testing.T, obj any) (loop.Result, []metav1.Condition) {
		o := obj.(*helmv2.HelmRelease)
		res, _ := reconcileHelmRelease(t, o)
		return res, o.Status.Conditions
	},
}

// reconcileHelmRelease runs the HelmRelease worker once on obj; it returns
// the result and the HelmCharts the worker wrote.
func reconcileHelmRelease(t *testing.T, obj *helmv2.HelmRelease) (loop.Result, *fakeHelmCharts) {
	t.Helper()
	store, err := artifact.NewStore(t.TempDir(), artifact.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := store.PutArchive(context.Background(), helmChartArtifact, bytes.NewReader(helmtest.SimpleChart(t, "app", "1.0.0")))
	if err != nil {
		t.Fatal(err)
	}
	src := &helmrec.Source{Ready: string(metav1.ConditionTrue), Artifact: &common.Artifact{
		Path: stored.Path, Revision: "1.0.0", Digest: stored.Digest}}
	charts := &fakeHelmCharts{charts: map[string]*sourcev1.HelmChart{}}
	host := fake.NewSimpleClientset()
	r := &helmrec.Reconciler{
		GetHelmRelease: func(_, name string) (*helmv2.HelmRelease, error) { return nil, notFound("helmreleases", name) },
		GetKustomization: func(_, name string) (*kustomizev1.Kustomization, error) {
			return nil, notFound("kustomizations", name)
		},
		GetSource: func(kind, namespace, name string) (*helmrec.Source, error) {
			if kind != helmChartArtifact.Kind || namespace != helmChartArtifact.Namespace || name != helmChartArtifact.Name {
				return nil, notFound(kind, name)
			}
			return src, nil
		},
		Charts: charts,
		UpdateFinalizers: func(_ context.Context, o *helmv2.HelmRelease) (*helmv2.HelmRelease, error) {
			return o, nil
		},
		Store: store,
		Host:  host,
		Targets: &target.Targets{HostConfig: &rest.Config{Host: "https://" + unreachable, Timeout: 5 * time.Second}, Host: host,
			Owner: ssa.Owner{Field: helmrec.FieldManager, Group: helm.GroupName}, UserAgent: "specfields-test"},
		Clusters: &helmrelease.Clusters{},
		Events:   record.NewFakeRecorder(100),
	}
	return reconcileOnce(t, r, obj), charts
}

// fakeHelmCharts keeps the HelmCharts the worker writes.
type fakeHelmCharts struct {
	mu     sync.Mutex
	charts map[string]*sourcev1.HelmChart
}

func (f *fakeHelmCharts) Get(_ context.Context, namespace, name string) (*sourcev1.HelmChart, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.charts[namespace+"/"+name]; ok {
		return c.DeepCopy(), nil
	}
	return nil, notFound("helmcharts", name)
}

func (f *fakeHelmCharts) Create(_ context.Context, c *sourcev1.HelmChart) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.charts[c.Namespace+"/"+c.Name] = c.DeepCopy()
	return nil
}

func (f *fakeHelmCharts) Update(ctx context.Context, c *sourcev1.HelmChart) error {
	return f.Create(ctx, c)
}

func (f *fakeHelmCharts) Delete(_ context.Context, namespace, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.charts, namespace+"/"+name)
	return nil
}

// TestSpecFields_HelmReleaseChartTemplateMakesItsHelmChart covers
// spec.chart: the worker makes a HelmChart with every field of the
// template, and the HelmChart worker refuses the spec.verify it carries.
func TestSpecFields_HelmReleaseChartTemplateMakesItsHelmChart(t *testing.T) {
	obj := helmReleaseHarness.object().(*helmv2.HelmRelease)
	interval := common.Duration("3m")
	obj.Spec.Chart = &helmv2.HelmChartTemplate{
		ObjectMeta: &helmv2.HelmChartTemplateObjectMeta{Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"note": "b"}},
		Spec: helmv2.HelmChartTemplateSpec{
			Chart: "./charts/app", Version: "1.x", Interval: &interval, ReconcileStrategy: source.ReconcileStrategyRevision,
			SourceRef:   common.NamespacedObjectKindReference{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: source.GitRepositoryKind, Name: "charts", Namespace: "infra"},
			ValuesFiles: []string{"charts/app/values-prod.yaml"}, IgnoreMissingValuesFiles: true,
			Verify: &helmv2.HelmChartTemplateVerification{Provider: "cosign", SecretRef: &common.LocalObjectReference{Name: "keys"}},
		},
	}
	_, charts := reconcileHelmRelease(t, obj)
	hc, err := charts.Get(context.Background(), "infra", "apps-app")
	if err != nil {
		t.Fatalf("no HelmChart infra/apps-app (the source's namespace, named <namespace>-<name>): %v; HelmRelease status %+v", err, obj.Status)
	}
	want := sourcev1.HelmChartSpec{
		Chart: "./charts/app", Version: "1.x", Interval: "3m", ReconcileStrategy: source.ReconcileStrategyRevision,
		SourceRef:   sourcev1.LocalHelmChartSourceReference{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: source.GitRepositoryKind, Name: "charts"},
		ValuesFiles: []string{"charts/app/values-prod.yaml"}, IgnoreMissingValuesFiles: true,
		Verify: &sourcev1.HelmChartVerification{Provider: "cosign", SecretRef: &common.LocalObjectReference{Name: "keys"}},
	}
	if !reflect.DeepEqual(hc.Spec, want) {
		t.Errorf("HelmChart spec\n%+v\nwant\n%+v", hc.Spec, want)
	}
	if wantLabels := map[string]string{"team": "a", helm.GroupName + "/name": "app", helm.GroupName + "/namespace": "apps"}; !maps.Equal(hc.Labels, wantLabels) {
		t.Errorf("HelmChart labels %v, want %v", hc.Labels, wantLabels)
	}
	if hc.Annotations["note"] != "b" {
		t.Errorf("HelmChart annotations %v, want note=b", hc.Annotations)
	}
	if obj.Status.HelmChart != "infra/apps-app" {
		t.Errorf("status.helmChart = %q", obj.Status.HelmChart)
	}

	r := &sourcerec.HelmChartReconciler{Env: sourceEnv(t),
		GetGitRepository: func(_, name string) (*sourcev1.GitRepository, error) { return nil, notFound("gitrepositories", name) }}
	reconcileOnce(t, r, hc)
	stalled := condition(hc.Status.Conditions, "Stalled")
	if stalled == nil || stalled.Status != metav1.ConditionTrue || !strings.Contains(stalled.Message, "spec.verify") {
		t.Errorf("the HelmChart made with spec.verify: Stalled %+v; want it naming spec.verify", stalled)
	}
}

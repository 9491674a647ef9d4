package validation

import (
	"slices"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
)

func validHelmRelease() *helm.HelmRelease {
	return &helm.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "apps", ResourceVersion: "1"},
		Spec: helm.HelmReleaseSpec{
			Interval: "10m",
			Chart: &helm.HelmChartTemplate{Spec: helm.HelmChartTemplateSpec{
				Chart:     "podinfo",
				Version:   "6.x",
				SourceRef: common.NamespacedObjectKindReference{Kind: "HelmRepository", Name: "podinfo"},
			}},
		},
	}
}

func dur(d common.Duration) *common.Duration { return &d }

func strPtr(s string) *string { return &s }

// errorFields returns the sorted "type field" pairs of errs, which the
// tables compare against.
func errorFields(errs field.ErrorList) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	sort.Strings(out)
	return out
}

func TestValidateHelmRelease(t *testing.T) {
	uninstall := helm.UninstallRemediationStrategy
	bogusRemediation := helm.RemediationStrategy("retry")
	tests := []struct {
		name   string
		mutate func(*helm.HelmRelease)
		want   []string
	}{
		{name: "valid chart template", mutate: func(*helm.HelmRelease) {}},
		{
			name: "valid chartRef with every section",
			mutate: func(hr *helm.HelmRelease) {
				hr.Spec.Chart = nil
				hr.Spec.ChartRef = &common.NamespacedObjectKindReference{Kind: "OCIRepository", Name: "podinfo", Namespace: "flux-system"}
				hr.Spec.ReleaseName = "podinfo"
				hr.Spec.TargetNamespace = "web"
				hr.Spec.StorageNamespace = "web"
				hr.Spec.ServiceAccountName = "deployer"
				hr.Spec.Timeout = dur("5m")
				hr.Spec.DependsOn = []helm.DependencyReference{{Name: "cert-manager", Namespace: "infra"}}
				hr.Spec.KubeConfig = &common.KubeConfigReference{ConfigMapRef: &common.LocalObjectReference{Name: "cluster"}}
				hr.Spec.DriftDetection = &helm.DriftDetection{Mode: "enabled", Ignore: []helm.IgnoreRule{{Paths: []string{"/spec/replicas"}, Target: &common.Selector{Kind: "Deployment"}}}}
				hr.Spec.Install = &helm.Install{CRDs: "CreateReplace", Strategy: &helm.InstallStrategy{Name: "RetryOnFailure", RetryInterval: dur("1m")}}
				hr.Spec.Upgrade = &helm.Upgrade{
					CRDs: "Skip", ServerSideApply: "auto", ChartNameChangeStrategy: "InPlaceUpdate",
					Remediation: &helm.UpgradeRemediation{Retries: 3, Strategy: &uninstall},
					Strategy:    &helm.UpgradeStrategy{Name: "RemediateOnFailure"},
				}
				hr.Spec.Test = &helm.Test{Enable: true, Filters: &[]helm.Filter{{Name: "smoke", Exclude: true}}}
				hr.Spec.Rollback = &helm.Rollback{ServerSideApply: "disabled"}
				hr.Spec.Uninstall = &helm.Uninstall{DeletionPropagation: strPtr("foreground")}
				hr.Spec.ValuesFrom = []helm.ValuesReference{{Kind: "Secret", Name: "values", ValuesKey: "prod.yaml", TargetPath: "ingress.hosts[0]"}}
				hr.Spec.Values = &common.JSON{Raw: []byte(`{"replicaCount":2}`)}
				hr.Spec.PostRenderers = []helm.PostRenderer{{Kustomize: &helm.Kustomize{
					Patches: []common.Patch{{Patch: "- op: remove\n  path: /metadata/labels/x"}},
					Images:  []common.Image{{Name: "podinfo", Digest: "sha256:abc"}},
				}}}
				hr.Spec.PostRenderStrategy = "nohooks"
				hr.Spec.WaitStrategy = &helm.WaitStrategy{Name: "legacy"}
				hr.Spec.HealthCheckExprs = []common.CustomHealthCheck{{APIVersion: "example.com/v1", Current: "true"}}
			},
		},
		{
			name:   "chart or chartRef required",
			mutate: func(hr *helm.HelmRelease) { hr.Spec.Chart = nil },
			want:   []string{"FieldValueRequired spec.chart"},
		},
		{
			name: "chart and chartRef exclusive",
			mutate: func(hr *helm.HelmRelease) {
				hr.Spec.ChartRef = &common.NamespacedObjectKindReference{Kind: "HelmChart", Name: "podinfo"}
			},
			want: []string{"FieldValueForbidden spec.chartRef"},
		},
		{
			name: "chartRef kind",
			mutate: func(hr *helm.HelmRelease) {
				hr.Spec.Chart = nil
				hr.Spec.ChartRef = &common.NamespacedObjectKindReference{Kind: "GitRepository", Name: "podinfo"}
			},
			want: []string{"FieldValueNotSupported spec.chartRef.kind"},
		},
		{
			name: "chart template name, source and enums",
			mutate: func(hr *helm.HelmRelease) {
				hr.Spec.Chart.Spec = helm.HelmChartTemplateSpec{
					SourceRef:         common.NamespacedObjectKindReference{Kind: "OCIRepository", Name: "x"},
					ReconcileStrategy: "Always",
					Interval:          dur("-1m"),
					Verify:            &helm.HelmChartTemplateVerification{Provider: "gpg"},
				}
			},
			want: []string{
				"FieldValueInvalid spec.chart.spec.interval",
				"FieldValueNotSupported spec.chart.spec.reconcileStrategy",
				"FieldValueNotSupported spec.chart.spec.sourceRef.kind",
				"FieldValueNotSupported spec.chart.spec.verify.provider",
				"FieldValueRequired spec.chart.spec.chart",
			},
		},
		{
			name:   "chart name at most 2048",
			mutate: func(hr *helm.HelmRelease) { hr.Spec.Chart.Spec.Chart = strings.Repeat("c", 2049) },
			want:   []string{"FieldValueTooLong spec.chart.spec.chart"},
		},
		{
			name:   "interval must be positive",
			mutate: func(hr *helm.HelmRelease) { hr.Spec.Interval = "0s" },
			want:   []string{"FieldValueInvalid spec.interval"},
		},
		{
			name: "name lengths",
			mutate: func(hr *helm.HelmRelease) {
				hr.Spec.ReleaseName = strings.Repeat("r", 54)
				hr.Spec.TargetNamespace = strings.Repeat("t", 64)
				hr.Spec.StorageNamespace = "Not_A_Namespace"
			},
			want: []string{
				"FieldValueInvalid spec.storageNamespace",
				"FieldValueInvalid spec.targetNamespace",
				"FieldValueTooLong spec.releaseName",
			},
		},
		{
			name:   "dependsOn name required",
			mutate: func(hr *helm.HelmRelease) { hr.Spec.DependsOn = []helm.DependencyReference{{ReadyExpr: "true"}} },
			want:   []string{"FieldValueRequired spec.dependsOn[0].name"},
		},
		{
			name: "dependsOn kind is HelmRelease or Kustomization",
			mutate: func(hr *helm.HelmRelease) {
				hr.Spec.DependsOn = []helm.DependencyReference{{Name: "a", Kind: "Kustomization"}, {Name: "b", Kind: "HelmRelease"}, {Name: "c", Kind: "GitRepository"}}
			},
			want: []string{"FieldValueNotSupported spec.dependsOn[2].kind"},
		},
		{
			name: "kubeConfig needs a reference",
			mutate: func(hr *helm.HelmRelease) {
				hr.Spec.KubeConfig = &common.KubeConfigReference{}
			},
			want: []string{"FieldValueRequired spec.kubeConfig"},
		},
		{
			name: "drift detection mode and ignore rules",
			mutate: func(hr *helm.HelmRelease) {
				hr.Spec.DriftDetection = &helm.DriftDetection{Mode: "strict", Ignore: []helm.IgnoreRule{{Target: &common.Selector{LabelSelector: "a in ("}}}}
			},
			want: []string{
				"FieldValueInvalid spec.driftDetection.ignore[0].target.labelSelector",
				"FieldValueNotSupported spec.driftDetection.mode",
				"FieldValueRequired spec.driftDetection.ignore[0].paths",
			},
		},
		{
			name: "install crds, strategy and timeout",
			mutate: func(hr *helm.HelmRelease) {
				hr.Spec.Install = &helm.Install{
					CRDs:     "Replace",
					Timeout:  dur("-1s"),
					Strategy: &helm.InstallStrategy{Name: "RemediateOnFailure", RetryInterval: dur("1m")},
				}
			},
			want: []string{
				"FieldValueForbidden spec.install.strategy.retryInterval",
				"FieldValueInvalid spec.install.timeout",
				"FieldValueNotSupported spec.install.crds",
			},
		},
		{
			name: "upgrade enums",
			mutate: func(hr *helm.HelmRelease) {
				hr.Spec.Upgrade = &helm.Upgrade{
					ServerSideApply:         "true",
					ChartNameChangeStrategy: "Replace",
					Remediation:             &helm.UpgradeRemediation{Strategy: &bogusRemediation},
					Strategy:                &helm.UpgradeStrategy{},
				}
			},
			want: []string{
				"FieldValueNotSupported spec.upgrade.chartNameChangeStrategy",
				"FieldValueNotSupported spec.upgrade.remediation.strategy",
				"FieldValueNotSupported spec.upgrade.serverSideApply",
				"FieldValueRequired spec.upgrade.strategy.name",
			},
		},
		{
			name: "test filter names",
			mutate: func(hr *helm.HelmRelease) {
				hr.Spec.Test = &helm.Test{Filters: &[]helm.Filter{{}, {Name: strings.Repeat("n", 254)}}}
			},
			want: []string{"FieldValueRequired spec.test.filters[0].name", "FieldValueTooLong spec.test.filters[1].name"},
		},
		{
			name: "rollback and uninstall enums",
			mutate: func(hr *helm.HelmRelease) {
				hr.Spec.Rollback = &helm.Rollback{ServerSideApply: "on"}
				hr.Spec.Uninstall = &helm.Uninstall{DeletionPropagation: strPtr("cascade")}
			},
			want: []string{
				"FieldValueNotSupported spec.rollback.serverSideApply",
				"FieldValueNotSupported spec.uninstall.deletionPropagation",
			},
		},
		{
			name: "valuesFrom kind, name, key and path",
			mutate: func(hr *helm.HelmRelease) {
				hr.Spec.ValuesFrom = []helm.ValuesReference{
					{Kind: "Pod", ValuesKey: "values yaml", TargetPath: "a b"},
					{Kind: "ConfigMap", Name: "v", ValuesKey: strings.Repeat("k", 254), TargetPath: strings.Repeat("p", 251)},
				}
			},
			want: []string{
				"FieldValueInvalid spec.valuesFrom[0].targetPath",
				"FieldValueInvalid spec.valuesFrom[0].valuesKey",
				"FieldValueNotSupported spec.valuesFrom[0].kind",
				"FieldValueRequired spec.valuesFrom[0].name",
				"FieldValueTooLong spec.valuesFrom[1].targetPath",
				"FieldValueTooLong spec.valuesFrom[1].valuesKey",
			},
		},
		{
			name:   "values must be an object",
			mutate: func(hr *helm.HelmRelease) { hr.Spec.Values = &common.JSON{Raw: []byte(`[1,2]`)} },
			want:   []string{"FieldValueInvalid spec.values"},
		},
		{
			name: "post-renderer patches and images",
			mutate: func(hr *helm.HelmRelease) {
				hr.Spec.PostRenderers = []helm.PostRenderer{{}, {Kustomize: &helm.Kustomize{
					Patches: []common.Patch{{}},
					Images:  []common.Image{{}},
				}}}
			},
			want: []string{
				"FieldValueRequired spec.postRenderers[1].kustomize.images[0].name",
				"FieldValueRequired spec.postRenderers[1].kustomize.patches[0].patch",
			},
		},
		{
			name: "post render and wait strategies",
			mutate: func(hr *helm.HelmRelease) {
				hr.Spec.PostRenderStrategy = "all"
				hr.Spec.WaitStrategy = &helm.WaitStrategy{}
			},
			want: []string{"FieldValueNotSupported spec.postRenderStrategy", "FieldValueRequired spec.waitStrategy.name"},
		},
		{
			name:   "health check expressions",
			mutate: func(hr *helm.HelmRelease) { hr.Spec.HealthCheckExprs = []common.CustomHealthCheck{{}} },
			want: []string{
				"FieldValueRequired spec.healthCheckExprs[0].apiVersion",
				"FieldValueRequired spec.healthCheckExprs[0].current",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := validHelmRelease()
			tc.mutate(obj)
			got := errorFields(ValidateHelmRelease(obj))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestValidateHelmReleaseUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*helm.HelmRelease)
		want   []string
	}{
		{name: "switch from chart to chartRef", mutate: func(hr *helm.HelmRelease) {
			hr.Spec.Chart = nil
			hr.Spec.ChartRef = &common.NamespacedObjectKindReference{Kind: "OCIRepository", Name: "podinfo"}
		}},
		{
			name:   "new spec is validated",
			mutate: func(hr *helm.HelmRelease) { hr.Spec.Chart = nil },
			want:   []string{"FieldValueRequired spec.chart"},
		},
		{
			name:   "namespace is immutable",
			mutate: func(hr *helm.HelmRelease) { hr.Namespace = "other" },
			want:   []string{"FieldValueInvalid metadata.namespace"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oldObj := validHelmRelease()
			newObj := validHelmRelease()
			tc.mutate(newObj)
			got := errorFields(ValidateHelmReleaseUpdate(newObj, oldObj))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestValidateHelmRelease_CELExpressions: expressions that do not compile
// are refused naming their field, unless the stored object already had them.
func TestValidateHelmRelease_CELExpressions(t *testing.T) {
	obj := validHelmRelease()
	obj.Spec.DependsOn = []helm.DependencyReference{{Name: "db", ReadyExpr: "dep.status.("}}
	obj.Spec.HealthCheckExprs = []common.CustomHealthCheck{{APIVersion: "v1", Kind: "ConfigMap", Current: "data.ready =="}}
	errs := ValidateHelmRelease(obj)
	var paths []string
	for _, e := range errs {
		paths = append(paths, e.Field)
	}
	if len(errs) != 2 || !slices.Contains(paths, "spec.dependsOn[0].readyExpr") || !slices.Contains(paths, "spec.healthCheckExprs[0].current") {
		t.Errorf("errors %v", errs)
	}
	if errs := ValidateHelmReleaseUpdate(obj, obj.DeepCopy()); len(errs) != 0 {
		t.Errorf("an update keeping the stored expressions is refused: %v", errs)
	}
}

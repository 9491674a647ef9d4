package v2

import (
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
)

func strPtr(s string) *string { return &s }

func TestDefaults_FollowFluxCRD(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   HelmRelease
		want HelmRelease
	}{
		{
			name: "missing status reads as never observed",
			want: HelmRelease{Status: HelmReleaseStatus{ObservedGeneration: -1}},
		},
		{
			name: "chart template gets version, reconcile strategy and verify provider",
			in: HelmRelease{
				Spec:   HelmReleaseSpec{Chart: &HelmChartTemplate{Spec: HelmChartTemplateSpec{Chart: "podinfo", Verify: &HelmChartTemplateVerification{}}}},
				Status: HelmReleaseStatus{ObservedGeneration: 2},
			},
			want: HelmRelease{
				Spec: HelmReleaseSpec{Chart: &HelmChartTemplate{Spec: HelmChartTemplateSpec{
					Chart: "podinfo", Version: "*", ReconcileStrategy: "ChartVersion",
					Verify: &HelmChartTemplateVerification{Provider: "cosign"},
				}}},
				Status: HelmReleaseStatus{ObservedGeneration: 2},
			},
		},
		{
			name: "explicit values kept",
			in: HelmRelease{
				Spec: HelmReleaseSpec{
					Chart:     &HelmChartTemplate{Spec: HelmChartTemplateSpec{Chart: "podinfo", Version: "6.x", ReconcileStrategy: "Revision"}},
					Uninstall: &Uninstall{DeletionPropagation: strPtr("orphan")},
				},
				Status: HelmReleaseStatus{ObservedGeneration: 1},
			},
			want: HelmRelease{
				Spec: HelmReleaseSpec{
					Chart:     &HelmChartTemplate{Spec: HelmChartTemplateSpec{Chart: "podinfo", Version: "6.x", ReconcileStrategy: "Revision"}},
					Uninstall: &Uninstall{DeletionPropagation: strPtr("orphan")},
				},
				Status: HelmReleaseStatus{ObservedGeneration: 1},
			},
		},
		{
			name: "uninstall gets background propagation",
			in:   HelmRelease{Spec: HelmReleaseSpec{Uninstall: &Uninstall{KeepHistory: true}}, Status: HelmReleaseStatus{Failures: 1}},
			want: HelmRelease{
				Spec:   HelmReleaseSpec{Uninstall: &Uninstall{KeepHistory: true, DeletionPropagation: strPtr("background")}},
				Status: HelmReleaseStatus{Failures: 1},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := tc.in.DeepCopy()
			scheme.Default(obj)
			if !apiequality.Semantic.DeepEqual(*obj, tc.want) {
				t.Errorf("defaulted:\n got %+v\nwant %+v", obj, tc.want)
			}
		})
	}
}

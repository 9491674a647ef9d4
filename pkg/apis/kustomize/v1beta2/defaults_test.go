package v1beta2

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
)

func TestDefaults_MatchFluxV1beta2CRDDefaults(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   Kustomization
		want int64
	}{
		{"a missing status reads as never reconciled", Kustomization{}, -1},
		{"a reconciled status is kept", Kustomization{Status: KustomizationStatus{LastAppliedRevision: "main/abc"}}, 0},
		{"an observed generation is kept", Kustomization{Status: KustomizationStatus{ObservedGeneration: 3}}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := tc.in.DeepCopy()
			scheme.Default(obj)
			if obj.Status.ObservedGeneration != tc.want {
				t.Errorf("observedGeneration = %d, want %d", obj.Status.ObservedGeneration, tc.want)
			}
			if obj.Spec.Force || obj.Spec.Timeout != nil || obj.Spec.RetryInterval != nil {
				t.Errorf("spec defaulted beyond the CRD: %+v", obj.Spec)
			}
		})
	}
}

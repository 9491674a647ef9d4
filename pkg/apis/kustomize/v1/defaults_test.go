package v1

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestDefaults_MissingStatusReadsAsNeverObserved(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		status KustomizationStatus
		want   int64
	}{
		{name: "empty status", want: -1},
		{name: "reconciled status kept", status: KustomizationStatus{ObservedGeneration: 3}, want: 3},
		{
			name:   "status with conditions only kept",
			status: KustomizationStatus{Conditions: []metav1.Condition{{Type: "Ready"}}},
			want:   0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := &Kustomization{Status: tc.status}
			scheme.Default(obj)
			if obj.Status.ObservedGeneration != tc.want {
				t.Errorf("observedGeneration = %d, want %d", obj.Status.ObservedGeneration, tc.want)
			}
		})
	}
}

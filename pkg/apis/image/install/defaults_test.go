package install

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"

	v1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/v1beta2"
)

// TestDefaults_MatchFluxCRDs checks that the scheme applies the defaults of
// Flux's CRDs to objects of both served versions.
func TestDefaults_MatchFluxCRDs(t *testing.T) {
	scheme := runtime.NewScheme()
	Install(scheme)
	tests := []struct {
		name     string
		in, want runtime.Object
	}{
		{"v1 ImageRepository",
			&v1.ImageRepository{},
			&v1.ImageRepository{
				Spec:   v1.ImageRepositorySpec{Provider: "generic", ExclusionList: []string{`^.*\.sig$`}},
				Status: v1.ImageRepositoryStatus{ObservedGeneration: -1},
			}},
		{"v1 ImageRepository keeps explicit values",
			&v1.ImageRepository{
				Spec:   v1.ImageRepositorySpec{Provider: "aws", ExclusionList: []string{"^dev-"}},
				Status: v1.ImageRepositoryStatus{ObservedGeneration: 3},
			},
			&v1.ImageRepository{
				Spec:   v1.ImageRepositorySpec{Provider: "aws", ExclusionList: []string{"^dev-"}},
				Status: v1.ImageRepositoryStatus{ObservedGeneration: 3},
			}},
		{"v1beta2 ImagePolicy",
			&v1beta2.ImagePolicy{Spec: v1beta2.ImagePolicySpec{Policy: v1beta2.ImagePolicyChoice{Alphabetical: &v1beta2.AlphabeticalPolicy{}}}},
			&v1beta2.ImagePolicy{
				Spec: v1beta2.ImagePolicySpec{
					Policy:                 v1beta2.ImagePolicyChoice{Alphabetical: &v1beta2.AlphabeticalPolicy{Order: "asc"}},
					DigestReflectionPolicy: v1beta2.ReflectNever,
				},
				Status: v1beta2.ImagePolicyStatus{ObservedGeneration: -1},
			}},
		{"v1 ImagePolicy numerical",
			&v1.ImagePolicy{Spec: v1.ImagePolicySpec{Policy: v1.ImagePolicyChoice{Numerical: &v1.NumericalPolicy{}}}},
			&v1.ImagePolicy{
				Spec: v1.ImagePolicySpec{
					Policy:                 v1.ImagePolicyChoice{Numerical: &v1.NumericalPolicy{Order: "asc"}},
					DigestReflectionPolicy: v1.ReflectNever,
				},
				Status: v1.ImagePolicyStatus{ObservedGeneration: -1},
			}},
		{"v1 ImageUpdateAutomation",
			&v1.ImageUpdateAutomation{},
			&v1.ImageUpdateAutomation{
				Spec: v1.ImageUpdateAutomationSpec{
					SourceRef: v1.CrossNamespaceSourceReference{Kind: "GitRepository"},
					Update:    &v1.UpdateStrategy{Strategy: v1.UpdateStrategySetters},
				},
				Status: v1.ImageUpdateAutomationStatus{ObservedGeneration: -1},
			}},
		{"v1beta2 ImageUpdateAutomation keeps the path",
			&v1beta2.ImageUpdateAutomation{Spec: v1beta2.ImageUpdateAutomationSpec{Update: &v1beta2.UpdateStrategy{Path: "./apps"}}},
			&v1beta2.ImageUpdateAutomation{
				Spec: v1beta2.ImageUpdateAutomationSpec{
					SourceRef: v1beta2.CrossNamespaceSourceReference{Kind: "GitRepository"},
					Update:    &v1beta2.UpdateStrategy{Strategy: v1beta2.UpdateStrategySetters, Path: "./apps"},
				},
				Status: v1beta2.ImageUpdateAutomationStatus{ObservedGeneration: -1},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scheme.Default(tt.in)
			if diff := cmp.Diff(tt.want, tt.in); diff != "" {
				t.Errorf("defaults (-want +got):\n%s", diff)
			}
		})
	}
}

package validation

import (
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
)

func TestValidateKustomization_CompilesCELExpressions(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*kustomize.Kustomization)
		want   []string
		detail string
	}{
		{
			name: "valid expressions",
			mutate: func(k *kustomize.Kustomization) {
				k.Spec.HealthCheckExprs = []common.CustomHealthCheck{
					{APIVersion: "v1", Kind: "ConfigMap", Current: "data.ready == 'true'", Failed: "data.?ready.orValue('') == 'failed'"},
					{APIVersion: "example.com/v1", Current: "status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')"},
				}
				k.Spec.DependsOn = []kustomize.DependencyReference{{Name: "infra", ReadyExpr: "dep.metadata.labels['v'] == self.metadata.labels['v']"}}
			},
		},
		{
			name: "health check expressions that do not compile",
			mutate: func(k *kustomize.Kustomization) {
				k.Spec.HealthCheckExprs = []common.CustomHealthCheck{
					{APIVersion: "v1", Kind: "ConfigMap", Current: "data.ready ==", InProgress: "data.pending()"},
				}
			},
			want: []string{
				"FieldValueInvalid spec.healthCheckExprs[0].current",
				"FieldValueInvalid spec.healthCheckExprs[0].inProgress",
			},
			detail: "the CEL expression does not compile",
		},
		{
			name: "two entries for one kind",
			mutate: func(k *kustomize.Kustomization) {
				k.Spec.HealthCheckExprs = []common.CustomHealthCheck{
					{APIVersion: "apps/v1", Kind: "Deployment", Current: "true"},
					{APIVersion: "apps/v1", Kind: "Deployment", Current: "false"},
				}
			},
			want:   []string{"FieldValueInvalid spec.healthCheckExprs[1].kind"},
			detail: "healthCheckExprs[0] already covers Deployment.apps",
		},
		{
			name: "readyExpr that does not compile",
			mutate: func(k *kustomize.Kustomization) {
				k.Spec.DependsOn = []kustomize.DependencyReference{{Name: "a"}, {Name: "b", ReadyExpr: "dependency.status.ready"}}
			},
			want:   []string{"FieldValueInvalid spec.dependsOn[1].readyExpr"},
			detail: "undeclared reference to 'dependency'",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := validKustomization()
			tc.mutate(obj)
			errs := ValidateKustomization(obj)
			if got := errorFields(errs); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
			if tc.detail != "" && !strings.Contains(errs.ToAggregate().Error(), tc.detail) {
				t.Errorf("errors %q do not say %q", errs.ToAggregate(), tc.detail)
			}
		})
	}
}

// TestValidateKustomizationUpdate_KeepsStoredExpressions: an object stored
// before expressions were compiled here can still be updated (its
// finalizer removed on deletion, say); new bad expressions are refused.
func TestValidateKustomizationUpdate_KeepsStoredExpressions(t *testing.T) {
	stored := validKustomization()
	stored.Spec.HealthCheckExprs = []common.CustomHealthCheck{
		{APIVersion: "v1", Kind: "ConfigMap", Current: "data.ready =="},
		{APIVersion: "v1", Kind: "ConfigMap", Current: "true"},
	}
	stored.Spec.DependsOn = []kustomize.DependencyReference{{Name: "infra", ReadyExpr: "nope("}}

	unchanged := stored.DeepCopy()
	unchanged.Finalizers = nil
	if errs := ValidateKustomizationUpdate(unchanged, stored); len(errs) != 0 {
		t.Errorf("update keeping the stored expressions refused: %v", errs)
	}

	changed := stored.DeepCopy()
	changed.Spec.HealthCheckExprs[1].Failed = "data.failed =="
	changed.Spec.DependsOn[0].ReadyExpr = "nope(("
	want := []string{"FieldValueInvalid spec.dependsOn[0].readyExpr", "FieldValueInvalid spec.healthCheckExprs[1].failed"}
	if got := errorFields(ValidateKustomizationUpdate(changed, stored)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
}

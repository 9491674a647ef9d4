package helm

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// TestHelmRelease_ReadyExprReplacesTheReadyCheck: a dependency with a
// readyExpr is ready when the expression over self and dep is true, Ready
// condition or not (Flux's default); an expression that does not compile
// stalls.
func TestHelmRelease_ReadyExprReplacesTheReadyCheck(t *testing.T) {
	w := newWorld(t, chartFiles(t, "app", "1.0.0"))
	db := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "db", Generation: 2,
		Labels: map[string]string{"tier": "data"}}}
	w.r.GetHelmRelease = func(namespace, name string) (*helmv2.HelmRelease, error) { return db, nil }
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "infra", Generation: 1}}
	ks.Status.ObservedGeneration = 1
	ks.Status.Conditions = []metav1.Condition{{Type: common.ReadyCondition, Status: metav1.ConditionTrue}}
	w.r.GetKustomization = func(namespace, name string) (*kustomizev1.Kustomization, error) { return ks, nil }

	obj := webRelease(func(s *helmv2.HelmReleaseSpec) {
		s.DependsOn = []helmv2.DependencyReference{{Name: "db",
			ReadyExpr: `dep.metadata.labels.tier == 'data' && dep.kind == 'HelmRelease' && self.metadata.name == 'web'`}}
	})
	// db is not Ready, yet the expression holds: the release proceeds.
	if res, outcome := w.reconcile(t, obj); outcome != loop.Succeeded {
		t.Fatalf("readyExpr true on a not-Ready dependency: %v %v", outcome, res.Err)
	}

	db.Labels["tier"] = "cache"
	res, outcome := w.reconcile(t, obj)
	if outcome != loop.Waited || !strings.Contains(res.Err.Error(), "not ready according to its readyExpr") {
		t.Errorf("readyExpr false: %v %v; want to wait", outcome, res.Err)
	}

	obj.Spec.DependsOn = []helmv2.DependencyReference{{Kind: "Kustomization", Name: "infra", ReadyExpr: `dep.status.conditions.exists(c, c.type == 'Ready' && c.status == 'False')`}}
	res, outcome = w.reconcile(t, obj)
	if outcome != loop.Waited {
		t.Errorf("readyExpr over a Kustomization: %v %v; want to wait (it is Ready, the expression asks for not)", outcome, res.Err)
	}

	obj.Spec.DependsOn = []helmv2.DependencyReference{{Name: "db", ReadyExpr: `dep.metadata.(`}}
	res, outcome = w.reconcile(t, obj)
	if _, reason := loop.Classify(res.Err, ""); outcome != loop.Stalled || reason != common.InvalidCELExpressionReason ||
		!strings.Contains(res.Err.Error(), "spec.dependsOn[0].readyExpr") {
		t.Errorf("invalid readyExpr: %v %s %v; want Stalled InvalidCELExpression naming the field", outcome, reason, res.Err)
	}
}

// TestHelmRelease_InvalidHealthCheckExprStalls: an expression that does not
// compile stalls before anything is installed.
func TestHelmRelease_InvalidHealthCheckExprStalls(t *testing.T) {
	w := newWorld(t, chartFiles(t, "app", "1.0.0"))
	obj := webRelease(func(s *helmv2.HelmReleaseSpec) {
		s.HealthCheckExprs = []common.CustomHealthCheck{{APIVersion: "v1", Kind: "ConfigMap", Current: "data.ready =="}}
	})
	res, outcome := w.reconcile(t, obj)
	if _, reason := loop.Classify(res.Err, ""); outcome != loop.Stalled || reason != common.InvalidCELExpressionReason ||
		!strings.Contains(res.Err.Error(), "healthCheckExprs[0].current") {
		t.Errorf("%v %s %v", outcome, reason, res.Err)
	}
	wantHistory(t, w)
}

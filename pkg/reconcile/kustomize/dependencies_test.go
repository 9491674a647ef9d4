package kustomize

import (
	"errors"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// TestCheckDependencies_ReadyExprReplacesTheReadyCheck: as in Flux (without
// its AdditiveCELDependencyCheck gate), a readyExpr decides alone, for
// Kustomization and HelmRelease dependencies, and sees the dependent as
// self and the dependency as dep.
func TestCheckDependencies_ReadyExprReplacesTheReadyCheck(t *testing.T) {
	notReady := ks("dep") // never reconciled: the built-in check says no
	notReady.Labels = map[string]string{"app/version": "v2"}
	ready := readyDep("main@sha1:old") // behind the shared source: the built-in check says no too
	ready.Labels = map[string]string{"app/version": "v1"}
	release := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "db", Generation: 2,
		Labels: map[string]string{"app/version": "v2"}}}
	const sameVersion = "dep.metadata.labels['app/version'] == self.metadata.labels['app/version']"

	tests := []struct {
		name string
		dep  *kustomizev1.Kustomization
		ref  kustomizev1.DependencyReference
		want loop.Outcome // Succeeded: no error
	}{
		{"true of a dependency the built-in check refuses", notReady, kustomizev1.DependencyReference{Name: "dep", ReadyExpr: sameVersion}, loop.Succeeded},
		{"false of a dependency the built-in check refuses", ready, kustomizev1.DependencyReference{Name: "dep", ReadyExpr: sameVersion}, loop.Waited},
		{"the built-in check without readyExpr", notReady, kustomizev1.DependencyReference{Name: "dep"}, loop.Waited},
		{"apiVersion and kind are set", notReady, kustomizev1.DependencyReference{Name: "dep",
			ReadyExpr: "dep.apiVersion == 'kustomize.toolkit.fluxcd.io/v1' && dep.kind == 'Kustomization' && self.kind == 'Kustomization'"}, loop.Succeeded},
		{"a HelmRelease the built-in check refuses", nil, kustomizev1.DependencyReference{Kind: "HelmRelease", Name: "db",
			ReadyExpr: sameVersion + " && dep.kind == 'HelmRelease' && dep.metadata.generation == 2"}, loop.Succeeded},
		{"a HelmRelease the expression refuses", nil, kustomizev1.DependencyReference{Kind: "HelmRelease", Name: "db",
			ReadyExpr: "dep.status.?conditions.orValue([]).exists(c, c.type == 'Ready' && c.status == 'True')"}, loop.Waited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := ks("app")
			obj.Labels = map[string]string{"app/version": "v2"}
			obj.Spec.DependsOn = []kustomizev1.DependencyReference{tt.ref}
			r := &Reconciler{
				GetSource: func(kind, namespace, name string) (*Source, error) {
					return &Source{Artifact: &common.Artifact{Revision: "main@sha1:new"}}, nil
				},
				GetKustomization: func(namespace, name string) (*kustomizev1.Kustomization, error) {
					if tt.dep == nil || namespace != "apps" || name != "dep" {
						return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "kustomizations"}, name)
					}
					return tt.dep, nil
				},
				GetHelmRelease: func(namespace, name string) (*helmv2.HelmRelease, error) {
					if namespace != "apps" || name != "db" {
						return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "helmreleases"}, name)
					}
					return release, nil
				},
			}
			err := r.checkDependencies(obj)
			got := loop.Succeeded
			if err != nil {
				got, _ = loop.Classify(err, "")
			}
			if got != tt.want {
				t.Errorf("checkDependencies = %v (%v), want %v", got, err, tt.want)
			}
			var w *loop.Waiting
			if tt.want == loop.Waited && !errors.As(err, &w) {
				t.Errorf("error %v is not a wait", err)
			}
		})
	}
}

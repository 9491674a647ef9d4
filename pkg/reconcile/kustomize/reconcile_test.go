package kustomize

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// finalizerRecorder stands in for the API server's finalizer writes.
type finalizerRecorder struct {
	calls [][]string
	err   error
}

func (f *finalizerRecorder) update(_ context.Context, obj *kustomizev1.Kustomization) (*kustomizev1.Kustomization, error) {
	f.calls = append(f.calls, append([]string(nil), obj.Finalizers...))
	if f.err != nil {
		return nil, f.err
	}
	stored := obj.DeepCopy()
	stored.ResourceVersion = fmt.Sprint(len(f.calls) + 10)
	return stored, nil
}

func TestReconcile_SuspendedChangesNoStatus(t *testing.T) {
	tests := []struct {
		name       string
		finalizers []string
		wantWrites [][]string
	}{
		{name: "finalizer present", finalizers: []string{"other", Finalizer}},
		{name: "finalizer added first", finalizers: []string{"other"}, wantWrites: [][]string{{"other", Finalizer}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := ks("app")
			obj.Finalizers = tt.finalizers
			obj.Spec.Suspend = true
			obj.Annotations = map[string]string{common.ReconcileRequestAnnotation: "now"}
			obj.Status.Inventory = inv("apps_a__ConfigMap")
			before := obj.Status.DeepCopy()
			fin := &finalizerRecorder{}
			events := record.NewFakeRecorder(10)
			// Nothing else is set: a suspended object must not read a
			// source, a dependency or a cluster.
			r := &Reconciler{UpdateFinalizers: fin.update, Events: events}

			if res := r.Reconcile(context.Background(), obj); res != (loop.Result{}) {
				t.Errorf("Result = %+v, want empty", res)
			}
			if !reflect.DeepEqual(&obj.Status, before) {
				t.Errorf("status changed:\n%+v\nwant\n%+v", obj.Status, *before)
			}
			if !reflect.DeepEqual(fin.calls, tt.wantWrites) {
				t.Errorf("finalizer writes = %v, want %v", fin.calls, tt.wantWrites)
			}
			if tt.wantWrites != nil && obj.ResourceVersion != "11" {
				t.Errorf("ResourceVersion = %q, want the stored object's 11", obj.ResourceVersion)
			}
			if len(events.Events) != 0 {
				t.Errorf("recorded event %q", <-events.Events)
			}
		})
	}
}

func TestReconcile_FinalizerWriteFailureFails(t *testing.T) {
	obj := ks("app")
	fin := &finalizerRecorder{err: errors.New("conflict")}
	r := &Reconciler{UpdateFinalizers: fin.update, Events: record.NewFakeRecorder(10)}

	res := r.Reconcile(context.Background(), obj)
	outcome, reason := loop.Classify(res.Err, "")
	if outcome != loop.Failed || reason != kustomize.ReconciliationFailedReason {
		t.Errorf("outcome %v %q, want Failed %q", outcome, reason, kustomize.ReconciliationFailedReason)
	}
	if res.Err == nil || !strings.Contains(res.Err.Error(), "adding finalizer: conflict") {
		t.Errorf("error %v, want it to mention adding the finalizer", res.Err)
	}
}

// TestReconcile_StopsBeforeTheBuild covers the steps that decide without
// an artifact or a cluster: each must set Ready and the retry, and must
// not touch the Store or Targets (both nil here).
func TestReconcile_StopsBeforeTheBuild(t *testing.T) {
	notFound := func(kind, name string) error {
		return apierrors.NewNotFound(schema.GroupResource{Group: "x", Resource: kind}, name)
	}
	withArtifact := &Source{Artifact: &common.Artifact{Revision: "main@sha1:a"}}
	tests := []struct {
		name        string
		mutate      func(*kustomizev1.Kustomization)
		noCrossNS   bool
		deps        map[string]*kustomizev1.Kustomization
		source      *Source
		wantOutcome loop.Outcome
		wantReason  string
		wantMessage string
	}{
		{name: "decryption with a KMS service account", mutate: func(o *kustomizev1.Kustomization) {
			o.Spec.Decryption = &kustomizev1.Decryption{Provider: "sops", ServiceAccountName: "kms"}
		}, source: withArtifact, wantOutcome: loop.Stalled, wantReason: kustomize.ReconciliationFailedReason,
			wantMessage: "spec.decryption.serviceAccountName: authenticating to a cloud KMS as a service account is not supported " +
				"by this server; decrypt with age or OpenPGP keys from spec.decryption.secretRef"},
		{name: "dependency missing", mutate: func(o *kustomizev1.Kustomization) {
			o.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "db"}}
		}, source: withArtifact, wantOutcome: loop.Waited, wantReason: kustomize.DependencyNotReadyReason,
			wantMessage: "dependency 'apps/db' not found"},
		{name: "dependency not ready", mutate: func(o *kustomizev1.Kustomization) {
			o.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "dep"}}
		}, deps: map[string]*kustomizev1.Kustomization{"apps/dep": ks("dep")}, source: withArtifact,
			wantOutcome: loop.Waited, wantReason: kustomize.DependencyNotReadyReason, wantMessage: "dependency 'apps/dep' is not ready"},
		{name: "dependency behind the shared source", mutate: func(o *kustomizev1.Kustomization) {
			o.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "dep"}}
		}, deps: map[string]*kustomizev1.Kustomization{"apps/dep": readyDep("main@sha1:old")}, source: withArtifact,
			wantOutcome: loop.Waited, wantReason: kustomize.DependencyNotReadyReason, wantMessage: "dependency 'apps/dep' is not ready"},
		{name: "dependency in another namespace refused", noCrossNS: true, mutate: func(o *kustomizev1.Kustomization) {
			o.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "dep", Namespace: "infra"}}
		}, source: withArtifact, wantOutcome: loop.Stalled, wantReason: common.AccessDeniedReason,
			wantMessage: "dependency 'infra/dep' is in another namespace and cross-namespace references are disabled"},
		{name: "dependency readyExpr that does not compile", mutate: func(o *kustomizev1.Kustomization) {
			// Refused although the dependency before it is missing.
			o.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "missing"}, {Name: "dep", ReadyExpr: "size(dep.metadata.name)"}}
		}, source: withArtifact, wantOutcome: loop.Stalled, wantReason: common.InvalidCELExpressionReason,
			wantMessage: "spec.dependsOn[1].readyExpr: the expression yields int, not a bool"},
		{name: "dependency readyExpr false", mutate: func(o *kustomizev1.Kustomization) {
			o.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "dep", ReadyExpr: "dep.metadata.generation == 4"}}
		}, deps: map[string]*kustomizev1.Kustomization{"apps/dep": readyDep("main@sha1:a")}, source: withArtifact,
			wantOutcome: loop.Waited, wantReason: kustomize.DependencyNotReadyReason,
			wantMessage: "dependency 'apps/dep' is not ready according to its readyExpr"},
		{name: "dependency readyExpr over a missing field", mutate: func(o *kustomizev1.Kustomization) {
			o.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "dep", ReadyExpr: "dep.metadata.labels['tier'] == 'db'"}}
		}, deps: map[string]*kustomizev1.Kustomization{"apps/dep": readyDep("main@sha1:a")}, source: withArtifact,
			wantOutcome: loop.Waited, wantReason: kustomize.DependencyNotReadyReason,
			wantMessage: "dependency 'apps/dep': evaluating readyExpr: no such key: labels"},
		{name: "healthCheckExprs that do not compile", mutate: func(o *kustomizev1.Kustomization) {
			o.Spec.HealthCheckExprs = []common.CustomHealthCheck{
				{APIVersion: "example.com/v1", Kind: "Widget", Current: "true"},
				{APIVersion: "v1", Kind: "ConfigMap", Current: "data.ready == 'true'", Failed: "data.exist(x, x == 'failed')"}}
		}, source: withArtifact, wantOutcome: loop.Stalled, wantReason: common.InvalidCELExpressionReason,
			wantMessage: "spec.healthCheckExprs[1].failed: undeclared function(s): exist"},
		{name: "source missing", wantOutcome: loop.Waited, wantReason: kustomize.ArtifactFailedReason,
			wantMessage: "Source 'GitRepository/apps/repo' not found"},
		{name: "source without artifact", source: &Source{}, wantOutcome: loop.Waited, wantReason: kustomize.ArtifactFailedReason,
			wantMessage: "Source 'GitRepository/apps/repo' is not ready, artifact not found"},
		{name: "source in another namespace refused", noCrossNS: true, mutate: func(o *kustomizev1.Kustomization) {
			o.Spec.SourceRef.Namespace = "flux-system"
		}, source: withArtifact, wantOutcome: loop.Stalled, wantReason: common.AccessDeniedReason,
			wantMessage: "cannot access GitRepository/flux-system/repo: cross-namespace references are disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := ks("app")
			obj.Finalizers = []string{Finalizer}
			retry := common.Duration("1m")
			obj.Spec.RetryInterval = &retry
			obj.Annotations = map[string]string{common.ReconcileRequestAnnotation: "2025-01-01T00:00:00Z"}
			if tt.mutate != nil {
				tt.mutate(obj)
			}
			events := record.NewFakeRecorder(10)
			r := &Reconciler{
				Options: Options{NoCrossNamespaceRefs: tt.noCrossNS, DependencyRequeue: 7 * time.Second},
				GetSource: func(kind, namespace, name string) (*Source, error) {
					if tt.source == nil || kind != "GitRepository" || namespace != "apps" || name != "repo" {
						return nil, notFound(kind, name)
					}
					return tt.source, nil
				},
				GetKustomization: func(namespace, name string) (*kustomizev1.Kustomization, error) {
					if d, ok := tt.deps[namespace+"/"+name]; ok {
						return d, nil
					}
					return nil, notFound("kustomizations", name)
				},
				UpdateFinalizers: func(context.Context, *kustomizev1.Kustomization) (*kustomizev1.Kustomization, error) {
					t.Fatal("finalizer written although present")
					return nil, nil
				},
				Events: events,
			}

			res := r.Reconcile(context.Background(), obj)

			outcome, reason := loop.Classify(res.Err, "")
			if outcome != tt.wantOutcome || reason != tt.wantReason {
				t.Errorf("outcome %v %q, want %v %q", outcome, reason, tt.wantOutcome, tt.wantReason)
			}
			if res.Err == nil || res.Err.Error() != tt.wantMessage {
				t.Errorf("error %v, want %q", res.Err, tt.wantMessage)
			}
			if res.RequeueAfter != time.Minute {
				t.Errorf("RequeueAfter = %s, want the retry interval 1m", res.RequeueAfter)
			}
			var w *loop.Waiting
			if errors.As(res.Err, &w) && w.RequeueAfter != 7*time.Second {
				t.Errorf("waiting RequeueAfter = %s, want DependencyRequeue 7s", w.RequeueAfter)
			}
			ready := apimeta.FindStatusCondition(obj.Status.Conditions, common.ReadyCondition)
			if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != tt.wantReason ||
				ready.Message != tt.wantMessage || ready.ObservedGeneration != 3 {
				t.Errorf("Ready = %+v, want False %s %q at generation 3", ready, tt.wantReason, tt.wantMessage)
			}
			wantObserved := int64(0)
			if tt.wantOutcome == loop.Stalled {
				wantObserved = 3
			}
			if obj.Status.ObservedGeneration != wantObserved {
				t.Errorf("ObservedGeneration = %d, want %d", obj.Status.ObservedGeneration, wantObserved)
			}
			if obj.Status.LastHandledReconcileAt != "2025-01-01T00:00:00Z" {
				t.Errorf("LastHandledReconcileAt = %q, want the annotation's value", obj.Status.LastHandledReconcileAt)
			}
			if obj.Status.History != nil || obj.Status.LastAttemptedRevision != "" {
				t.Errorf("history %v, last attempted %q: want none before a build", obj.Status.History, obj.Status.LastAttemptedRevision)
			}
			// Waiting is routine; only other failures are Warning events.
			wantEvents := 0
			if tt.wantOutcome != loop.Waited {
				wantEvents = 1
			}
			if len(events.Events) != wantEvents {
				t.Fatalf("%d events, want %d", len(events.Events), wantEvents)
			}
			if wantEvents == 1 {
				if e, want := <-events.Events, "Warning "+tt.wantReason+" "+tt.wantMessage; e != want {
					t.Errorf("event %q, want %q", e, want)
				}
			}
		})
	}
}

// TestReconcile_FinalizeWithoutPruning covers deletions that release the
// finalizer without touching the cluster (Targets is nil here).
func TestReconcile_FinalizeWithoutPruning(t *testing.T) {
	tests := []struct {
		name       string
		finalizers []string
		policy     string
		prune      bool
		suspend    bool
		inventory  *kustomizev1.ResourceInventory
		writeErr   error
		wantWrites [][]string
		wantErr    bool
	}{
		{name: "finalizer already gone", finalizers: []string{"other"}, policy: kustomize.DeletionPolicyDelete,
			inventory: inv("apps_a__ConfigMap")},
		{name: "orphan", finalizers: []string{"other", Finalizer}, policy: kustomize.DeletionPolicyOrphan, prune: true,
			inventory: inv("apps_a__ConfigMap"), wantWrites: [][]string{{"other"}}},
		{name: "mirror prune without prune", finalizers: []string{Finalizer},
			inventory: inv("apps_a__ConfigMap"), wantWrites: [][]string{nil}},
		{name: "suspended", finalizers: []string{Finalizer}, policy: kustomize.DeletionPolicyDelete, suspend: true,
			inventory: inv("apps_a__ConfigMap"), wantWrites: [][]string{nil}},
		{name: "empty inventory", finalizers: []string{Finalizer}, policy: kustomize.DeletionPolicyWaitForTermination,
			inventory: inv(), wantWrites: [][]string{nil}},
		{name: "no inventory", finalizers: []string{Finalizer}, prune: true, wantWrites: [][]string{nil}},
		{name: "object already gone", finalizers: []string{Finalizer}, writeErr: notFoundKustomization(),
			wantWrites: [][]string{nil}},
		{name: "write fails", finalizers: []string{Finalizer}, writeErr: errors.New("conflict"),
			wantWrites: [][]string{nil}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := ks("app")
			now := metav1.Now()
			obj.DeletionTimestamp = &now
			obj.Finalizers = tt.finalizers
			obj.Spec.DeletionPolicy = tt.policy
			obj.Spec.Prune = tt.prune
			obj.Spec.Suspend = tt.suspend
			obj.Status.Inventory = tt.inventory
			fin := &finalizerRecorder{err: tt.writeErr}
			events := record.NewFakeRecorder(10)
			r := &Reconciler{UpdateFinalizers: fin.update, Events: events}

			res := r.Reconcile(context.Background(), obj)

			if (res.Err != nil) != tt.wantErr {
				t.Errorf("error %v, want error %v", res.Err, tt.wantErr)
			}
			if res.RequeueAfter != 0 {
				t.Errorf("RequeueAfter = %s, want 0", res.RequeueAfter)
			}
			if !reflect.DeepEqual(fin.calls, tt.wantWrites) {
				t.Errorf("finalizer writes = %q, want %q", fin.calls, tt.wantWrites)
			}
			if len(events.Events) != 0 {
				t.Errorf("recorded event %q", <-events.Events)
			}
		})
	}
}

func notFoundKustomization() error {
	return apierrors.NewNotFound(schema.GroupResource{Group: kustomize.GroupName, Resource: "kustomizations"}, "app")
}

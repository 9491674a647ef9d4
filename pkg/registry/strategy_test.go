package registry_test

import (
	"context"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apiserver"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/registry"
	notificationregistry "github.com/gitops-apiserver/gitops-apiserver/pkg/registry/notification"
	sourceregistry "github.com/gitops-apiserver/gitops-apiserver/pkg/registry/source"
)

func gitRepositoryKind(t *testing.T) *registry.Kind {
	for _, k := range sourceregistry.Kinds() {
		if k.Resource == "gitrepositories" {
			return k
		}
	}
	t.Fatal("no gitrepositories kind")
	return nil
}

func newRepo(interval string, generation int64) *source.GitRepository {
	return &source.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "flux-system", Generation: generation, Labels: map[string]string{"a": "b"}},
		Spec:       source.GitRepositorySpec{URL: "https://example.com/podinfo.git", Interval: common.Duration(interval)},
		Status:     source.GitRepositoryStatus{ObservedGeneration: 3, Conditions: []metav1.Condition{{Type: "Ready", Status: "True"}}},
	}
}

// strategies returns a kind's strategies, tested here without etcd.
func strategies(t *testing.T, k *registry.Kind) (rest.RESTCreateUpdateStrategy, rest.RESTUpdateStrategy) {
	t.Helper()
	s := registry.NewStrategies(apiserver.Scheme, k, false)
	return s.Main, s.Status
}

func TestStrategy_CreateClearsStatusAndStartsGeneration(t *testing.T) {
	main, _ := strategies(t, gitRepositoryKind(t))
	obj := newRepo("1m", 9)
	main.PrepareForCreate(context.Background(), obj)
	if obj.Status.ObservedGeneration != 0 || obj.Status.Conditions != nil {
		t.Errorf("status kept on create: %+v", obj.Status)
	}
	if obj.Generation != 1 {
		t.Errorf("generation = %d, want 1", obj.Generation)
	}
}

func TestStrategy_SpecWritesKeepStatus(t *testing.T) {
	main, _ := strategies(t, gitRepositoryKind(t))
	old := newRepo("1m", 4)
	updated := newRepo("5m", 4)
	updated.Status = source.GitRepositoryStatus{ObservedGeneration: 99}
	main.PrepareForUpdate(context.Background(), updated, old)
	if updated.Status.ObservedGeneration != 3 {
		t.Errorf("status changed through the main resource: %+v", updated.Status)
	}
	if updated.Generation != 5 {
		t.Errorf("generation = %d after a spec change, want 5", updated.Generation)
	}

	sameSpec := newRepo("1m", 4)
	sameSpec.Labels = map[string]string{"c": "d"}
	main.PrepareForUpdate(context.Background(), sameSpec, old)
	if sameSpec.Generation != 4 {
		t.Errorf("generation = %d after a metadata-only change, want 4", sameSpec.Generation)
	}
}

func TestStrategy_StatusWritesKeepSpecAndMetadata(t *testing.T) {
	_, status := strategies(t, gitRepositoryKind(t))
	old := newRepo("1m", 4)
	updated := newRepo("9m", 7)
	updated.Labels = map[string]string{"sneaky": "label"}
	updated.Status = source.GitRepositoryStatus{ObservedGeneration: 4}
	status.PrepareForUpdate(context.Background(), updated, old)
	if updated.Spec.Interval != "1m" {
		t.Errorf("spec changed through /status: %q", updated.Spec.Interval)
	}
	if updated.Labels["sneaky"] != "" || updated.Generation != 4 {
		t.Errorf("metadata changed through /status: labels %v generation %d", updated.Labels, updated.Generation)
	}
	if updated.Status.ObservedGeneration != 4 {
		t.Errorf("status write lost: %+v", updated.Status)
	}
}

func TestStrategy_ResetFields(t *testing.T) {
	s := registry.NewStrategies(apiserver.Scheme, gitRepositoryKind(t), false)
	main := s.Main.(rest.ResetFieldsStrategy).GetResetFields()
	if set := main["source.toolkit.fluxcd.io/v1"]; set == nil || set.String() != ".status" {
		t.Errorf("main resource resets %v, want .status", main)
	}
	st := s.Status.(rest.ResetFieldsStrategy).GetResetFields()
	if set := st["source.toolkit.fluxcd.io/v1"]; set == nil || set.String() != ".spec" {
		t.Errorf("/status resets %v, want .spec", st)
	}
}

func TestStrategy_KindsWithoutStatus(t *testing.T) {
	var alert *registry.Kind
	for _, k := range notificationregistry.Kinds() {
		if k.Resource == "alerts" {
			alert = k
		}
	}
	s := registry.NewStrategies(apiserver.Scheme, alert, false)
	obj := &notification.Alert{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "n"}}
	s.Main.PrepareForCreate(context.Background(), obj)
	s.Main.PrepareForUpdate(context.Background(), obj.DeepCopy(), obj)
	if fields := s.Main.(rest.ResetFieldsStrategy).GetResetFields(); fields != nil {
		t.Errorf("a kind without status resets %v", fields)
	}
}

func TestStrategy_ValidationUsesTheKind(t *testing.T) {
	main, _ := strategies(t, gitRepositoryKind(t))
	ctx := genericapirequest.WithNamespace(context.Background(), "flux-system")
	bad := newRepo("bogus", 1)
	errs := main.Validate(ctx, runtime.Object(bad))
	if len(errs) == 0 || errs[0].Field != "spec.interval" {
		t.Errorf("errors = %v, want one for spec.interval", errs)
	}
}

func TestStrategy_CreateAddsTheWorkersFinalizer(t *testing.T) {
	k := *gitRepositoryKind(t)
	k.Finalizer = "finalizers.fluxcd.io"
	for _, tc := range []struct {
		workers bool
		have    []string
		want    []string
	}{
		{workers: true, want: []string{"finalizers.fluxcd.io"}},
		{workers: true, have: []string{"example.com/mine"}, want: []string{"example.com/mine", "finalizers.fluxcd.io"}},
		{workers: true, have: []string{"finalizers.fluxcd.io"}, want: []string{"finalizers.fluxcd.io"}},
		// Without workers nothing would ever remove it, and deletion would hang.
		{workers: false, want: nil},
	} {
		s := registry.NewStrategies(apiserver.Scheme, &k, tc.workers)
		obj := newRepo("1m", 0)
		obj.Finalizers = tc.have
		s.Main.PrepareForCreate(context.Background(), obj)
		if !slices.Equal(obj.Finalizers, tc.want) {
			t.Errorf("workers=%v, finalizers %v: got %v, want %v", tc.workers, tc.have, obj.Finalizers, tc.want)
		}
	}
	// Kinds without a worker finalizer get none.
	s := registry.NewStrategies(apiserver.Scheme, gitRepositoryKind(t), true)
	obj := newRepo("1m", 0)
	s.Main.PrepareForCreate(context.Background(), obj)
	if len(obj.Finalizers) != 0 {
		t.Errorf("finalizers = %v, want none", obj.Finalizers)
	}
}

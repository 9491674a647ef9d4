package registry

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// strategy implements create, update and delete for the main resource of a
// kind: spec and metadata are writable, status is kept as it was, and
// metadata.generation counts spec changes (as for Flux's CRDs).
type strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	kind *Kind
	// finalizer is added to every new object; empty for none.
	finalizer string
}

func newStrategy(typer runtime.ObjectTyper, k *Kind, workerFinalizers bool) strategy {
	s := strategy{ObjectTyper: typer, NameGenerator: names.SimpleNameGenerator, kind: k}
	if workerFinalizers {
		s.finalizer = k.Finalizer
	}
	return s
}

func (strategy) NamespaceScoped() bool { return true }

// GetResetFields says that writes to the main resource never set status.
func (s strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	if !s.kind.hasStatus() {
		return nil
	}
	return resetFields(s.kind, "status")
}

func (s strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	zeroField(obj, "Status")
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	m.SetGeneration(1)
	if s.finalizer != "" && !slices.Contains(m.GetFinalizers(), s.finalizer) {
		m.SetFinalizers(append(m.GetFinalizers(), s.finalizer))
	}
}

func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	copyField(obj, old, "Status")
	newMeta, err1 := meta.Accessor(obj)
	oldMeta, err2 := meta.Accessor(old)
	if err1 != nil || err2 != nil {
		return
	}
	generation := oldMeta.GetGeneration()
	if !apiequality.Semantic.DeepEqual(fieldOf(obj, "Spec"), fieldOf(old, "Spec")) {
		generation++
	}
	newMeta.SetGeneration(generation)
}

func (s strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return s.kind.Validate(obj)
}

func (strategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }

func (strategy) AllowCreateOnUpdate(context.Context) bool { return false }

func (strategy) AllowUnconditionalUpdate(context.Context) bool { return true }

func (strategy) Canonicalize(runtime.Object) {}

func (s strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return s.kind.ValidateUpdate(obj, old)
}

func (strategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

// statusStrategy implements updates of the /status subresource: status is
// writable, spec and metadata other than what the API machinery itself
// manages are kept as they were.
type statusStrategy struct {
	strategy
}

// GetResetFields says that writes to /status never set spec.
func (s statusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return resetFields(s.kind, "spec")
}

func (statusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	copyField(obj, old, "Spec")
	newMeta, err1 := meta.Accessor(obj)
	oldMeta, err2 := meta.Accessor(old)
	if err1 != nil || err2 != nil {
		return
	}
	// Status writers may not change labels, annotations or finalizers.
	newMeta.SetLabels(oldMeta.GetLabels())
	newMeta.SetAnnotations(oldMeta.GetAnnotations())
	newMeta.SetFinalizers(oldMeta.GetFinalizers())
	newMeta.SetOwnerReferences(oldMeta.GetOwnerReferences())
	newMeta.SetGeneration(oldMeta.GetGeneration())
}

func (s statusStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	// Metadata cannot change through /status (see PrepareForUpdate).
	if s.kind.ValidateStatusUpdate == nil {
		return nil
	}
	return s.kind.ValidateStatusUpdate(obj, old)
}

func (statusStrategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

func resetFields(k *Kind, path string) map[fieldpath.APIVersion]*fieldpath.Set {
	fields := make(map[fieldpath.APIVersion]*fieldpath.Set, len(k.Versions))
	for _, v := range k.Versions {
		gv := k.GroupKind.Group + "/" + v
		fields[fieldpath.APIVersion(gv)] = fieldpath.NewSet(fieldpath.MakePathOrDie(path))
	}
	return fields
}

// GetAttrs returns labels and fields for selectors: metadata.name and
// metadata.namespace, as for every namespaced resource.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	return labels.Set(m.GetLabels()), generic.ObjectMetaFieldsSet(objectMeta(m), true), nil
}

// MatchObject returns a predicate for label and field selectors.
func MatchObject(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: GetAttrs}
}

func objectMeta(m metav1.Object) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace()}
}

// Every Flux kind is a struct with a Spec field and, except for Alert and
// Provider (v1beta3 has no status), a Status field; these helpers let one
// strategy serve them all. A missing field is left alone.

func structField(obj runtime.Object, name string) reflect.Value {
	return reflect.ValueOf(obj).Elem().FieldByName(name)
}

func fieldOf(obj runtime.Object, name string) interface{} {
	if v := structField(obj, name); v.IsValid() {
		return v.Interface()
	}
	return nil
}

func copyField(dst, src runtime.Object, name string) {
	if v := structField(dst, name); v.IsValid() {
		v.Set(structField(src, name))
	}
}

func zeroField(obj runtime.Object, name string) {
	if v := structField(obj, name); v.IsValid() {
		v.SetZero()
	}
}

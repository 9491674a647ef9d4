package registry

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Kind describes one Flux kind to the generic storage.
type Kind struct {
	// Resource is the plural resource name, e.g. "gitrepositories".
	Resource string
	// Singular is the singular resource name, e.g. "gitrepository".
	Singular string
	// GroupKind of the kind (the internal types' group).
	GroupKind schema.GroupKind
	// ShortNames for kubectl, e.g. "gitrepo".
	ShortNames []string
	// Categories for kubectl, e.g. "fluxcd", "fluxcd-sources".
	Categories []string
	// Versions serving the kind, storage version first.
	Versions []string

	// New returns an empty internal object; NewList an empty internal list.
	New     func() runtime.Object
	NewList func() runtime.Object

	// Validate and ValidateUpdate check an internal object (spec and metadata).
	Validate       func(obj runtime.Object) field.ErrorList
	ValidateUpdate func(obj, old runtime.Object) field.ErrorList
	// ValidateStatusUpdate checks a write to /status; nil accepts any status.
	ValidateStatusUpdate func(obj, old runtime.Object) field.ErrorList

	// Columns are the kind's table columns between NAME and AGE.
	Columns []Column

	// Reconcilable kinds get a /reconcile subresource.
	Reconcilable bool

	// Artifact returns the object's artifact, for kinds that produce one;
	// such kinds get an /artifact subresource.
	Artifact func(obj runtime.Object) *common.Artifact

	// SourceRef returns the source an applier builds from (kind, namespace
	// — empty for the object's own — and name), for /reconcile withSource;
	// ok is false when the object names none (e.g. a chart template).
	SourceRef func(obj runtime.Object) (kind, namespace, name string, ok bool)

	// Applier kinds (Kustomization, HelmRelease) apply manifests to a
	// cluster; they get /diff (what applying now would change) and /tree
	// (what they manage).
	Applier bool

	// Finalizer is the finalizer the kind's worker keeps on every object
	// (to clean up after it on deletion). Objects get it when created,
	// if the workers run with this server (Deps.WorkerFinalizers), which
	// saves the worker a write per object; the worker adds it itself to
	// objects that lost it.
	Finalizer string
}

// hasStatus reports whether the kind has a status (and so a /status
// subresource).
func (k *Kind) hasStatus() bool {
	return structField(k.New(), "Status").IsValid()
}

// Column is one table column and how to compute its cell from an internal object.
type Column struct {
	Name        string
	Type        string // "string", "date", "integer"...
	Description string
	// Priority 0 is shown by default, 1 only with -o wide.
	Priority int32
	Cell     func(obj runtime.Object) interface{}
}

// Typed adapters, so kind declarations use their own types' functions.

// Validate adapts a typed create validation.
func Validate[T runtime.Object](f func(T) field.ErrorList) func(runtime.Object) field.ErrorList {
	return func(obj runtime.Object) field.ErrorList { return f(obj.(T)) }
}

// ValidateUpdate adapts a typed update validation.
func ValidateUpdate[T runtime.Object](f func(T, T) field.ErrorList) func(runtime.Object, runtime.Object) field.ErrorList {
	return func(obj, old runtime.Object) field.ErrorList { return f(obj.(T), old.(T)) }
}

// Text adapts a typed cell function.
func Text[T runtime.Object](f func(T) string) func(runtime.Object) string {
	return func(obj runtime.Object) string { return f(obj.(T)) }
}

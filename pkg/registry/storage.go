package registry

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// REST is the main resource of a kind.
type REST struct {
	*genericregistry.Store
	kind *Kind
}

var (
	_ rest.StandardStorage      = &REST{}
	_ rest.ShortNamesProvider   = &REST{}
	_ rest.CategoriesProvider   = &REST{}
	_ rest.SingularNameProvider = &REST{}
	_ rest.ResetFieldsStrategy  = &REST{}
)

// ShortNames implements rest.ShortNamesProvider.
func (r *REST) ShortNames() []string { return r.kind.ShortNames }

// Categories implements rest.CategoriesProvider.
func (r *REST) Categories() []string { return r.kind.Categories }

// GetSingularName implements rest.SingularNameProvider.
func (r *REST) GetSingularName() string { return r.kind.Singular }

// StatusREST is the /status subresource of a kind.
type StatusREST struct {
	store *genericregistry.Store
}

var (
	_ rest.Patcher             = &StatusREST{}
	_ rest.Storage             = &StatusREST{}
	_ rest.ResetFieldsStrategy = &StatusREST{}
)

// New implements rest.Storage.
func (r *StatusREST) New() runtime.Object { return r.store.New() }

// Destroy implements rest.Storage; the main resource owns the store.
func (r *StatusREST) Destroy() {}

// Get implements rest.Getter.
func (r *StatusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

// Update implements rest.Updater; only the status changes.
func (r *StatusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	// Status updates never create, whatever the caller asks.
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

// GetResetFields implements rest.ResetFieldsStrategy.
func (r *StatusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

// ConvertToTable implements rest.TableConvertor.
func (r *StatusREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}

// Storage is what a kind serves: the main resource and its subresources.
type Storage struct {
	REST      *REST
	Status    *StatusREST
	Artifact  *ArtifactREST
	Reconcile *ReconcileREST
	Diff      *DiffREST
	Tree      *TreeREST
}

// Strategies are the create/update/delete rules of a kind's main resource
// and of its /status subresource.
type Strategies struct {
	Main   rest.RESTCreateUpdateStrategy
	Status rest.RESTUpdateStrategy
}

// NewStrategies returns the strategies NewStorage uses for k, with
// workerFinalizers as in Deps.
func NewStrategies(typer runtime.ObjectTyper, k *Kind, workerFinalizers bool) Strategies {
	s := newStrategy(typer, k, workerFinalizers)
	return Strategies{Main: s, Status: statusStrategy{s}}
}

// NewStorage builds the etcd-backed storage for k.
func NewStorage(scheme *runtime.Scheme, k *Kind, optsGetter generic.RESTOptionsGetter, deps Deps) (*Storage, error) {
	s := newStrategy(scheme, k, deps.WorkerFinalizers)
	gr := k.GroupKind.WithVersion("").GroupVersion().WithResource(k.Resource).GroupResource()
	store := &genericregistry.Store{
		NewFunc:                   k.New,
		NewListFunc:               k.NewList,
		PredicateFunc:             MatchObject,
		DefaultQualifiedResource:  gr,
		SingularQualifiedResource: k.GroupKind.WithVersion("").GroupVersion().WithResource(k.Singular).GroupResource(),
		CreateStrategy:            s,
		UpdateStrategy:            s,
		DeleteStrategy:            s,
		ResetFieldsStrategy:       s,
		TableConvertor:            newTableConvertor(k),
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: GetAttrs}); err != nil {
		return nil, fmt.Errorf("storage for %s: %w", gr, err)
	}
	statusStore := *store
	ss := statusStrategy{s}
	statusStore.UpdateStrategy = ss
	statusStore.ResetFieldsStrategy = ss
	st := &Storage{REST: &REST{Store: store, kind: k}, Status: &StatusREST{store: &statusStore}}
	if k.Artifact != nil {
		st.Artifact = NewArtifactREST(k.GroupKind.Kind, store, deps.Artifacts, k.Artifact)
	}
	if k.Reconcilable {
		st.Reconcile = NewReconcileREST(store, k)
		st.Reconcile.reconcilers, st.Reconcile.authorizer = deps.Reconcilers, deps.Authorizer
		deps.Reconcilers.add(k.GroupKind.Kind, st.Reconcile)
	}
	if k.Applier {
		st.Diff = NewDiffREST(k, store, deps.Differ)
		st.Tree = NewTreeREST(k, store, deps.Trees)
	}
	return st, nil
}

// Map returns the storage keyed by resource path ("gitrepositories",
// "gitrepositories/status"), as APIGroupInfo wants it.
func (s *Storage) Map() map[string]rest.Storage {
	r := s.REST.kind.Resource
	m := map[string]rest.Storage{r: s.REST}
	if s.REST.kind.hasStatus() {
		m[r+"/status"] = s.Status
	}
	if s.Artifact != nil {
		m[r+"/artifact"] = s.Artifact
	}
	if s.Reconcile != nil {
		m[r+"/reconcile"] = s.Reconcile
	}
	if s.Diff != nil {
		m[r+"/diff"] = s.Diff
	}
	if s.Tree != nil {
		m[r+"/tree"] = s.Tree
	}
	return m
}

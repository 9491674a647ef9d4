package apiserver

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/inspect"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/registry"
)

// differ returns the workers' manager as the /diff Differ when the workers
// run and the manager computes diffs; nil (so /diff answers 503) otherwise.
// The assertion goes through an interface value so this compiles whether
// or not the manager has a Diff method.
func differ(m *reconcile.Manager, opts reconcile.Options) registry.Differ {
	if opts.Disabled {
		return nil
	}
	d, _ := interface{}(m).(registry.Differ)
	return d
}

// treeBuilder answers /tree from this server's own storage, so it works
// with the workers disabled. The children of a Kustomization or a
// HelmRelease are its status.inventory (for a HelmRelease, the objects of
// its latest release's manifest). Below the root, a Flux object's inventory is shown only
// to a user who may read that object's own tree (as `flux tree` run with
// the user's credentials would): others see it without children.
type treeBuilder struct {
	// authz is the server's authorizer; nil allows everything.
	authz authorizer.Authorizer
	// appliers are the kinds whose inventory is read, by kind name; filled
	// by add before the server serves.
	appliers map[string]applierSource
}

var _ registry.TreeBuilder = &treeBuilder{}

// applierSource is how the inventory of one kind is read.
type applierSource struct {
	kind    *registry.Kind
	objects rest.Getter
	// inventory lists what obj manages; nil for kinds without an inventory.
	inventory func(obj runtime.Object) ([]inspect.ObjectRef, error)
}

func newTreeBuilder(authz authorizer.Authorizer) *treeBuilder {
	return &treeBuilder{authz: authz, appliers: map[string]applierSource{}}
}

// add registers the storage of an applier kind.
func (b *treeBuilder) add(k *registry.Kind, objects rest.Getter) {
	src := applierSource{kind: k, objects: objects}
	switch k.GroupKind {
	case kustomize.Kind(kustomize.KustomizationKind):
		src.inventory = kustomizationInventory
	case helm.Kind(helm.HelmReleaseKind):
		src.inventory = helmReleaseInventory
	}
	b.appliers[k.GroupKind.Kind] = src
}

// Tree implements registry.TreeBuilder.
func (b *treeBuilder) Tree(ctx context.Context, kind, namespace, name string) (*inspect.Tree, error) {
	src, ok := b.appliers[kind]
	if !ok {
		return nil, fmt.Errorf("%s has no tree", kind)
	}
	root := inspect.ObjectRef{
		APIVersion: src.kind.GroupKind.Group + "/" + src.kind.Versions[0],
		Kind:       kind, Namespace: namespace, Name: name,
	}
	return inspect.BuildTree(ctx, root, b.inventoryFunc(root))
}

// inventoryFunc reads inventories for a tree below root.
func (b *treeBuilder) inventoryFunc(root inspect.ObjectRef) inspect.InventoryFunc {
	return func(ctx context.Context, kind, namespace, name string) ([]inspect.ObjectRef, bool, error) {
		src, ok := b.appliers[kind]
		if !ok {
			return nil, false, nil
		}
		// The request was authorized for the root's tree.
		if kind != root.Kind || namespace != root.Namespace || name != root.Name {
			allowed, err := b.mayReadTree(ctx, src.kind, namespace, name)
			if err != nil || !allowed {
				return nil, true, err
			}
		}
		obj, err := src.objects.Get(genericapirequest.WithNamespace(ctx, namespace), name, &metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, false, nil
		}
		if err != nil || src.inventory == nil {
			return nil, true, err
		}
		refs, err := src.inventory(obj)
		return refs, true, err
	}
}

// mayReadTree asks the authorizer whether the requesting user may get the
// tree of k namespace/name.
func (b *treeBuilder) mayReadTree(ctx context.Context, k *registry.Kind, namespace, name string) (bool, error) {
	if b.authz == nil {
		return true, nil
	}
	u, ok := genericapirequest.UserFrom(ctx)
	if !ok {
		return false, nil
	}
	decision, _, err := b.authz.Authorize(ctx, authorizer.AttributesRecord{
		User: u, Verb: "get", Namespace: namespace, Name: name, ResourceRequest: true,
		APIGroup: k.GroupKind.Group, APIVersion: k.Versions[0], Resource: k.Resource, Subresource: "tree",
	})
	if decision == authorizer.DecisionAllow {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking whether %s may get %s/tree %s/%s: %w", u.GetName(), k.Resource, namespace, name, err)
	}
	return false, nil
}

// kustomizationInventory lists status.inventory.entries of a Kustomization.
func kustomizationInventory(obj runtime.Object) ([]inspect.ObjectRef, error) {
	k, ok := obj.(*kustomize.Kustomization)
	if !ok {
		return nil, fmt.Errorf("expected a Kustomization, got %T", obj)
	}
	if k.Status.Inventory == nil {
		return nil, nil
	}
	ids := make([][2]string, 0, len(k.Status.Inventory.Entries))
	for _, e := range k.Status.Inventory.Entries {
		ids = append(ids, [2]string{e.ID, e.Version})
	}
	return inventoryRefs(ids)
}

func helmReleaseInventory(obj runtime.Object) ([]inspect.ObjectRef, error) {
	hr, ok := obj.(*helm.HelmRelease)
	if !ok {
		return nil, fmt.Errorf("expected a HelmRelease, got %T", obj)
	}
	if hr.Status.Inventory == nil {
		return nil, nil
	}
	ids := make([][2]string, 0, len(hr.Status.Inventory.Entries))
	for _, e := range hr.Status.Inventory.Entries {
		ids = append(ids, [2]string{e.ID, e.Version})
	}
	return inventoryRefs(ids)
}

// inventoryRefs parses inventory entries (ID, version).
func inventoryRefs(ids [][2]string) ([]inspect.ObjectRef, error) {
	refs := make([]inspect.ObjectRef, 0, len(ids))
	for i, e := range ids {
		ref, err := inspect.ParseInventoryID(e[0], e[1])
		if err != nil {
			return nil, fmt.Errorf("status.inventory.entries[%d]: %w", i, err)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

package inspect

import (
	"context"
	"errors"
	"fmt"
)

// MaxTreeDepth bounds how many levels below the root BuildTree descends;
// deeper Flux objects are shown without their children.
const MaxTreeDepth = 20

// Flux kinds whose managed objects BuildTree shows below them.
const (
	KustomizationGroup = "kustomize.toolkit.fluxcd.io"
	KustomizationKind  = "Kustomization"
	HelmReleaseGroup   = "helm.toolkit.fluxcd.io"
	HelmReleaseKind    = "HelmRelease"
)

// ErrNotFound is what BuildTree returns (wrapped) when the root does not exist.
var ErrNotFound = errors.New("not found")

// InventoryFunc returns the objects the Flux object kind/namespace/name
// manages (nil when it has none or isn't a Flux applier); found=false when
// it doesn't exist.
type InventoryFunc func(ctx context.Context, kind, namespace, name string) (refs []ObjectRef, found bool, err error)

// BuildTree returns root and, recursively, what it manages: the inventory
// of every Kustomization and HelmRelease met on the way is shown below it.
// Each of those is expanded once: a later occurrence (a cycle, or an object
// listed in two inventories) is shown without children, as is anything
// deeper than MaxTreeDepth. Children keep the order inventory returns.
func BuildTree(ctx context.Context, root ObjectRef, inventory InventoryFunc) (*Tree, error) {
	refs, found, err := inventory(ctx, root.Kind, root.Namespace, root.Name)
	if err != nil {
		return nil, fmt.Errorf("reading the inventory of %s: %w", root, err)
	}
	if !found {
		return nil, fmt.Errorf("%s: %w", root, ErrNotFound)
	}
	b := treeBuilder{inventory: inventory, expanded: map[objectKey]bool{keyOf(root): true}}
	children, err := b.nodes(ctx, refs, 1)
	if err != nil {
		return nil, err
	}
	return &Tree{Kind: TreeKind, APIVersion: APIVersion, Root: TreeNode{Object: root, Children: children}}, nil
}

// objectKey identifies an object whatever version names it.
type objectKey struct{ group, kind, namespace, name string }

func keyOf(r ObjectRef) objectKey { return objectKey{r.Group(), r.Kind, r.Namespace, r.Name} }

type treeBuilder struct {
	inventory InventoryFunc
	// expanded holds the Flux objects whose inventory was read.
	expanded map[objectKey]bool
}

// nodes returns the nodes of refs, which sit depth levels below the root.
func (b *treeBuilder) nodes(ctx context.Context, refs []ObjectRef, depth int) ([]TreeNode, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	out := make([]TreeNode, 0, len(refs))
	for _, ref := range refs {
		node := TreeNode{Object: ref}
		if k := keyOf(ref); isApplier(k) && depth < MaxTreeDepth && !b.expanded[k] {
			b.expanded[k] = true
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			sub, found, err := b.inventory(ctx, ref.Kind, ref.Namespace, ref.Name)
			if err != nil {
				return nil, fmt.Errorf("reading the inventory of %s: %w", ref, err)
			}
			if found {
				if node.Children, err = b.nodes(ctx, sub, depth+1); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, node)
	}
	return out, nil
}

// isApplier reports whether k is a Flux object that manages others.
func isApplier(k objectKey) bool {
	return (k.group == KustomizationGroup && k.kind == KustomizationKind) ||
		(k.group == HelmReleaseGroup && k.kind == HelmReleaseKind)
}

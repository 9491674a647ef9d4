package registry

import (
	"context"
	"errors"
	"net/http"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/inspect"
)

// TreeBuilder builds the tree of objects a Flux object manages;
// implemented in pkg/apiserver over this server's own storage, so it needs
// no workers.
type TreeBuilder interface {
	// Tree returns kind/namespace/name and, recursively, what it manages.
	// A Kubernetes API status error is answered as is, an error wrapping
	// inspect.ErrNotFound as 404, anything else as a 500.
	Tree(ctx context.Context, kind, namespace, name string) (*inspect.Tree, error)
}

// TreeREST serves GET <resource>/<name>/tree (RBAC: `get` on
// `<resource>/tree`): the objects the Flux object manages, recursively, as
// an inspect.Tree in JSON or, with ?format=text, as inspect.TreeText
// renders it (like `flux tree kustomization`).
type TreeREST struct {
	inspection
	trees TreeBuilder
}

var _ rest.Connecter = &TreeREST{}

// NewTreeREST returns the /tree subresource of k, reading the objects with
// objects (the kind's store) to answer 404 for missing ones.
func NewTreeREST(k *Kind, objects rest.Getter, trees TreeBuilder) *TreeREST {
	return &TreeREST{inspection: inspection{
		kind: k, objects: objects, subresource: "tree",
		unavailable: "this server was built without a tree builder",
	}, trees: trees}
}

// Connect implements rest.Connecter.
func (r *TreeREST) Connect(ctx context.Context, name string, _ runtime.Object, responder rest.Responder) (http.Handler, error) {
	var compute reportFunc
	if r.trees != nil {
		compute = r.tree
	}
	return r.handler(ctx, name, responder, compute), nil
}

func (r *TreeREST) tree(ctx context.Context, ref inspect.ObjectRef) (interface{}, func() string, error) {
	tree, err := r.trees.Tree(ctx, ref.Kind, ref.Namespace, ref.Name)
	if err != nil {
		return nil, nil, err
	}
	if tree == nil {
		return nil, nil, errors.New("the tree builder returned no tree")
	}
	return tree, func() string { return inspect.TreeText(tree) }, nil
}

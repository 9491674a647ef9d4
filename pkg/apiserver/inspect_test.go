package apiserver

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/inspect"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/registry"
	kustomizeregistry "github.com/gitops-apiserver/gitops-apiserver/pkg/registry/kustomize"
)

func TestDiffer_OnlyWhenWorkersRun(t *testing.T) {
	if d := differ(reconcile.NewManager(reconcile.Options{Disabled: true}), reconcile.Options{Disabled: true}); d != nil {
		t.Errorf("disabled workers: differ %T, want nil", d)
	}
	if d := differ(reconcile.NewManager(reconcile.Options{}), reconcile.Options{}); d == nil {
		t.Errorf("the workers' manager no longer implements registry.Differ; /diff would answer 503")
	}
}

// kustomizations is a rest.Getter over Kustomizations keyed "ns/name".
type kustomizations map[string]*kustomize.Kustomization

func (k kustomizations) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	ns, _ := genericapirequest.NamespaceFrom(ctx)
	if o, ok := k[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, apierrors.NewNotFound(kustomize.Resource("kustomizations"), name)
}

func withInventory(ns, name string, ids ...string) *kustomize.Kustomization {
	k := &kustomize.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	k.Status.Inventory = &kustomize.ResourceInventory{}
	for _, id := range ids {
		k.Status.Inventory.Entries = append(k.Status.Inventory.Entries, kustomize.ResourceRef{ID: id, Version: "v1"})
	}
	return k
}

// namespaceAuthorizer allows the tree of Kustomizations in one namespace.
func namespaceAuthorizer(namespace string) authorizer.Authorizer {
	return authorizer.AuthorizerFunc(func(_ context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
		if attrs.GetNamespace() == namespace && attrs.GetResource() == "kustomizations" && attrs.GetSubresource() == "tree" &&
			attrs.GetVerb() == "get" && attrs.GetUser().GetName() == "viewer" {
			return authorizer.DecisionAllow, "", nil
		}
		return authorizer.DecisionNoOpinion, "", nil
	})
}

func TestTreeBuilder_ExpandsOnlyWhatTheUserMayRead(t *testing.T) {
	store := kustomizations{
		"apps/root":   withInventory("apps", "root", "apps_child_kustomize.toolkit.fluxcd.io_Kustomization", "infra_other_kustomize.toolkit.fluxcd.io_Kustomization"),
		"apps/child":  withInventory("apps", "child", "apps_web_apps_Deployment"),
		"infra/other": withInventory("infra", "other", "infra_db_apps_StatefulSet"),
	}
	var k *registry.Kind
	for _, kk := range kustomizeregistry.Kinds() {
		if kk.Resource == "kustomizations" {
			k = kk
		}
	}
	b := newTreeBuilder(namespaceAuthorizer("apps"))
	b.add(k, store)
	ctx := genericapirequest.WithUser(context.Background(), &user.DefaultInfo{Name: "viewer"})
	tree, err := b.Tree(ctx, "Kustomization", "apps", "root")
	if err != nil {
		t.Fatal(err)
	}
	want := `Kustomization/apps/root
├── Kustomization/apps/child
│   └── Deployment/apps/web
└── Kustomization/infra/other
`
	if got := inspect.TreeText(tree); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if tree.Root.Object.APIVersion != "kustomize.toolkit.fluxcd.io/v1" {
		t.Errorf("root apiVersion %q", tree.Root.Object.APIVersion)
	}

	store["apps/root"].Status.Inventory.Entries[0].ID = "not-an-id"
	if _, err := b.Tree(ctx, "Kustomization", "apps", "root"); err == nil {
		t.Errorf("an invalid inventory id was accepted")
	}
	if _, err := b.Tree(ctx, "Kustomization", "apps", "gone"); err == nil {
		t.Errorf("a missing root was accepted")
	}
}

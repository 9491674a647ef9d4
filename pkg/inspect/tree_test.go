package inspect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func ks(namespace, name string) ObjectRef {
	return ObjectRef{APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: KustomizationKind, Namespace: namespace, Name: name}
}

func hr(namespace, name string) ObjectRef {
	return ObjectRef{APIVersion: "helm.toolkit.fluxcd.io/v2", Kind: HelmReleaseKind, Namespace: namespace, Name: name}
}

func deploy(namespace, name string) ObjectRef {
	return ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: namespace, Name: name}
}

// fakeInventory serves inventories from a map keyed "Kind/ns/name" and
// counts the reads.
type fakeInventory struct {
	refs  map[string][]ObjectRef
	reads map[string]int
	fail  string
}

func (f *fakeInventory) get(_ context.Context, kind, namespace, name string) ([]ObjectRef, bool, error) {
	key := kind + "/" + namespace + "/" + name
	if f.reads == nil {
		f.reads = map[string]int{}
	}
	f.reads[key]++
	if key == f.fail {
		return nil, false, errors.New("etcd is down")
	}
	refs, ok := f.refs[key]
	return refs, ok, nil
}

func TestBuildTree_RecursesIntoFluxAppliers(t *testing.T) {
	inv := &fakeInventory{refs: map[string][]ObjectRef{
		"Kustomization/flux-system/apps": {
			{APIVersion: "v1", Kind: "Namespace", Name: "podinfo"},
			ks("flux-system", "infra"),
			hr("podinfo", "redis"),
			deploy("podinfo", "podinfo"),
		},
		"Kustomization/flux-system/infra": {deploy("infra", "x")},
		"HelmRelease/podinfo/redis":       nil,
	}}
	tree, err := BuildTree(context.Background(), ks("flux-system", "apps"), inv.get)
	if err != nil {
		t.Fatal(err)
	}
	if tree.Kind != TreeKind || tree.APIVersion != APIVersion {
		t.Errorf("kind/apiVersion = %s %s", tree.Kind, tree.APIVersion)
	}
	want := `Kustomization/flux-system/apps
├── Namespace/podinfo
├── Kustomization/flux-system/infra
│   └── Deployment/infra/x
├── HelmRelease/podinfo/redis
└── Deployment/podinfo/podinfo
`
	if got := TreeText(tree); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if inv.reads["Deployment/podinfo/podinfo"] != 0 {
		t.Errorf("read the inventory of a Deployment")
	}
}

func TestBuildTree_OnlyFluxGroupsAreAppliers(t *testing.T) {
	// A Kustomization of another group (kustomize.config.k8s.io) is a leaf.
	other := ObjectRef{APIVersion: "kustomize.config.k8s.io/v1beta1", Kind: KustomizationKind, Namespace: "ns", Name: "k"}
	inv := &fakeInventory{refs: map[string][]ObjectRef{
		"Kustomization/ns/root": {other},
		"Kustomization/ns/k":    {deploy("ns", "should-not-show")},
	}}
	tree, err := BuildTree(context.Background(), ks("ns", "root"), inv.get)
	if err != nil {
		t.Fatal(err)
	}
	if n := tree.Root.Children[0]; len(n.Children) != 0 {
		t.Errorf("expanded %s: %+v", n.Object, n.Children)
	}
}

func TestBuildTree_StopsAtCycles(t *testing.T) {
	inv := &fakeInventory{refs: map[string][]ObjectRef{
		"Kustomization/ns/a": {ks("ns", "b")},
		"Kustomization/ns/b": {ks("ns", "a"), ks("ns", "b"), deploy("ns", "x")},
	}}
	tree, err := BuildTree(context.Background(), ks("ns", "a"), inv.get)
	if err != nil {
		t.Fatal(err)
	}
	want := `Kustomization/ns/a
└── Kustomization/ns/b
    ├── Kustomization/ns/a
    ├── Kustomization/ns/b
    └── Deployment/ns/x
`
	if got := TreeText(tree); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	for key, n := range inv.reads {
		if n != 1 {
			t.Errorf("%s read %d times", key, n)
		}
	}
}

func TestBuildTree_BoundsDepth(t *testing.T) {
	// A chain k0 → k1 → … longer than MaxTreeDepth.
	inv := &fakeInventory{refs: map[string][]ObjectRef{}}
	for i := 0; i < 2*MaxTreeDepth; i++ {
		inv.refs[fmt.Sprintf("Kustomization/ns/k%d", i)] = []ObjectRef{ks("ns", fmt.Sprintf("k%d", i+1))}
	}
	tree, err := BuildTree(context.Background(), ks("ns", "k0"), inv.get)
	if err != nil {
		t.Fatal(err)
	}
	depth := 0
	for n := tree.Root; len(n.Children) > 0; n = n.Children[0] {
		depth++
	}
	if depth != MaxTreeDepth {
		t.Errorf("depth = %d, want %d", depth, MaxTreeDepth)
	}
}

func TestBuildTree_Errors(t *testing.T) {
	inv := &fakeInventory{refs: map[string][]ObjectRef{
		"Kustomization/ns/a": {ks("ns", "gone"), ks("ns", "broken")},
	}, fail: "Kustomization/ns/broken"}

	if _, err := BuildTree(context.Background(), ks("ns", "missing"), inv.get); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing root: err = %v, want ErrNotFound", err)
	}
	_, err := BuildTree(context.Background(), ks("ns", "a"), inv.get)
	if err == nil || !strings.Contains(err.Error(), "Kustomization/ns/broken") || !strings.Contains(err.Error(), "etcd is down") {
		t.Errorf("failing child: err = %v", err)
	}

	// A child listed in an inventory but deleted since is a leaf.
	inv.fail = ""
	tree, err := BuildTree(context.Background(), ks("ns", "a"), inv.get)
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Root.Children) != 2 || tree.Root.Children[0].Children != nil {
		t.Errorf("children: %+v", tree.Root.Children)
	}
}

package source

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

func TestCleanRel_RefusesPathsLeavingTheRoot(t *testing.T) {
	for _, tc := range []struct {
		rel, want string
		ok        bool
	}{
		{"policies", "policies", true}, {"a/b/../c", "a/c", true}, {"", ".", true}, {".", ".", true}, {"./x/", "x", true},
		{"..", "", false}, {"../x", "", false}, {"a/../../x", "", false}, {"/etc", "", false},
	} {
		got, err := cleanRel(tc.rel)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("cleanRel(%q) = %q, %v; want %q ok=%v", tc.rel, got, err, tc.want, tc.ok)
		}
	}
}

// A symlink committed to the includer's repository must not redirect the
// include's writes or removals outside the checkout.
func TestInclude_SymlinkInCheckoutCannotRedirectWrites(t *testing.T) {
	store, err := artifact.NewStore(t.TempDir(), artifact.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "p"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "p", "evil.yaml"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := store.Put(context.Background(), artifact.Key{Kind: "GitRepository", Namespace: "ns", Name: "shared"}, src, artifact.ArchiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	sentinel := filepath.Join(outside, "keep.txt")
	if err := os.WriteFile(sentinel, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkout := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(checkout, "link")); err != nil {
		t.Fatal(err)
	}
	r := &GitRepositoryReconciler{Env: &Env{Store: store, TmpDir: t.TempDir(), MaxFetchSize: 1 << 20}}
	obj := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app"}}
	obj.Spec.Include = []sourcev1.GitRepositoryInclude{{GitRepositoryRef: common.LocalObjectReference{Name: "shared"}, FromPath: "p", ToPath: "link/sub"}}
	_ = r.copyIncludes(obj, checkout, []*common.Artifact{{Path: a.Path}})
	if b, err := os.ReadFile(sentinel); err != nil || string(b) != "keep" {
		t.Errorf("a file outside the checkout was removed or changed: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(outside, "sub")); err == nil {
		t.Error("the include wrote outside the checkout through a symlink")
	}
}

func TestSameArtifacts_ComparesDigestsInOrder(t *testing.T) {
	a := &common.Artifact{Digest: "sha256:a"}
	b := &common.Artifact{Digest: "sha256:b"}
	if !sameArtifacts(nil, nil) || !sameArtifacts([]*common.Artifact{a, b}, []*common.Artifact{{Digest: "sha256:a"}, {Digest: "sha256:b"}}) {
		t.Error("equal lists reported different")
	}
	if sameArtifacts([]*common.Artifact{a, b}, []*common.Artifact{b, a}) || sameArtifacts([]*common.Artifact{a}, nil) {
		t.Error("different lists reported equal")
	}
}

func TestRun_ObservesTheGenerationOnlyWhenHandled(t *testing.T) {
	env := &Env{Events: record.NewFakeRecorder(10)}
	for _, tc := range []struct {
		err  error
		want int64
	}{
		{nil, 5}, {loop.Stallf("InvalidURL", "bad"), 5}, {loop.Failf("GitOperationFailed", "timeout"), 3},
	} {
		obj := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "n", Generation: 5}}
		obj.Spec.Interval = "1m"
		obj.Status.ObservedGeneration = 3
		env.run(obj, sourceState{interval: obj.Spec.Interval, request: &obj.Status.ReconcileRequestStatus,
			conditions: &obj.Status.Conditions, observedGeneration: &obj.Status.ObservedGeneration},
			func() (string, error) { return "ok", tc.err })
		if obj.Status.ObservedGeneration != tc.want {
			t.Errorf("%v: observedGeneration = %d, want %d", tc.err, obj.Status.ObservedGeneration, tc.want)
		}
	}
}

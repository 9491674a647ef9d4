package kustomize

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
)

// TestPostBuild_SubstituteStrategyAlwaysSubstitutesWithoutVariables: with
// no variable defined, the default strategy (WithVariables) leaves
// "${GREETING:=hello}" as written, and Always expands it to its default.
func TestPostBuild_SubstituteStrategyAlwaysSubstitutesWithoutVariables(t *testing.T) {
	store, err := artifact.NewStore(t.TempDir(), artifact.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  greeting: ${GREETING:=hello}\n"
	if err := os.WriteFile(filepath.Join(dir, "cm.yaml"), []byte(cm), 0o644); err != nil {
		t.Fatal(err)
	}
	key := artifact.Key{Kind: "GitRepository", Namespace: "apps", Name: "repo"}
	stored, err := store.Put(context.Background(), key, dir, artifact.ArchiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := &common.Artifact{Path: stored.Path, Revision: "main@sha1:0123456789abcdef0123456789abcdef01234567", Digest: stored.Digest}
	r := &Reconciler{Store: store}

	for _, tc := range []struct {
		strategy string
		want     string
	}{
		{strategy: "", want: "${GREETING:=hello}"},
		{strategy: kustomize.SubstituteWithVariables, want: "${GREETING:=hello}"},
		{strategy: kustomize.SubstituteAlways, want: "hello"},
	} {
		obj := ks("app")
		obj.Spec.PostBuild = &kustomizev1.PostBuild{SubstituteStrategy: tc.strategy}
		objs, _, err := r.build(context.Background(), obj, key, a)
		if err != nil {
			t.Fatalf("strategy %q: %v", tc.strategy, err)
		}
		if len(objs) != 1 {
			t.Fatalf("strategy %q: %d objects", tc.strategy, len(objs))
		}
		if got, _, _ := unstructured.NestedString(objs[0].Object, "data", "greeting"); got != tc.want {
			t.Errorf("strategy %q: data.greeting = %q, want %q", tc.strategy, got, tc.want)
		}
	}
}

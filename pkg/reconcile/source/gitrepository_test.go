package source

import (
	"context"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

type gitHarness struct {
	rec     *GitRepositoryReconciler
	root    string
	secrets map[string]*corev1.Secret
}

func newGitHarness(t *testing.T) *gitHarness {
	t.Helper()
	root := t.TempDir()
	store, err := artifact.NewStore(root, artifact.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := &gitHarness{root: root, secrets: map[string]*corev1.Secret{}}
	h.rec = &GitRepositoryReconciler{Env: &Env{
		Secret: func(_ context.Context, ns, name string) (*corev1.Secret, error) {
			if s, ok := h.secrets[ns+"/"+name]; ok {
				return s, nil
			}
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
		},
		Store: store, Events: record.NewFakeRecorder(100), TmpDir: t.TempDir(), MaxFetchSize: 1 << 20,
	}}
	return h
}

func (h *gitHarness) basicAuth(ns, name, user, password string) {
	h.secrets[ns+"/"+name] = &corev1.Secret{Data: map[string][]byte{"username": []byte(user), "password": []byte(password)}}
}

func gitRepo(ns, url, secret string, ref *sourcev1.GitRepositoryRef) *sourcev1.GitRepository {
	obj := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app", Generation: 1},
		Spec:       sourcev1.GitRepositorySpec{URL: url, Reference: ref, Interval: common.Duration("1m")},
	}
	if secret != "" {
		obj.Spec.SecretRef = &common.LocalObjectReference{Name: secret}
	}
	return obj
}

// TestGitRepository_CommitRefGetsNoSharedArchiveWithoutAccess is the
// cross-tenant scenario: team A can read a private repository; team B and
// C learned a commit hash and point at the same URL with no or wrong
// credentials. They must fail authentication and get nothing, although the
// commit is archived already; team D with its own valid credentials gets
// it.
func TestGitRepository_CommitRefGetsNoSharedArchiveWithoutAccess(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: "team-a", Password: "a-secret"})
	commit := srv.CreateRepo(t, "private").Commit(t, map[string]string{"secret-plans.yaml": "plan: x\n"}, "private")
	h := newGitHarness(t)
	ctx := context.Background()

	h.basicAuth("team-a", "git", "team-a", "a-secret")
	a := gitRepo("team-a", srv.URL("private"), "git", &sourcev1.GitRepositoryRef{Branch: "main"})
	if res := h.rec.Reconcile(ctx, a); res.Err != nil {
		t.Fatalf("team A: %v", res.Err)
	}
	if a.Status.Artifact == nil || a.Status.Artifact.Revision != "main@sha1:"+commit {
		t.Fatalf("team A artifact = %+v", a.Status.Artifact)
	}

	h.basicAuth("team-c", "git", "team-c", "guessed")
	h.basicAuth("team-d", "git", "team-a", "a-secret")
	for _, tc := range []struct {
		ns, secret string
		wantOK     bool
	}{
		{ns: "team-b"},
		{ns: "team-c", secret: "git"},
		{ns: "team-d", secret: "git", wantOK: true},
	} {
		t.Run(tc.ns, func(t *testing.T) {
			obj := gitRepo(tc.ns, srv.URL("private"), tc.secret, &sourcev1.GitRepositoryRef{Branch: "main", Commit: commit})
			res := h.rec.Reconcile(ctx, obj)
			if tc.wantOK {
				if res.Err != nil || obj.Status.Artifact == nil || obj.Status.Artifact.Digest != a.Status.Artifact.Digest {
					t.Fatalf("with valid credentials: err %v, artifact %+v", res.Err, obj.Status.Artifact)
				}
				return
			}
			if res.Err == nil {
				t.Fatal("reconciled without access")
			}
			if c := apimeta.FindStatusCondition(obj.Status.Conditions, common.ReadyCondition); c == nil || c.Reason != source.AuthenticationFailedReason {
				t.Errorf("Ready = %+v, want reason %s", c, source.AuthenticationFailedReason)
			}
			if obj.Status.Artifact != nil {
				t.Errorf("got artifact %+v", obj.Status.Artifact)
			}
			if files, _ := filepath.Glob(filepath.Join(h.root, "*", tc.ns, "*", "*")); len(files) > 0 {
				t.Errorf("the store holds %v for this namespace", files)
			}
		})
	}
}

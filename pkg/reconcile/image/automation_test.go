package image

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	gitobject "github.com/go-git/go-git/v5/plumbing/object"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	imagev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/v1"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/imageupdate"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

// fleetDeployment has two containers, each marked with the policy that
// sets its image.
const fleetDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: registry.example/web:1.0.0 # {"$imagepolicy": "apps:web"}
      - name: sidecar
        image: registry.example/sidecar:1.0.0 # {"$imagepolicy": "apps:sidecar"}
`

// automationFixture is an ImageUpdateAutomation worker over a Git server
// holding fleetDeployment, with GitRepository apps/fleet on branch main.
type automationFixture struct {
	te       *testEnv
	repo     *gitserver.Repo
	base     string // the first commit
	policies []*imagev1.ImagePolicy
	asked    []string // the GitRepositories read, "namespace/name"
	fetched  []string // the GitRepositories asked to reconcile
	r        *ImageUpdateAutomationReconciler
}

func newAutomationFixture(t *testing.T) *automationFixture {
	t.Helper()
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: "flux", Password: "git-pw"})
	f := &automationFixture{te: newTestEnv(t), repo: srv.CreateRepo(t, "fleet")}
	f.repo.AllowPush(t)
	f.base = f.repo.Commit(t, map[string]string{"app/deployment.yaml": fleetDeployment, "README.md": "fleet\n"}, "initial")
	f.te.secrets["git-auth"] = map[string][]byte{"username": []byte("flux"), "password": []byte("git-pw")}
	source := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: "fleet"},
		Spec: sourcev1.GitRepositorySpec{URL: srv.URL("fleet"), Interval: "1m",
			SecretRef: &common.LocalObjectReference{Name: "git-auth"}, Reference: &sourcev1.GitRepositoryRef{Branch: "main"}},
	}
	f.r = &ImageUpdateAutomationReconciler{
		Env:    f.te.Env,
		TmpDir: t.TempDir(),
		GetGitRepository: func(namespace, name string) (*sourcev1.GitRepository, error) {
			f.asked = append(f.asked, namespace+"/"+name)
			if namespace != source.Namespace || name != source.Name {
				return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "gitrepositories"}, name)
			}
			return source, nil
		},
		// What the source worker's Env.GitOptions makes of the
		// GitRepository: its URL, branch and credentials.
		GitOptions: func(_ context.Context, repo *sourcev1.GitRepository) (git.Options, error) {
			auth, err := git.AuthFromSecret(repo.Spec.URL, f.te.secrets[repo.Spec.SecretRef.Name])
			if err != nil {
				return git.Options{}, err
			}
			return git.Options{URL: repo.Spec.URL, Auth: auth, Ref: git.Ref{Branch: repo.Spec.Reference.Branch}, Timeout: 30 * time.Second}, nil
		},
		ListPolicies: func(namespace string, selector labels.Selector) ([]*imagev1.ImagePolicy, error) {
			var out []*imagev1.ImagePolicy
			for _, p := range f.policies {
				if p.Namespace == namespace && selector.Matches(labels.Set(p.Labels)) {
					out = append(out, p)
				}
			}
			return out, nil
		},
		RequestReconcile: func(_ context.Context, namespace, name string) error {
			f.fetched = append(f.fetched, namespace+"/"+name)
			return nil
		},
	}
	f.policy("web", "registry.example/web", "1.0.1", nil)
	return f
}

// policy adds an ImagePolicy of the namespace whose pick is image:tag.
func (f *automationFixture) policy(name, image, tag string, l map[string]string) {
	f.policies = append(f.policies, &imagev1.ImagePolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: name, Labels: l},
		Status:     imagev1.ImagePolicyStatus{LatestRef: &imagev1.ImageRef{Name: image, Tag: tag}},
	})
}

func automation(git imagev1.GitSpec) *imagev1.ImageUpdateAutomation {
	if git.Commit.Author.Email == "" {
		git.Commit.Author = imagev1.CommitUser{Name: "fluxbot", Email: "fluxbot@example.com"}
	}
	return &imagev1.ImageUpdateAutomation{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: "auto", Generation: 1},
		Spec: imagev1.ImageUpdateAutomationSpec{
			SourceRef: imagev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "fleet"},
			GitSpec:   &git, Interval: "10m",
			Update: &imagev1.UpdateStrategy{Strategy: imagev1.UpdateStrategySetters, Path: "./app"},
		},
	}
}

// run reconciles obj and fails the test unless it pushed; it returns the
// pushed commit as the server has it.
func (f *automationFixture) run(t *testing.T, obj *imagev1.ImageUpdateAutomation) *gitobject.Commit {
	t.Helper()
	if res := f.r.Reconcile(testContext(t), obj); res.Err != nil {
		t.Fatalf("reconcile: %v", res.Err)
	}
	if obj.Status.LastPushCommit == "" {
		t.Fatalf("nothing was pushed: Ready %+v", ready(obj.Status.Conditions))
	}
	return f.serverCommit(t, obj.Status.LastPushCommit)
}

func (f *automationFixture) serverCommit(t *testing.T, hash string) *gitobject.Commit {
	t.Helper()
	bare, err := gogit.PlainOpen(f.repo.BareDir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := bare.CommitObject(plumbing.NewHash(hash))
	if err != nil {
		t.Fatalf("the server has no commit %s: %v", hash, err)
	}
	return c
}

// manifest is app/deployment.yaml in commit c.
func manifest(t *testing.T, c *gitobject.Commit) string {
	t.Helper()
	file, err := c.File("app/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := file.Contents()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestImageUpdateAutomation_PushBranchRefspecAndOptions: a push branch of
// its own leaves the checkout branch alone, the refspec is pushed as well,
// push options reach the server; a refspec alone pushes only the refspec.
func TestImageUpdateAutomation_PushBranchRefspecAndOptions(t *testing.T) {
	f := newAutomationFixture(t)
	obj := automation(imagev1.GitSpec{
		Checkout: &imagev1.GitCheckoutSpec{Reference: imagev1.GitRepositoryRef{Branch: "main"}},
		Push:     &imagev1.PushSpec{Branch: "auto", Refspec: "refs/heads/auto:refs/heads/review", Options: map[string]string{"ci.skip": ""}},
	})
	c := f.run(t, obj)
	hash := obj.Status.LastPushCommit
	for branch, want := range map[string]string{"main": f.base, "auto": hash, "review": hash} {
		if got := f.repo.ServerHead(t, branch); got != want {
			t.Errorf("server %s = %s, want %s", branch, got, want)
		}
	}
	if got := f.repo.ReceivedPushOptions(t); !slices.Equal(got, []string{"ci.skip="}) {
		t.Errorf("push options received: %q", got)
	}
	if !strings.Contains(manifest(t, c), "registry.example/web:1.0.1 #") || len(c.ParentHashes) != 1 || c.ParentHashes[0].String() != f.base {
		t.Errorf("pushed commit %s (parents %v):\n%s", hash, c.ParentHashes, manifest(t, c))
	}
	if obj.Status.ObservedSourceRevision != "auto@sha1:"+hash || !slices.Equal(f.fetched, []string{"apps/fleet"}) {
		t.Errorf("observedSourceRevision %q, GitRepositories asked to reconcile %v", obj.Status.ObservedSourceRevision, f.fetched)
	}

	// A refspec alone, as for Gerrit: main stays, the refspec gets the commit.
	obj = automation(imagev1.GitSpec{Push: &imagev1.PushSpec{Refspec: "HEAD:refs/heads/for-review"}})
	f.run(t, obj)
	if got := f.repo.ServerHead(t, "for-review"); got != obj.Status.LastPushCommit {
		t.Errorf("server for-review = %s, want %s", got, obj.Status.LastPushCommit)
	}
	if got := f.repo.ServerHead(t, "main"); got != f.base {
		t.Errorf("a refspec-only push moved main to %s", got)
	}
	if got := f.repo.ReceivedPushOptions(t); len(got) != 0 {
		t.Errorf("push options %q were sent without spec.git.push.options", got)
	}
}

// TestImageUpdateAutomation_CheckoutRefKinds: every kind of
// spec.git.checkout.ref picks the commit the update is made on; a checkout
// that is no branch needs spec.git.push.branch.
func TestImageUpdateAutomation_CheckoutRefKinds(t *testing.T) {
	f := newAutomationFixture(t)
	f.repo.Tag(t, "v1.0.0")
	moved := f.repo.Commit(t, map[string]string{"README.md": "fleet v2\n"}, "main moves on")
	for _, tc := range []struct {
		name   string
		ref    imagev1.GitRepositoryRef
		parent string
	}{
		{name: "branch", ref: imagev1.GitRepositoryRef{Branch: "main"}, parent: moved},
		{name: "tag", ref: imagev1.GitRepositoryRef{Tag: "v1.0.0"}, parent: f.base},
		{name: "semver", ref: imagev1.GitRepositoryRef{SemVer: "~1.0"}, parent: f.base},
		{name: "name", ref: imagev1.GitRepositoryRef{Name: "refs/tags/v1.0.0"}, parent: f.base},
		{name: "commit", ref: imagev1.GitRepositoryRef{Commit: f.base}, parent: f.base},
	} {
		t.Run(tc.name, func(t *testing.T) {
			branch := "auto-" + tc.name
			obj := automation(imagev1.GitSpec{Checkout: &imagev1.GitCheckoutSpec{Reference: tc.ref}, Push: &imagev1.PushSpec{Branch: branch}})
			c := f.run(t, obj)
			if len(c.ParentHashes) != 1 || c.ParentHashes[0].String() != tc.parent {
				t.Errorf("the update was made on %v, want %s", c.ParentHashes, tc.parent)
			}
			if got := f.repo.ServerHead(t, branch); got != obj.Status.LastPushCommit {
				t.Errorf("server %s = %s, want %s", branch, got, obj.Status.LastPushCommit)
			}
		})
	}

	obj := automation(imagev1.GitSpec{Checkout: &imagev1.GitCheckoutSpec{Reference: imagev1.GitRepositoryRef{Tag: "v1.0.0"}}})
	f.r.Reconcile(testContext(t), obj)
	if r := ready(obj.Status.Conditions); !stalled(obj.Status.Conditions) || !strings.Contains(r.Message, "spec.git.push.branch is required") {
		t.Errorf("a tag checkout without a push branch: Ready %+v, want a stall naming spec.git.push.branch", r)
	}
}

// armoredPrivateKey exports key's private key, encrypted with passphrase.
func armoredPrivateKey(t *testing.T, key gitserver.PGPKey, passphrase string) []byte {
	t.Helper()
	var plain bytes.Buffer
	w, err := armor.Encode(&plain, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := key.Entity.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Encrypt a copy, so the test's key stays usable.
	keys, err := openpgp.ReadArmoredKeyRing(&plain)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys[0].EncryptPrivateKeys([]byte(passphrase), nil); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if w, err = armor.Encode(&out, openpgp.PrivateKeyType, nil); err != nil {
		t.Fatal(err)
	}
	if err := keys[0].SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestImageUpdateAutomation_SigningKeySignsTheCommit: the commit is signed
// with the (encrypted) OpenPGP key of spec.git.commit.signingKey; a Secret
// without the key stalls naming the field.
func TestImageUpdateAutomation_SigningKeySignsTheCommit(t *testing.T) {
	f := newAutomationFixture(t)
	key := gitserver.NewPGPKey(t, "Flux Bot", "fluxbot@example.com")
	const passphrase = "signing-key-passphrase"
	f.te.secrets["signing"] = map[string][]byte{imageupdate.SigningKeySecretKey: armoredPrivateKey(t, key, passphrase),
		imageupdate.PassphraseSecretKey: []byte(passphrase)}
	f.te.secrets["empty"] = map[string][]byte{}

	obj := automation(imagev1.GitSpec{})
	obj.Spec.GitSpec.Commit.SigningKey = &imagev1.SigningKey{SecretRef: common.LocalObjectReference{Name: "empty"}}
	f.r.Reconcile(testContext(t), obj)
	if r := ready(obj.Status.Conditions); !stalled(obj.Status.Conditions) || !strings.Contains(r.Message, "spec.git.commit.signingKey") {
		t.Errorf("a Secret without %s: Ready %+v, want a stall naming spec.git.commit.signingKey", imageupdate.SigningKeySecretKey, r)
	}

	obj = automation(imagev1.GitSpec{})
	obj.Spec.GitSpec.Commit.SigningKey = &imagev1.SigningKey{SecretRef: common.LocalObjectReference{Name: "signing"}, Type: imagev1.SigningKeyTypeGPG}
	c := f.run(t, obj)
	if _, err := c.Verify(string(key.ArmoredPublic)); err != nil {
		t.Errorf("the pushed commit does not verify with the signing key: %v", err)
	}
	if c.PGPSignature == "" {
		t.Error("the pushed commit is not signed")
	}
}

// TestImageUpdateAutomation_MessageTemplateValues: the commit message is the
// template over the changes and spec.git.commit.messageTemplateValues, by
// the author of spec.git.commit.author.
func TestImageUpdateAutomation_MessageTemplateValues(t *testing.T) {
	f := newAutomationFixture(t)
	obj := automation(imagev1.GitSpec{Commit: imagev1.CommitSpec{
		Author:                imagev1.CommitUser{Name: "Image Bot", Email: "image-bot@example.com"},
		MessageTemplate:       "Deploy to {{ .Values.env }} by {{ .AutomationObject }}\n{{ range .Changed.Changes }}{{ .OldValue }} -> {{ .NewValue }}\n{{ end }}",
		MessageTemplateValues: map[string]string{"env": "production"},
	}})
	c := f.run(t, obj)
	want := "Deploy to production by apps/auto\nregistry.example/web:1.0.0 -> registry.example/web:1.0.1\n"
	if c.Message != want {
		t.Errorf("message %q, want %q", c.Message, want)
	}
	if c.Author.Name != "Image Bot" || c.Author.Email != "image-bot@example.com" {
		t.Errorf("author %s <%s>", c.Author.Name, c.Author.Email)
	}
}

// TestImageUpdateAutomation_PolicySelectorPicksThePolicies: only the
// policies spec.policySelector selects are written; without a selector,
// all of the namespace's are.
func TestImageUpdateAutomation_PolicySelectorPicksThePolicies(t *testing.T) {
	f := newAutomationFixture(t)
	f.policies[0].Labels = map[string]string{"automation": "on"}
	f.policy("sidecar", "registry.example/sidecar", "2.0.0", nil)

	obj := automation(imagev1.GitSpec{})
	obj.Spec.PolicySelector = &metav1.LabelSelector{MatchLabels: map[string]string{"automation": "on"}}
	m := manifest(t, f.run(t, obj))
	if !strings.Contains(m, "registry.example/web:1.0.1 #") || !strings.Contains(m, "registry.example/sidecar:1.0.0 #") {
		t.Errorf("with the selector:\n%s\nwant web updated and sidecar left", m)
	}
	if _, ok := obj.Status.ObservedPolicies["sidecar"]; ok || len(obj.Status.ObservedPolicies) != 1 {
		t.Errorf("observedPolicies %v, want web only", obj.Status.ObservedPolicies)
	}

	obj = automation(imagev1.GitSpec{})
	if m := manifest(t, f.run(t, obj)); !strings.Contains(m, "registry.example/sidecar:2.0.0 #") {
		t.Errorf("without a selector:\n%s\nwant sidecar updated too", m)
	}
}

// TestImageUpdateAutomation_SourceRefNamespace: spec.sourceRef.namespace
// names where the GitRepository is; in lockdown another namespace is
// refused before anything is read.
func TestImageUpdateAutomation_SourceRefNamespace(t *testing.T) {
	f := newAutomationFixture(t)
	obj := automation(imagev1.GitSpec{})
	obj.Spec.SourceRef.Namespace = "infra"
	res := f.r.Reconcile(testContext(t), obj)
	if kind, _ := loop.Classify(res.Err, ""); kind != loop.Waited || !slices.Equal(f.asked, []string{"infra/fleet"}) {
		t.Errorf("outcome %v (%v), GitRepositories read %v; want a wait for infra/fleet", kind, res.Err, f.asked)
	}
	f.asked = nil
	f.te.Lockdown = true
	f.r.Reconcile(testContext(t), obj)
	if r := ready(obj.Status.Conditions); !stalled(obj.Status.Conditions) || !strings.Contains(r.Message, "cross-namespace") || len(f.asked) != 0 {
		t.Errorf("in lockdown: Ready %+v, read %v; want a stall before any read", r, f.asked)
	}
}

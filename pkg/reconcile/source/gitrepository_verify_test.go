package source

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

// trustKeys stores the public keys as the Secret ns/name, one data value each.
func (h *gitHarness) trustKeys(ns, name string, keys ...gitserver.PGPKey) {
	data := map[string][]byte{}
	for _, k := range keys {
		data[k.KeyID+".asc"] = k.ArmoredPublic
	}
	h.secrets[ns+"/"+name] = &corev1.Secret{Data: data}
}

// verifiedGitRepo is gitRepo with spec.verify using the Secret "pgp".
func verifiedGitRepo(ns, url string, ref *sourcev1.GitRepositoryRef, mode sourcev1.GitVerificationMode) *sourcev1.GitRepository {
	obj := gitRepo(ns, url, "", ref)
	obj.Spec.Verification = &sourcev1.GitRepositoryVerification{Mode: mode, SecretRef: common.LocalObjectReference{Name: "pgp"}}
	return obj
}

// storedFiles lists the artifacts the store holds for namespace ns.
func (h *gitHarness) storedFiles(ns string) []string {
	files, _ := filepath.Glob(filepath.Join(h.root, "*", ns, "*", "*"))
	return files
}

// moveBranch force-moves branch of repo's bare repository to hash, as a
// force push would.
func moveBranch(t *testing.T, repo *gitserver.Repo, branch, hash string) {
	t.Helper()
	cmd := exec.Command("git", "--git-dir", repo.BareDir, "update-ref", "refs/heads/"+branch, hash)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git update-ref: %v: %s", err, out)
	}
}

func condition(obj *sourcev1.GitRepository, t string) *metav1.Condition {
	return apimeta.FindStatusCondition(obj.Status.Conditions, t)
}

// wantVerified checks Ready and SourceVerified after a run that stored a
// verified artifact.
func wantVerified(t *testing.T, obj *sourcev1.GitRepository, mode sourcev1.GitVerificationMode, msgParts ...string) {
	t.Helper()
	if c := condition(obj, common.ReadyCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("Ready = %+v", c)
	}
	if m := obj.Status.SourceVerificationMode; m == nil || *m != mode {
		t.Errorf("sourceVerificationMode = %v, want %s", m, mode)
	}
	c := condition(obj, source.SourceVerifiedCondition)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != common.SucceededReason {
		t.Fatalf("SourceVerified = %+v", c)
	}
	for _, p := range msgParts {
		if !strings.Contains(c.Message, p) {
			t.Errorf("SourceVerified message %q lacks %q", c.Message, p)
		}
	}
}

// wantNotVerified checks Ready and SourceVerified after a run that refused
// to store, and that no message quotes the trusted key.
func wantNotVerified(t *testing.T, obj *sourcev1.GitRepository, reason string, key gitserver.PGPKey, msgParts ...string) {
	t.Helper()
	ready := condition(obj, common.ReadyCondition)
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != reason {
		t.Fatalf("Ready = %+v, want False/%s", ready, reason)
	}
	c := condition(obj, source.SourceVerifiedCondition)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != reason {
		t.Fatalf("SourceVerified = %+v, want False/%s", c, reason)
	}
	for _, p := range msgParts {
		if !strings.Contains(c.Message, p) {
			t.Errorf("SourceVerified message %q lacks %q", c.Message, p)
		}
	}
	body := strings.Split(string(key.ArmoredPublic), "\n")[3]
	for _, cond := range obj.Status.Conditions {
		if strings.Contains(cond.Message, body) {
			t.Errorf("%s message quotes key material: %s", cond.Type, cond.Message)
		}
	}
}

func TestGitRepository_VerifyHEAD_KeepsTheLastVerifiedArtifactWhenACommitFails(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	trusted := gitserver.NewPGPKey(t, "Trusted", "trusted@example.com")
	stranger := gitserver.NewPGPKey(t, "Stranger", "stranger@example.com")
	repo := srv.CreateRepo(t, "app")
	good := repo.CommitSigned(t, map[string]string{"app.yaml": "v1"}, "signed", trusted)

	h := newGitHarness(t)
	h.trustKeys("team", "pgp", trusted)
	obj := verifiedGitRepo("team", srv.URL("app"), &sourcev1.GitRepositoryRef{Branch: "main"}, "")
	ctx := context.Background()
	if res := h.rec.Reconcile(ctx, obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	wantVerified(t, obj, sourcev1.ModeGitHEAD, "verified signature of commit '"+good+"' with key '"+trusted.KeyID+"'")
	last := obj.Status.Artifact.DeepCopy()
	if last.Revision != "main@sha1:"+good {
		t.Fatalf("artifact revision = %s", last.Revision)
	}

	// An unchanged revision is kept without a new checkout, still verified.
	if res := h.rec.Reconcile(ctx, obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	wantVerified(t, obj, sourcev1.ModeGitHEAD)

	for _, tt := range []struct {
		name, want string
		commit     func() string
	}{
		{"unsigned commit", "is not signed", func() string {
			return repo.Commit(t, map[string]string{"app.yaml": "unsigned"}, "unsigned")
		}},
		{"commit signed by an unknown key", "not made by a trusted key", func() string {
			return repo.CommitSigned(t, map[string]string{"app.yaml": "stranger"}, "by a stranger", stranger)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hash := tt.commit()
			if res := h.rec.Reconcile(ctx, obj); res.Err == nil {
				t.Fatal("reconciled an unverified commit")
			}
			wantNotVerified(t, obj, source.InvalidCommitSignatureReason, trusted, hash, tt.want)
			if a := obj.Status.Artifact; a == nil || a.Digest != last.Digest || a.Revision != last.Revision || !h.rec.Store.Exists(a.Path) {
				t.Errorf("artifact = %+v, want the last verified one %+v", a, last)
			}
			if files := h.storedFiles("team"); len(files) != 1 {
				t.Errorf("the store holds %v, want only the verified artifact", files)
			}
		})
	}

	// Upstream goes back to the verified commit: the artifact is current
	// again, and so is its verification.
	moveBranch(t, repo, "main", good)
	if res := h.rec.Reconcile(ctx, obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	wantVerified(t, obj, sourcev1.ModeGitHEAD, good)
	if obj.Status.Artifact.Digest != last.Digest {
		t.Errorf("artifact = %+v, want %+v", obj.Status.Artifact, last)
	}

	next := repo.CommitSigned(t, map[string]string{"app.yaml": "v2"}, "signed again", trusted)
	if res := h.rec.Reconcile(ctx, obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	wantVerified(t, obj, sourcev1.ModeGitHEAD, next)
	if obj.Status.Artifact.Revision != "main@sha1:"+next {
		t.Errorf("artifact revision = %s, want %s", obj.Status.Artifact.Revision, next)
	}
}

func TestGitRepository_VerifyRefusesToStoreWhatItCannotVerify(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	trusted := gitserver.NewPGPKey(t, "Trusted", "trusted@example.com")
	stranger := gitserver.NewPGPKey(t, "Stranger", "stranger@example.com")
	repo := srv.CreateRepo(t, "app")
	repo.Commit(t, map[string]string{"app.yaml": "unsigned"}, "unsigned")
	repo.SignedTag(t, "v1.0.0", "signed tag of an unsigned commit", trusted)
	repo.AnnotatedTag(t, "v1.1.0", "unsigned tag")
	repo.Tag(t, "v1.2.0")
	repo.SignedTag(t, "v1.3.0", "signed by a stranger", stranger)
	repo.Branch(t, "untrusted")
	untrusted := repo.CommitSigned(t, map[string]string{"app.yaml": "stranger"}, "by a stranger", stranger)
	url := srv.URL("app")

	for _, tt := range []struct {
		name      string
		ref       *sourcev1.GitRepositoryRef
		mode      sourcev1.GitVerificationMode
		noSecret  bool
		reason    string
		msg       []string
		wantStall bool
	}{
		{name: "unsigned commit", ref: &sourcev1.GitRepositoryRef{Branch: "main"}, reason: source.InvalidCommitSignatureReason, msg: []string{"is not signed"}},
		{name: "commit signed by an unknown key", ref: &sourcev1.GitRepositoryRef{Branch: "untrusted"}, mode: sourcev1.ModeGitHEADLegacy,
			reason: source.InvalidCommitSignatureReason, msg: []string{untrusted, "not made by a trusted key"}},
		{name: "signed tag of an unsigned commit", ref: &sourcev1.GitRepositoryRef{Tag: "v1.0.0"}, mode: sourcev1.ModeGitTagAndHEAD,
			reason: source.InvalidCommitSignatureReason, msg: []string{"is not signed"}},
		{name: "unsigned annotated tag", ref: &sourcev1.GitRepositoryRef{Tag: "v1.1.0"}, mode: sourcev1.ModeGitTag,
			reason: source.InvalidTagSignatureReason, msg: []string{`tag "v1.1.0" is not signed`}},
		{name: "lightweight tag", ref: &sourcev1.GitRepositoryRef{SemVer: "1.2.x"}, mode: sourcev1.ModeGitTag,
			reason: source.InvalidTagSignatureReason, msg: []string{"lightweight"}},
		{name: "tag signed by an unknown key", ref: &sourcev1.GitRepositoryRef{Tag: "v1.3.0"}, mode: sourcev1.ModeGitTag,
			reason: source.InvalidTagSignatureReason, msg: []string{"not made by a trusted key"}},
		{name: "mode Tag on a branch", ref: &sourcev1.GitRepositoryRef{Branch: "main"}, mode: sourcev1.ModeGitTag,
			reason: source.InvalidVerificationModeReason, msg: []string{"spec.verify.mode", "branch 'main'"}, wantStall: true},
		{name: "missing Secret", ref: &sourcev1.GitRepositoryRef{Branch: "main"}, noSecret: true,
			reason: source.VerificationError, msg: []string{"secret 'team/pgp' (spec.verify.secretRef) not found"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newGitHarness(t)
			if !tt.noSecret {
				h.trustKeys("team", "pgp", trusted)
			}
			obj := verifiedGitRepo("team", url, tt.ref, tt.mode)
			if res := h.rec.Reconcile(context.Background(), obj); res.Err == nil {
				t.Fatal("reconciled without a verified signature")
			}
			wantNotVerified(t, obj, tt.reason, trusted, tt.msg...)
			if c := condition(obj, common.StalledCondition); (c != nil && c.Status == metav1.ConditionTrue) != tt.wantStall {
				t.Errorf("Stalled = %+v, want stalled %v", c, tt.wantStall)
			}
			if obj.Status.Artifact != nil || obj.Status.SourceVerificationMode != nil {
				t.Errorf("artifact %+v, sourceVerificationMode %v", obj.Status.Artifact, obj.Status.SourceVerificationMode)
			}
			if files := h.storedFiles("team"); len(files) > 0 {
				t.Errorf("the store holds %v", files)
			}
		})
	}
}

func TestGitRepository_VerifyTag_StoresSignedTags(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	trusted := gitserver.NewPGPKey(t, "Trusted", "trusted@example.com")
	other := gitserver.NewPGPKey(t, "Other", "other@example.com")
	repo := srv.CreateRepo(t, "app")
	unsigned := repo.Commit(t, map[string]string{"app.yaml": "v1"}, "unsigned")
	repo.SignedTag(t, "v1.0.0", "release 1", trusted)
	signed := repo.CommitSigned(t, map[string]string{"app.yaml": "v2"}, "signed", trusted)
	repo.SignedTag(t, "v2.0.0", "release 2", trusted)

	for _, tt := range []struct {
		name string
		ref  *sourcev1.GitRepositoryRef
		mode sourcev1.GitVerificationMode
		rev  string
		msg  []string
	}{
		{"Tag verifies only the tag", &sourcev1.GitRepositoryRef{Tag: "v1.0.0"}, sourcev1.ModeGitTag, "v1.0.0@sha1:" + unsigned,
			[]string{"verified signature of tag 'v1.0.0' with key '" + trusted.KeyID + "'"}},
		{"TagAndHEAD verifies both", &sourcev1.GitRepositoryRef{SemVer: ">=1.0.0"}, sourcev1.ModeGitTagAndHEAD, "v2.0.0@sha1:" + signed,
			[]string{"tag 'v2.0.0' with key '" + trusted.KeyID + "'", "commit '" + signed + "' with key '" + trusted.KeyID + "'"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newGitHarness(t)
			h.trustKeys("team", "pgp", other, trusted)
			obj := verifiedGitRepo("team", srv.URL("app"), tt.ref, tt.mode)
			if res := h.rec.Reconcile(context.Background(), obj); res.Err != nil {
				t.Fatal(res.Err)
			}
			wantVerified(t, obj, tt.mode, tt.msg...)
			if a := obj.Status.Artifact; a == nil || a.Revision != tt.rev {
				t.Errorf("artifact = %+v, want revision %s", a, tt.rev)
			}
		})
	}
}

// TestGitRepository_VerifyIsNotSkippedByASharedArchive: an object without
// spec.verify archives an unsigned commit; an object of the same URL that
// requires a signature must not be handed that archive.
func TestGitRepository_VerifyIsNotSkippedByASharedArchive(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	trusted := gitserver.NewPGPKey(t, "Trusted", "trusted@example.com")
	repo := srv.CreateRepo(t, "app")
	repo.Commit(t, map[string]string{"app.yaml": "unsigned"}, "unsigned")
	h := newGitHarness(t)
	ctx := context.Background()

	plain := gitRepo("team-a", srv.URL("app"), "", &sourcev1.GitRepositoryRef{Branch: "main"})
	if res := h.rec.Reconcile(ctx, plain); res.Err != nil {
		t.Fatal(res.Err)
	}
	if condition(plain, source.SourceVerifiedCondition) != nil || plain.Status.SourceVerificationMode != nil {
		t.Errorf("verification status without spec.verify: %+v", plain.Status)
	}

	h.trustKeys("team-b", "pgp", trusted)
	strict := verifiedGitRepo("team-b", srv.URL("app"), &sourcev1.GitRepositoryRef{Branch: "main"}, sourcev1.ModeGitHEAD)
	if res := h.rec.Reconcile(ctx, strict); res.Err == nil {
		t.Fatal("the verified object took the shared archive of an unsigned commit")
	}
	wantNotVerified(t, strict, source.InvalidCommitSignatureReason, trusted)
	if strict.Status.Artifact != nil || len(h.storedFiles("team-b")) > 0 {
		t.Errorf("artifact %+v, store %v", strict.Status.Artifact, h.storedFiles("team-b"))
	}
}

// TestGitRepository_ChangingVerifyRechecksTheStoredRevision: adding
// spec.verify to an object whose artifact is current must not keep that
// unverified artifact as Ready; removing it drops the verification status.
func TestGitRepository_ChangingVerifyRechecksTheStoredRevision(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	trusted := gitserver.NewPGPKey(t, "Trusted", "trusted@example.com")
	repo := srv.CreateRepo(t, "app")
	repo.Commit(t, map[string]string{"app.yaml": "unsigned"}, "unsigned")
	h := newGitHarness(t)
	h.trustKeys("team", "pgp", trusted)
	ctx := context.Background()

	obj := gitRepo("team", srv.URL("app"), "", &sourcev1.GitRepositoryRef{Branch: "main"})
	if res := h.rec.Reconcile(ctx, obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	unverified := obj.Status.Artifact.DeepCopy()

	obj.Spec.Verification = &sourcev1.GitRepositoryVerification{SecretRef: common.LocalObjectReference{Name: "pgp"}}
	obj.Generation++
	if res := h.rec.Reconcile(ctx, obj); res.Err == nil {
		t.Fatal("kept an unverified artifact as Ready after spec.verify was added")
	}
	wantNotVerified(t, obj, source.InvalidCommitSignatureReason, trusted)
	if obj.Status.Artifact == nil || obj.Status.Artifact.Digest != unverified.Digest {
		t.Errorf("artifact = %+v, want the previous one kept", obj.Status.Artifact)
	}

	signed := repo.CommitSigned(t, map[string]string{"app.yaml": "signed"}, "signed", trusted)
	if res := h.rec.Reconcile(ctx, obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	wantVerified(t, obj, sourcev1.ModeGitHEAD, signed)

	obj.Spec.Verification = nil
	obj.Generation++
	if res := h.rec.Reconcile(ctx, obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	if c := condition(obj, source.SourceVerifiedCondition); c != nil || obj.Status.SourceVerificationMode != nil {
		t.Errorf("after spec.verify was removed: SourceVerified %+v, sourceVerificationMode %v", c, obj.Status.SourceVerificationMode)
	}
}

func TestGitRepository_RefusesFieldsThisServerDoesNotImplement(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	srv.CreateRepo(t, "app").Commit(t, map[string]string{"app.yaml": "x"}, "first")
	h := newGitHarness(t)

	for _, tt := range []struct {
		name string
		set  func(*sourcev1.GitRepositorySpec)
		want string
	}{
		{"provider azure", func(s *sourcev1.GitRepositorySpec) { s.Provider = source.AzureProvider },
			"spec.provider: provider 'azure' is not supported by this server; use spec.secretRef"},
		{"provider github", func(s *sourcev1.GitRepositorySpec) { s.Provider = source.GitHubProvider }, "spec.provider: provider 'github'"},
		{"provider aws with a service account", func(s *sourcev1.GitRepositorySpec) {
			s.Provider, s.ServiceAccountName = source.AWSProvider, "app"
		}, "spec.provider: provider 'aws'"},
		{"service account", func(s *sourcev1.GitRepositorySpec) { s.ServiceAccountName = "app" }, "spec.serviceAccountName"},
		{"proxy", func(s *sourcev1.GitRepositorySpec) { s.ProxySecretRef = &common.LocalObjectReference{Name: "proxy"} }, "spec.proxySecretRef"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			obj := gitRepo("team", srv.URL("app"), "", &sourcev1.GitRepositoryRef{Branch: "main"})
			tt.set(&obj.Spec)
			before := srv.Requests()
			if res := h.rec.Reconcile(context.Background(), obj); res.Err == nil {
				t.Fatal("reconciled")
			}
			c := condition(obj, common.StalledCondition)
			if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, tt.want) {
				t.Fatalf("Stalled = %+v, want a message with %q", c, tt.want)
			}
			if ready := condition(obj, common.ReadyCondition); ready == nil || ready.Status != metav1.ConditionFalse {
				t.Errorf("Ready = %+v", ready)
			}
			if n := srv.Requests() - before; n != 0 || obj.Status.Artifact != nil {
				t.Errorf("fetched anyway: %d requests, artifact %+v", n, obj.Status.Artifact)
			}
		})
	}
	for _, p := range []string{"", source.GenericProvider} {
		obj := gitRepo("team", srv.URL("app"), "", &sourcev1.GitRepositoryRef{Branch: "main"})
		obj.Spec.Provider = p
		if res := h.rec.Reconcile(context.Background(), obj); res.Err != nil {
			t.Errorf("provider %q: %v", p, res.Err)
		}
	}
}

package git_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

// keyRing builds a trusted key ring from the public keys, one Secret value each.
func keyRing(t *testing.T, keys ...gitserver.PGPKey) *git.KeyRing {
	t.Helper()
	data := map[string][]byte{}
	for i, k := range keys {
		data[string(rune('a'+i))+".asc"] = k.ArmoredPublic
	}
	ring, err := git.KeyRingFromSecret(data)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// armoredBody is a line from the middle of an armored key, to look for in messages.
func armoredBody(k gitserver.PGPKey) string {
	lines := strings.Split(strings.TrimSpace(string(k.ArmoredPublic)), "\n")
	return lines[len(lines)/2]
}

func TestKeyRingFromSecret_ReadsEveryValueAndNamesTheBadOne(t *testing.T) {
	alice := gitserver.NewPGPKey(t, "Alice", "alice@example.com")
	bob := gitserver.NewPGPKey(t, "Bob", "bob@example.com")
	both := append(append([]byte{}, alice.ArmoredPublic...), bob.ArmoredPublic...)

	for _, tt := range []struct {
		name    string
		data    map[string][]byte
		wantLen int
		wantErr string // in the message, next to the data key's name
	}{
		{name: "one key per value", data: map[string][]byte{"alice.asc": alice.ArmoredPublic, "bob.asc": bob.ArmoredPublic}, wantLen: 2},
		{name: "two blocks in one value", data: map[string][]byte{"team.asc": both}, wantLen: 2},
		{name: "not armored", data: map[string][]byte{"alice.asc": alice.ArmoredPublic, "notes": []byte("hunter2 is not a key")}, wantErr: `"notes"`},
		{name: "private key", data: map[string][]byte{"key.asc": []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxyz\n-----END PGP PRIVATE KEY BLOCK-----\n")}, wantErr: "private key"},
		{name: "corrupt block", data: map[string][]byte{"bad.asc": []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEga2V5\n-----END PGP PUBLIC KEY BLOCK-----\n")}, wantErr: `"bad.asc"`},
		{name: "empty secret", data: map[string][]byte{}, wantErr: "no public keys"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ring, err := git.KeyRingFromSecret(tt.data)
			if tt.wantErr == "" {
				if err != nil || ring.Len() != tt.wantLen {
					t.Fatalf("KeyRingFromSecret = %d keys, %v; want %d", ring.Len(), err, tt.wantLen)
				}
				return
			}
			if !errors.Is(err, git.ErrInvalidKeyRing) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want ErrInvalidKeyRing naming %s", err, tt.wantErr)
			}
			if msg := err.Error(); strings.Contains(msg, "hunter2") || strings.Contains(msg, "bm90IGEga2V5") {
				t.Errorf("error quotes the secret's data: %s", msg)
			}
		})
	}
}

func TestCheckout_VerifyHEAD_AcceptsOnlyCommitsSignedByATrustedKey(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	trusted := gitserver.NewPGPKey(t, "Trusted", "trusted@example.com")
	other := gitserver.NewPGPKey(t, "Other", "other@example.com")
	stranger := gitserver.NewPGPKey(t, "Stranger", "stranger@example.com")

	repo := srv.CreateRepo(t, "app")
	signed := repo.CommitSigned(t, map[string]string{"app.yaml": "signed"}, "signed", trusted)
	repo.Branch(t, "unsigned")
	unsigned := repo.Commit(t, map[string]string{"app.yaml": "unsigned"}, "unsigned")
	repo.Branch(t, "untrusted")
	untrusted := repo.CommitSigned(t, map[string]string{"app.yaml": "untrusted"}, "by a stranger", stranger)
	url := srv.URL("app")
	ring := keyRing(t, other, trusted)

	t.Run("signed by a trusted key", func(t *testing.T) {
		// LastRevision does not skip a verified checkout: the objects are needed.
		opts := git.Options{URL: url, Ref: git.Ref{Branch: "main"}, LastRevision: "main@sha1:" + signed,
			Verify: &git.Verification{Mode: git.VerifyHEAD, KeyRing: ring}}
		c, dir := checkout(t, opts)
		if c.Unchanged || c.Hash != signed || readFile(t, dir, "app.yaml") != "signed" {
			t.Fatalf("Checkout = %+v, app.yaml %q", c, readFile(t, dir, "app.yaml"))
		}
		if c.Verified == nil || c.Verified.Commit == nil || c.Verified.Commit.KeyID != trusted.KeyID || c.Verified.Tag != nil {
			t.Fatalf("Verified = %+v, want the commit signed by %s", c.Verified, trusted.KeyID)
		}
		if c.Verified.Commit.Identity != "Trusted <trusted@example.com>" || len(c.Verified.Commit.Fingerprint) != 40 {
			t.Errorf("signer = %+v", c.Verified.Commit)
		}
	})
	for _, tt := range []struct {
		name, branch, hash, want string
	}{
		{"unsigned commit", "unsigned", unsigned, "is not signed"},
		{"signed by an unknown key", "untrusted", untrusted, "not made by a trusted key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "checkout")
			_, err := git.Checkout(testContext(t), dir, git.Options{URL: url, Ref: git.Ref{Branch: tt.branch},
				Verify: &git.Verification{KeyRing: ring}}) // "" is HEAD
			if !errors.Is(err, git.ErrCommitSignature) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.hash) {
				t.Fatalf("error = %v, want ErrCommitSignature for %s (%s)", err, tt.hash, tt.want)
			}
			if strings.Contains(err.Error(), armoredBody(trusted)) {
				t.Errorf("error quotes key material: %s", err)
			}
			if got := readFile(t, dir, "app.yaml"); got != "<missing>" {
				t.Errorf("an unverified commit was checked out: app.yaml = %q", got)
			}
		})
	}
}

func TestCheckout_VerifyTag_NeedsASignedAnnotatedTag(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	trusted := gitserver.NewPGPKey(t, "Trusted", "trusted@example.com")
	stranger := gitserver.NewPGPKey(t, "Stranger", "stranger@example.com")

	repo := srv.CreateRepo(t, "app")
	repo.Commit(t, map[string]string{"v": "1"}, "release 1")
	repo.SignedTag(t, "v1.0.0", "release 1", trusted)
	repo.Tag(t, "v1.0.1-light")
	repo.AnnotatedTag(t, "v1.0.2-unsigned", "not signed")
	repo.SignedTag(t, "v1.0.3-stranger", "by a stranger", stranger)
	signedCommit := repo.CommitSigned(t, map[string]string{"v": "2"}, "release 2", trusted)
	repo.SignedTag(t, "v2.0.0", "release 2", trusted)
	// The signed tag object of v1.0.0 pushed again under a newer name.
	replayTag(t, repo, "v1.0.0", "v3.0.0")
	url := srv.URL("app")
	ring := keyRing(t, trusted)

	for _, tt := range []struct {
		name    string
		mode    git.VerifyMode
		ref     git.Ref
		wantTag string
		wantErr error
	}{
		{name: "signed tag", mode: git.VerifyTag, ref: git.Ref{Tag: "v1.0.0"}, wantTag: "v1.0.0"},
		{name: "signed tag through semver", mode: git.VerifyTag, ref: git.Ref{SemVer: "~2.0"}, wantTag: "v2.0.0"},
		{name: "signed tag through a ref name", mode: git.VerifyTag, ref: git.Ref{Name: "refs/tags/v1.0.0"}, wantTag: "v1.0.0"},
		{name: "signed tag and signed commit", mode: git.VerifyTagAndHEAD, ref: git.Ref{Tag: "v2.0.0"}, wantTag: "v2.0.0"},
		{name: "signed tag of an unsigned commit", mode: git.VerifyTagAndHEAD, ref: git.Ref{Tag: "v1.0.0"}, wantErr: git.ErrCommitSignature},
		{name: "lightweight tag", mode: git.VerifyTag, ref: git.Ref{Tag: "v1.0.1-light"}, wantErr: git.ErrTagSignature},
		{name: "unsigned annotated tag", mode: git.VerifyTag, ref: git.Ref{Tag: "v1.0.2-unsigned"}, wantErr: git.ErrTagSignature},
		{name: "tag signed by an unknown key", mode: git.VerifyTag, ref: git.Ref{Tag: "v1.0.3-stranger"}, wantErr: git.ErrTagSignature},
		{name: "signed tag under another name", mode: git.VerifyTag, ref: git.Ref{Tag: "v3.0.0"}, wantErr: git.ErrTagSignature},
		{name: "branch", mode: git.VerifyTag, ref: git.Ref{Branch: "main"}, wantErr: git.ErrTagSignature},
		{name: "commit", mode: git.VerifyTagAndHEAD, ref: git.Ref{Commit: signedCommit}, wantErr: git.ErrTagSignature},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := git.Options{URL: url, Ref: tt.ref, Timeout: 30 * time.Second, Verify: &git.Verification{Mode: tt.mode, KeyRing: ring}}
			dir := filepath.Join(t.TempDir(), "checkout")
			c, err := git.Checkout(testContext(t), dir, opts)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				t.Log(err)
				if got := readFile(t, dir, "v"); got != "<missing>" {
					t.Errorf("an unverified commit was checked out: v = %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v := c.Verified
			if v == nil || v.Tag == nil || v.TagName != tt.wantTag || v.Tag.KeyID != trusted.KeyID {
				t.Fatalf("Verified = %+v, want tag %s signed by %s", v, tt.wantTag, trusted.KeyID)
			}
			if wantCommit := tt.mode == git.VerifyTagAndHEAD; (v.Commit != nil) != wantCommit {
				t.Errorf("commit verified = %v, want %v", v.Commit != nil, wantCommit)
			}
		})
	}
}

// replayTag points refs/tags/<to> of repo's bare repository at the tag object of from.
func replayTag(t *testing.T, repo *gitserver.Repo, from, to string) {
	t.Helper()
	run := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"--git-dir", repo.BareDir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	run("update-ref", "refs/tags/"+to, run("rev-parse", "refs/tags/"+from))
}

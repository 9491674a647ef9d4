package git_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

func TestAuthFromSecret_ReadsFluxKeys(t *testing.T) {
	key := gitserver.NewKeyPair(t, "")
	encrypted := gitserver.NewKeyPair(t, "passphrase")
	knownHosts := []byte("[127.0.0.1]:2222 " + strings.TrimSpace(string(key.Public)) + "\n")
	ca := gitserver.NewHTTP(t, gitserver.HTTPOptions{TLS: true}).CACert()

	tests := []struct {
		name    string
		url     string
		data    map[string][]byte
		want    git.Auth // compared on the non-byte fields
		wantCA  bool
		wantErr string // substring; "" means success
	}{
		{name: "anonymous", url: "https://example.com/repo.git", want: git.Auth{Scheme: "https"}},
		{name: "basic auth", url: "https://example.com/r", data: map[string][]byte{"username": []byte("u"), "password": []byte("p")},
			want: git.Auth{Scheme: "https", Username: "u", Password: "p"}},
		{name: "userinfo fills the gaps", url: "https://u:p@example.com/r",
			want: git.Auth{Scheme: "https", Username: "u", Password: "p"}},
		{name: "secret beats userinfo", url: "https://u:p@example.com/r", data: map[string][]byte{"username": []byte("v"), "password": []byte("q")},
			want: git.Auth{Scheme: "https", Username: "v", Password: "q"}},
		{name: "bearer token", url: "http://example.com/r", data: map[string][]byte{"bearerToken": []byte("t")},
			want: git.Auth{Scheme: "http", BearerToken: "t"}},
		{name: "ca.crt", url: "https://example.com/r", data: map[string][]byte{"ca.crt": ca},
			want: git.Auth{Scheme: "https"}, wantCA: true},
		{name: "legacy caFile", url: "https://example.com/r", data: map[string][]byte{"caFile": ca},
			want: git.Auth{Scheme: "https"}, wantCA: true},
		{name: "password without username", url: "https://example.com/r", data: map[string][]byte{"password": []byte("pw-secret")},
			wantErr: `key "password" requires key "username"`},
		{name: "bad CA", url: "https://example.com/r", data: map[string][]byte{"ca.crt": []byte("nope")},
			wantErr: `key "ca.crt" holds no PEM certificate`},
		{name: "ssh key", url: "ssh://example.com:2222/r", data: sshSecret(key, knownHosts),
			want: git.Auth{Scheme: "ssh", Username: "git"}},
		{name: "ssh user from URL", url: "ssh://deploy@example.com/r", data: sshSecret(key, knownHosts),
			want: git.Auth{Scheme: "ssh", Username: "deploy"}},
		{name: "ssh passphrase", url: "ssh://example.com/r",
			data: map[string][]byte{"identity": encrypted.Private, "known_hosts": knownHosts, "password": []byte("passphrase")},
			want: git.Auth{Scheme: "ssh", Username: "git", Password: "passphrase"}},
		{name: "ssh missing passphrase", url: "ssh://example.com/r", data: sshSecret(encrypted, knownHosts),
			wantErr: `set the passphrase in key "password"`},
		{name: "ssh wrong passphrase", url: "ssh://example.com/r",
			data:    map[string][]byte{"identity": encrypted.Private, "known_hosts": knownHosts, "password": []byte("wrong")},
			wantErr: `cannot decrypt key "identity"`},
		{name: "ssh missing identity", url: "ssh://example.com/r", data: map[string][]byte{"known_hosts": knownHosts},
			wantErr: `key "identity"`},
		{name: "ssh missing known_hosts", url: "ssh://example.com/r", data: map[string][]byte{"identity": key.Private},
			wantErr: `key "known_hosts" is required`},
		{name: "ssh bad known_hosts", url: "ssh://example.com/r", data: sshSecret(key, []byte("example.com not-a-key\n")),
			wantErr: `key "known_hosts"`},
		{name: "ssh bad identity", url: "ssh://example.com/r", data: sshSecret(gitserver.KeyPair{Private: []byte("garbage")}, knownHosts),
			wantErr: `key "identity" is not a valid private key`},
		{name: "scp-like URL", url: "git@example.com:org/repo.git", wantErr: "invalid git URL"},
		{name: "file URL", url: "file:///tmp/repo", wantErr: "scheme must be http, https or ssh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := git.AuthFromSecret(tt.url, tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				if p := tt.data["password"]; len(p) > 0 && strings.Contains(err.Error(), string(p)) {
					t.Errorf("error %q contains the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Scheme != tt.want.Scheme || a.Username != tt.want.Username || a.Password != tt.want.Password || a.BearerToken != tt.want.BearerToken {
				t.Errorf("Auth = %s %q %q %q, want %+v", a.Scheme, a.Username, a.Password, a.BearerToken, tt.want)
			}
			if (len(a.CA) > 0) != tt.wantCA {
				t.Errorf("CA set = %v, want %v", len(a.CA) > 0, tt.wantCA)
			}
		})
	}
}

func TestAuthFromSecret_ErrorsWrapErrInvalidSecret(t *testing.T) {
	_, err := git.AuthFromSecret("ssh://example.com/r", map[string][]byte{"identity": []byte("x")})
	if !errors.Is(err, git.ErrInvalidSecret) {
		t.Fatalf("error = %v, want ErrInvalidSecret", err)
	}
}

func TestAuth_FormattingHidesSecrets(t *testing.T) {
	a, err := git.AuthFromSecret("https://example.com/r", map[string][]byte{
		"username": []byte("user"), "password": []byte("hunter2-secret"), "bearerToken": []byte("token-secret"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%v %+v %#v %s", a, a, a, a)} {
		if strings.Contains(s, "hunter2-secret") || strings.Contains(s, "token-secret") {
			t.Errorf("formatted Auth leaks a secret: %s", s)
		}
		if !strings.Contains(s, "username=user") || !strings.Contains(s, "password=<redacted>") {
			t.Errorf("formatted Auth = %s", s)
		}
	}
}

func TestFormatRevision_MatchesFlux(t *testing.T) {
	const h = "363a6a8fe6a7f13e05d34c163b0ef02a777da20a"
	tests := []struct {
		ref     git.Ref
		refName string
		want    string
	}{
		{git.Ref{Branch: "main"}, "refs/heads/main", "main@sha1:" + h},
		{git.Ref{Branch: "feature/x"}, "refs/heads/feature/x", "feature/x@sha1:" + h},
		{git.Ref{Tag: "v1.0.0"}, "refs/tags/v1.0.0", "v1.0.0@sha1:" + h},
		{git.Ref{SemVer: "1.x"}, "refs/tags/v1.2.0", "v1.2.0@sha1:" + h},
		{git.Ref{Name: "refs/pull/420/head"}, "refs/pull/420/head", "refs/pull/420/head@sha1:" + h},
		{git.Ref{Commit: h, Branch: "main"}, "refs/heads/main", "main@sha1:" + h},
		{git.Ref{Commit: h}, "", "sha1:" + h},
	}
	for _, tt := range tests {
		if got := git.FormatRevision(tt.ref, tt.refName, h); got != tt.want {
			t.Errorf("FormatRevision(%s, %q) = %q, want %q", tt.ref, tt.refName, got, tt.want)
		}
		if got := git.RevisionHash(tt.want); got != h {
			t.Errorf("RevisionHash(%q) = %q", tt.want, got)
		}
	}
	for rev, want := range map[string]string{"main/" + h: h, h: h, "main": "", "main@sha1:xyz": ""} {
		if got := git.RevisionHash(rev); got != want {
			t.Errorf("RevisionHash(%q) = %q, want %q", rev, got, want)
		}
	}
}

func TestRef_InvalidValuesAreRejectedBeforeContactingTheRemote(t *testing.T) {
	for _, ref := range []git.Ref{
		{Commit: "abc123"},
		{Commit: strings.Repeat("A", 40)},
		{Name: "main"},
		{Name: "refs/heads/"},
	} {
		// Port 9 on loopback: nothing is contacted because validation fails first.
		_, err := git.Resolve(testContext(t), git.Options{URL: "http://127.0.0.1:9/r.git", Ref: ref})
		if err == nil || !strings.Contains(err.Error(), "invalid") {
			t.Errorf("Resolve(%s) error = %v, want a validation error", ref, err)
		}
	}
}

package git

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

func TestRedactor_RemovesUserinfoAndSecretValues(t *testing.T) {
	r := newRedactor(&Auth{Password: "hunter2", BearerToken: "tok-123"}, "urlpass")
	in := `Get "https://bob:urlpass@host/x.git/info/refs": 401; ssh://git@host:22/r; hunter2 and tok-123; https://host/a@b`
	got := r.redact(in)
	for _, leak := range []string{"urlpass", "hunter2", "tok-123", "bob", "git@"} {
		if strings.Contains(got, leak) {
			t.Errorf("redact(...) = %q still contains %q", got, leak)
		}
	}
	if !strings.Contains(got, "https://host/x.git") || !strings.Contains(got, "https://host/a@b") {
		t.Errorf("redact(...) = %q lost the URL", got)
	}
}

func TestRedactedError_KeepsTheChainForIsButNotTheText(t *testing.T) {
	cause := errors.Join(transport.ErrAuthenticationRequired, errors.New("https://u:hunter2@host"))
	err := newRedactor(&Auth{Password: "hunter2"}).wrap(cause)
	if !errors.Is(err, transport.ErrAuthenticationRequired) {
		t.Error("errors.Is lost the cause")
	}
	if strings.Contains(err.Error(), "hunter2") || errors.Unwrap(err) != nil {
		t.Errorf("redacted error exposes its cause: %q", err)
	}
}

func TestHighestSemVerTag(t *testing.T) {
	refs := map[string]string{
		"refs/heads/main":       "a",
		"refs/tags/v1.0.0":      "b",
		"refs/tags/v1.2.0":      "c",
		"refs/tags/v1.2.0^{}":   "d",
		"refs/tags/1.10.0":      "e",
		"refs/tags/v2.0.0-rc.1": "f",
		"refs/tags/latest":      "g",
	}
	tests := map[string]string{
		"*":              "refs/tags/1.10.0",
		"~1.2":           "refs/tags/v1.2.0",
		"<1.2.0":         "refs/tags/v1.0.0",
		">=2.0.0-0":      "refs/tags/v2.0.0-rc.1",
		">=1.0.0 <1.5.0": "refs/tags/v1.2.0",
	}
	for constraint, want := range tests {
		got, err := highestSemVerTag(refs, constraint)
		if err != nil || got != want {
			t.Errorf("highestSemVerTag(%q) = %q, %v; want %q", constraint, got, err, want)
		}
	}
	if _, err := highestSemVerTag(refs, ">=3"); !errors.Is(err, ErrReferenceNotFound) {
		t.Errorf("no match: %v", err)
	}
	if _, err := highestSemVerTag(refs, "not a range"); err == nil {
		t.Error("an invalid range was accepted")
	}
	if h, _ := lookupCommit(refs, "refs/tags/v1.2.0"); h != "d" {
		t.Errorf("lookupCommit of an annotated tag = %q, want the peeled commit", h)
	}
}

func TestRef_Precedence(t *testing.T) {
	tests := []struct {
		ref  Ref
		want refKind
	}{
		{Ref{}, kindBranch},
		{Ref{Branch: "b", Tag: "t"}, kindTag},
		{Ref{Tag: "t", SemVer: "*"}, kindSemVer},
		{Ref{SemVer: "*", Name: "refs/x"}, kindName},
		{Ref{Name: "refs/x", Commit: "c"}, kindCommit},
	}
	for _, tt := range tests {
		if got := tt.ref.kind(); got != tt.want {
			t.Errorf("%+v.kind() = %d, want %d", tt.ref, got, tt.want)
		}
	}
	if (Ref{}).branch() != "master" {
		t.Error("the default branch is not master")
	}
}

func TestSparseDirs(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantErr bool
	}{
		{nil, nil, false},
		{[]string{"apps", "./infra/", "/clusters/prod"}, []string{"apps/", "infra/", "clusters/prod/"}, false},
		{[]string{"apps", "."}, nil, false},
		{[]string{"../etc"}, nil, true},
		{[]string{"apps/../../x"}, nil, true},
	}
	for _, tt := range tests {
		got, err := sparseDirs(tt.in)
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("sparseDirs(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestLimitFS_RefusesWritesPastTheLimitAndAfterClose(t *testing.T) {
	fs := newLimitFS(memfs.New(), 10)
	sub, err := fs.Chroot("sub")
	if err != nil {
		t.Fatal(err)
	}
	f, err := sub.Create("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("12345678")); err != nil {
		t.Fatal(err)
	}
	g, err := fs.Create("b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(g, "123"); !errors.Is(err, ErrFetchTooLarge) {
		t.Fatalf("write past the limit through another view: %v", err)
	}
	if !fs.exceeded() || fs.written() != 11 {
		t.Errorf("exceeded = %v, written = %d", fs.exceeded(), fs.written())
	}
	fs.close()
	if _, err := sub.Create("c"); !errors.Is(err, errClosed) {
		t.Errorf("Create after close: %v", err)
	}
}

func TestNormalizeRevision(t *testing.T) {
	const h = "363a6a8fe6a7f13e05d34c163b0ef02a777da20a"
	for in, want := range map[string]string{
		"main@sha1:" + h:        "main@sha1:" + h,
		"main/" + h:             "main@sha1:" + h,
		"feature/x/" + h:        "feature/x@sha1:" + h,
		h:                       "sha1:" + h,
		"sha1:" + h:             "sha1:" + h,
		"something-else":        "something-else",
		"refs/pull/1/head/" + h: "refs/pull/1/head@sha1:" + h,
	} {
		if got := normalizeRevision(in); got != want {
			t.Errorf("normalizeRevision(%q) = %q, want %q", in, got, want)
		}
	}
}

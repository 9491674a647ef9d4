package git_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

func TestCheckout_SparseCheckoutOnlyWritesListedDirectories(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	srv.CreateRepo(t, "app").Commit(t, map[string]string{
		"README.md":            "root",
		"apps/web/deploy.yaml": "web",
		"apps/db/deploy.yaml":  "db",
		"apps.yaml":            "prefix trap",
		"infra/ns.yaml":        "ns",
		"clusters/prod/x.yaml": "x",
	}, "layout")
	opts := git.Options{URL: srv.URL("app"), Ref: git.Ref{Branch: "main"}, SparseCheckout: []string{"apps/web", "./infra/"}}

	_, dir := checkout(t, opts)
	for name, want := range map[string]string{
		"apps/web/deploy.yaml": "web",
		"infra/ns.yaml":        "ns",
		"apps/db/deploy.yaml":  "<missing>",
		"apps.yaml":            "<missing>",
		"README.md":            "<missing>",
		"clusters/prod/x.yaml": "<missing>",
	} {
		if got := readFile(t, dir, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}

	opts.SparseCheckout = []string{"apps/missing"}
	_, err := git.Checkout(testContext(t), t.TempDir(), opts)
	if err == nil || !strings.Contains(err.Error(), "apps/missing") {
		t.Fatalf("Checkout of a missing sparse directory: %v", err)
	}
}

func TestCheckout_MaxFetchSizeAbortsLargeFetches(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	repo := srv.CreateRepo(t, "app")
	repo.Commit(t, map[string]string{"big.bin": incompressible(t, 2<<20)}, "2 MiB of noise")
	opts := git.Options{URL: srv.URL("app"), Ref: git.Ref{Branch: "main"}, MaxFetchSize: 512 << 10}

	_, err := git.Checkout(testContext(t), t.TempDir(), opts)
	if !errors.Is(err, git.ErrFetchTooLarge) {
		t.Fatalf("Checkout error = %v, want ErrFetchTooLarge", err)
	}

	opts.MaxFetchSize = 16 << 20
	if _, dir := checkout(t, opts); len(readFile(t, dir, "big.bin")) != 2<<20 {
		t.Fatal("big.bin was not checked out under a sufficient limit")
	}
}

// incompressible returns n bytes that zlib cannot shrink, as a string.
func incompressible(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	var x uint64 = 0x9E3779B97F4A7C15
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return string(b)
}

func TestCheckout_RequiresAnEmptyDirectory(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	srv.CreateRepo(t, "app").Commit(t, map[string]string{"a": "1"}, "first")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := git.Checkout(testContext(t), dir, git.Options{URL: srv.URL("app"), Ref: git.Ref{Branch: "main"}})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("Checkout into a non-empty directory: %v", err)
	}
}

func TestCheckout_RecurseSubmodules(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	srv.CreateRepo(t, "lib").Commit(t, map[string]string{"lib.yaml": "lib"}, "lib")
	app := srv.CreateRepo(t, "app")
	app.Commit(t, map[string]string{"app.yaml": "app"}, "app")
	app.AddSubmodule(t, srv.URL("lib"), "vendor/lib")
	opts := git.Options{URL: srv.URL("app"), Ref: git.Ref{Branch: "main"}}

	_, dir := checkout(t, opts)
	if got := readFile(t, dir, "vendor/lib/lib.yaml"); got != "<missing>" {
		t.Errorf("submodule checked out without RecurseSubmodules: %q", got)
	}
	opts.RecurseSubmodules = true
	_, dir = checkout(t, opts)
	if got := readFile(t, dir, "vendor/lib/lib.yaml"); got != "lib" {
		t.Errorf("vendor/lib/lib.yaml = %q, want the submodule's file", got)
	}
}

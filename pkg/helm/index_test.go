package helm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/helm/helmtest"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
)

const testIndex = `apiVersion: v1
entries:
  app:
  - name: app
    version: 1.0.0
    urls: [charts/app-1.0.0.tgz]
    description: kept in the stored index but not read
  - name: app
    version: 2.0.0
    urls: [https://cdn.example.com/app-2.0.0.tgz]
  - name: app
    version: 1.2.0-rc.1
    urls: [charts/app-1.2.0-rc.1.tgz]
  - name: app
    version: 1.1.0
    urls: [charts/app-1.1.0.tgz]
  broken:
  - name: broken
    version: 0.1.0
`

func loadTestIndex(t *testing.T, content string) (*repoIndex, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), IndexFile)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return LoadIndex(p)
}

func TestSelectVersion_PicksTheHighestMatchingVersion(t *testing.T) {
	ix, err := loadTestIndex(t, testIndex)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		chart, constraint, want string
		wantErr                 error
	}{
		{"app", "", "2.0.0", nil},
		{"app", "*", "2.0.0", nil},
		{"app", ">=1.0.0 <2.0.0", "1.1.0", nil},
		{"app", "1.0.0", "1.0.0", nil},
		{"app", ">=1.2.0-0 <2.0.0", "1.2.0-rc.1", nil},
		{"app", ">=3.0.0", "", ErrVersionNotFound},
		{"app", "not a range", "", ErrVersionNotFound},
		{"nope", "*", "", ErrChartNotFound},
		{"broken", "*", "", ErrChartNotFound},
	} {
		cv, err := SelectVersion(ix, tc.chart, tc.constraint)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("SelectVersion(%q, %q) error %v, want %v", tc.chart, tc.constraint, err, tc.wantErr)
			}
			continue
		}
		if err != nil || cv.Version != tc.want {
			t.Errorf("SelectVersion(%q, %q) = %v, %v; want %s", tc.chart, tc.constraint, cv, err, tc.want)
		}
	}
	if _, err := SelectVersion(ix, "app", ">=3.0.0"); err == nil || !strings.Contains(err.Error(), "no 'app' chart with version matching '>=3.0.0'") {
		t.Errorf("message: %v", err)
	}
}

func TestRevision_IgnoresEntryOrder(t *testing.T) {
	a, err := loadTestIndex(t, testIndex)
	if err != nil {
		t.Fatal(err)
	}
	reordered := strings.Replace(testIndex, "  - name: app\n    version: 1.1.0\n    urls: [charts/app-1.1.0.tgz]\n", "", 1)
	reordered = strings.Replace(reordered, "  app:\n", "  app:\n  - name: app\n    version: 1.1.0\n    urls: [charts/app-1.1.0.tgz]\n", 1)
	b, err := loadTestIndex(t, reordered)
	if err != nil {
		t.Fatal(err)
	}
	if Revision(a) != Revision(b) || !strings.HasPrefix(Revision(a), "sha256:") {
		t.Errorf("revisions %s and %s", Revision(a), Revision(b))
	}
	c, _ := loadTestIndex(t, strings.ReplaceAll(testIndex, "1.1.0", "1.1.1"))
	if Revision(c) == Revision(a) {
		t.Error("a changed index has the same revision")
	}
}

func TestLoadIndex_RejectsGarbage(t *testing.T) {
	for _, in := range []string{"not: [yaml", "entries: {}\n", "<html></html>", ""} {
		if _, err := loadTestIndex(t, in); !errors.Is(err, ErrInvalidIndex) || strings.Contains(err.Error(), os.TempDir()) {
			t.Errorf("LoadIndex(%q) error %v", in, err)
		}
	}
}

func TestChartURL_RelativeToTheRepository(t *testing.T) {
	for _, tc := range []struct{ repo, chart, want string }{
		{"https://h/charts", "app-1.0.0.tgz", "https://h/charts/app-1.0.0.tgz"},
		{"https://h/charts/", "app-1.0.0.tgz", "https://h/charts/app-1.0.0.tgz"},
		{"https://h/charts", "sub/app.tgz", "https://h/charts/sub/app.tgz"},
		{"https://h/charts", "/root/app.tgz", "https://h/root/app.tgz"},
		{"https://h/charts?token=x", "app.tgz", "https://h/charts/app.tgz?token=x"},
		{"https://h/charts", "https://cdn/app.tgz", "https://cdn/app.tgz"},
	} {
		r, err := NewRepository(RepositoryOptions{URL: tc.repo})
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.ChartURL(&repoChartVersion{URLs: []string{tc.chart}})
		if err != nil || got != tc.want {
			t.Errorf("ChartURL(%q, %q) = %q, %v; want %q", tc.repo, tc.chart, got, err, tc.want)
		}
	}
	if got := IndexURL("http://h/r"); got != "http://h/r/index.yaml" {
		t.Errorf("IndexURL = %q", got)
	}
	for _, bad := range []string{"oci://h/r", "ftp://h", "h/charts", "https://"} {
		if _, err := NewRepository(RepositoryOptions{URL: bad}); !errors.Is(err, ErrInvalidURL) {
			t.Errorf("NewRepository(%q) = %v", bad, err)
		}
	}
}

func TestRepository_CredentialsOnlyToTheRepositoryHost(t *testing.T) {
	ctx := context.Background()
	chart := helmtest.SimpleChart(t, "app", "1.0.0")
	other := helmtest.NewRepository(t, helmtest.Options{})
	other.Publish(t, chart)
	srv := helmtest.NewRepository(t, helmtest.Options{Username: "user", Password: "pass"})
	srv.Publish(t, chart)
	// An index listing a chart on another host, and one with a wrong digest.
	srv.Serve("/index.yaml", []byte("apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.0.0\n    digest: "+
		digestOf(chart)+"\n    urls: ["+other.URL+"/app-1.0.0.tgz]\n  local:\n  - name: local\n    version: 1.0.0\n    digest: deadbeef\n    urls: [app-1.0.0.tgz]\n"))
	dst := func() string { return filepath.Join(t.TempDir(), IndexFile) }

	wrong := mustRepository(t, RepositoryOptions{URL: srv.URL, Username: "user", Password: "wrong"})
	if _, err := wrong.FetchIndex(ctx, dst()); !errors.Is(err, ErrAuthentication) || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong password: %v", err)
	}
	for _, pass := range []bool{false, true} {
		before := len(other.Authorizations())
		r := mustRepository(t, RepositoryOptions{URL: srv.URL, Username: "user", Password: "pass", PassCredentials: pass})
		ix, err := r.FetchIndex(ctx, dst())
		if err != nil {
			t.Fatal(err)
		}
		cv, _ := SelectVersion(ix, "app", "*")
		if _, err := r.FetchChart(ctx, cv); err != nil {
			t.Fatal(err)
		}
		if sent := other.Authorizations()[before] != ""; sent != pass {
			t.Errorf("passCredentials=%v: credentials sent to the other host: %v", pass, sent)
		}
		local, _ := SelectVersion(ix, "local", "*")
		if _, err := r.FetchChart(ctx, local); !errors.Is(err, ErrDigestMismatch) {
			t.Errorf("digest mismatch not detected: %v", err)
		}
	}
	if _, err := mustRepository(t, RepositoryOptions{URL: srv.URL, Username: "user", Password: "pass", MaxSize: 10}).FetchIndex(ctx, dst()); !errors.Is(err, ErrTooLarge) {
		t.Errorf("size cap: %v", err)
	}
	// The index has its own, smaller cap: charts may be larger.
	idx := mustRepository(t, RepositoryOptions{URL: srv.URL, Username: "user", Password: "pass", MaxSize: 1 << 30, MaxIndexSize: 10})
	if _, err := idx.FetchIndex(ctx, dst()); !errors.Is(err, ErrTooLarge) {
		t.Errorf("index size cap: %v", err)
	}
	// A Guard in the context applies to every connection.
	guard, err := netguard.Parse([]string{"loopback"})
	if err != nil {
		t.Fatal(err)
	}
	r := mustRepository(t, RepositoryOptions{URL: srv.URL, Username: "user", Password: "pass"})
	if _, err := r.FetchIndex(netguard.WithContext(ctx, guard), dst()); !errors.Is(err, netguard.ErrRefused) {
		t.Errorf("guarded fetch: %v", err)
	}
	if err := CheckChart(chart, "app", "1.0.0"); err != nil {
		t.Error(err)
	}
	if err := CheckChart(chart, "app", "1.0.1"); !errors.Is(err, ErrInvalidChart) {
		t.Errorf("CheckChart of another version: %v", err)
	}
}

func mustRepository(t *testing.T, opts RepositoryOptions) *Repository {
	t.Helper()
	r, err := NewRepository(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

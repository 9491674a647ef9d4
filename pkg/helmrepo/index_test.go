package helmrepo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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

func TestIndex_SelectPicksTheHighestMatchingVersion(t *testing.T) {
	ix, err := ParseIndex([]byte(testIndex))
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
		{"nope", "*", "", ErrChartNotFound},
		{"broken", "*", "", ErrChartNotFound},
	} {
		cv, err := ix.Select(tc.chart, tc.constraint)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Select(%q, %q) error %v, want %v", tc.chart, tc.constraint, err, tc.wantErr)
			}
			continue
		}
		if err != nil || cv.Version != tc.want {
			t.Errorf("Select(%q, %q) = %v, %v; want %s", tc.chart, tc.constraint, cv, err, tc.want)
		}
	}
}

func TestIndex_RevisionIgnoresEntryOrder(t *testing.T) {
	a, err := ParseIndex([]byte(testIndex))
	if err != nil {
		t.Fatal(err)
	}
	reordered := strings.Replace(testIndex, "  - name: app\n    version: 1.1.0\n    urls: [charts/app-1.1.0.tgz]\n", "", 1)
	reordered = strings.Replace(reordered, "  app:\n", "  app:\n  - name: app\n    version: 1.1.0\n    urls: [charts/app-1.1.0.tgz]\n", 1)
	b, err := ParseIndex([]byte(reordered))
	if err != nil {
		t.Fatal(err)
	}
	if a.Revision() != b.Revision() || !strings.HasPrefix(a.Revision(), "sha256:") {
		t.Errorf("revisions %s and %s", a.Revision(), b.Revision())
	}
	c, _ := ParseIndex([]byte(strings.Replace(testIndex, "1.1.0", "1.1.1", -1)))
	if c.Revision() == a.Revision() {
		t.Error("a changed index has the same revision")
	}
}

func TestParseIndex_RejectsGarbage(t *testing.T) {
	for _, in := range []string{"not: [yaml", "entries: {}\n", "<html></html>"} {
		if _, err := ParseIndex([]byte(in)); !errors.Is(err, ErrInvalidIndex) {
			t.Errorf("ParseIndex(%q) error %v", in, err)
		}
	}
}

func TestResolveURL_RelativeToTheRepository(t *testing.T) {
	for _, tc := range []struct{ repo, chart, want string }{
		{"https://h/charts", "app-1.0.0.tgz", "https://h/charts/app-1.0.0.tgz"},
		{"https://h/charts/", "app-1.0.0.tgz", "https://h/charts/app-1.0.0.tgz"},
		{"https://h/charts", "sub/app.tgz", "https://h/charts/sub/app.tgz"},
		{"https://h/charts", "/root/app.tgz", "https://h/root/app.tgz"},
		{"https://h/charts?token=x", "app.tgz", "https://h/charts/app.tgz?token=x"},
		{"https://h/charts", "https://cdn/app.tgz", "https://cdn/app.tgz"},
	} {
		got, err := ResolveURL(tc.repo, tc.chart)
		if err != nil || got != tc.want {
			t.Errorf("ResolveURL(%q, %q) = %q, %v; want %q", tc.repo, tc.chart, got, err, tc.want)
		}
	}
	if got := IndexURL("http://h/r"); got != "http://h/r/index.yaml" {
		t.Errorf("IndexURL = %q", got)
	}
}

func chartArchive(t *testing.T, name, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for file, content := range map[string]string{
		name + "/Chart.yaml":  "apiVersion: v2\nname: " + name + "\nversion: " + version + "\n",
		name + "/values.yaml": "replicas: 1\n",
	} {
		if err := tw.WriteHeader(&tar.Header{Name: file, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(content))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func TestClient_CredentialsOnlyToTheRepositoryHost(t *testing.T) {
	chart := chartArchive(t, "app", "1.0.0")
	sum := sha256.Sum256(chart)
	var otherAuth []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherAuth = append(otherAuth, r.Header.Get("Authorization"))
		w.Write(chart)
	}))
	defer other.Close()
	repo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "pass" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/index.yaml":
			w.Write([]byte("apiVersion: v1\nentries:\n  app:\n  - version: 1.0.0\n    digest: " + hex.EncodeToString(sum[:]) +
				"\n    urls: [" + other.URL + "/app-1.0.0.tgz]\n  local:\n  - version: 1.0.0\n    digest: deadbeef\n    urls: [app-1.0.0.tgz]\n"))
		default:
			w.Write(chart)
		}
	}))
	defer repo.Close()

	ctx := context.Background()
	if _, err := mustClient(t, Options{URL: repo.URL, Username: "user", Password: "wrong"}).get(ctx, repo.URL+"/index.yaml"); !errors.Is(err, ErrAuthentication) {
		t.Errorf("wrong password: %v", err)
	}
	for _, pass := range []bool{false, true} {
		otherAuth = nil
		c := mustClient(t, Options{URL: repo.URL, Username: "user", Password: "pass", PassCredentials: pass})
		ix, _, err := c.FetchIndex(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cv, _ := ix.Select("app", "*")
		if _, err := c.FetchChart(ctx, cv); err != nil {
			t.Fatal(err)
		}
		if sent := otherAuth[0] != ""; sent != pass {
			t.Errorf("passCredentials=%v: credentials sent to the other host: %v", pass, sent)
		}
		local, _ := ix.Select("local", "*")
		if _, err := c.FetchChart(ctx, local); !errors.Is(err, ErrDigestMismatch) {
			t.Errorf("digest mismatch not detected: %v", err)
		}
	}
	if _, _, err := mustClient(t, Options{URL: repo.URL, Username: "user", Password: "pass", MaxSize: 10}).FetchIndex(ctx); !errors.Is(err, ErrTooLarge) {
		t.Errorf("size cap: %v", err)
	}
	// The index has its own, smaller cap: charts may be larger.
	idx := mustClient(t, Options{URL: repo.URL, Username: "user", Password: "pass", MaxSize: 1 << 30, MaxIndexSize: 10})
	if _, _, err := idx.FetchIndex(ctx); !errors.Is(err, ErrTooLarge) {
		t.Errorf("index size cap: %v", err)
	}
	md, err := ReadChartMetadata(chart)
	if err != nil || md.Name != "app" || md.Version != "1.0.0" {
		t.Errorf("ReadChartMetadata = %+v, %v", md, err)
	}
}

func mustClient(t *testing.T, opts Options) *Client {
	t.Helper()
	c, err := NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

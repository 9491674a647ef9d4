// Package helmtest serves Helm chart repositories on loopback and packages
// and pushes small charts, for tests of the Helm sources. It uses the Helm
// SDK directly (not pkg/helm), so that tests check pkg/helm against it.
package helmtest

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"
)

// Chart packages a chart from files (paths relative to the chart,
// Chart.yaml among them) with the SDK's chartutil.Save.
func Chart(t testing.TB, files map[string]string) []byte {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buffered []*archive.BufferedFile
	for _, n := range names {
		buffered = append(buffered, &archive.BufferedFile{Name: n, Data: []byte(files[n])})
	}
	ch, err := loader.LoadFiles(buffered)
	if err != nil {
		t.Fatalf("loading chart: %v", err)
	}
	ch.StampModTimes(time.Unix(0, 0))
	dir := t.TempDir()
	p, err := chartutil.Save(ch, dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// SimpleChart is a chart with a Chart.yaml, values and one template.
func SimpleChart(t testing.TB, name, version string) []byte {
	t.Helper()
	return Chart(t, map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: " + name + "\nversion: " + version + "\n",
		"values.yaml":       "replicaCount: 1\n",
		"templates/cm.yaml": "kind: ConfigMap\n",
	})
}

// Options configure a Repository.
type Options struct {
	// Username and Password, when set, require HTTP basic auth.
	Username, Password string
}

// Repository is a static Helm HTTP repository on 127.0.0.1 serving
// /index.yaml and /<name>-<version>.tgz.
type Repository struct {
	// URL is the repository's URL (http://127.0.0.1:<port>).
	URL string

	mu       sync.Mutex
	charts   map[string][]byte
	index    []byte
	auths    []string // Authorization headers of requests, in order
	override map[string][]byte
}

// NewRepository starts a repository; it stops when the test ends.
func NewRepository(t testing.TB, opts Options) *Repository {
	t.Helper()
	r := &Repository{charts: map[string][]byte{}, override: map[string][]byte{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.auths = append(r.auths, req.Header.Get("Authorization"))
		if opts.Username != "" {
			if u, p, ok := req.BasicAuth(); !ok || u != opts.Username || p != opts.Password {
				w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		}
		name := strings.TrimPrefix(req.URL.Path, "/")
		if data, ok := r.override[name]; ok {
			w.Write(data)
			return
		}
		if name == "index.yaml" {
			w.Write(r.index)
			return
		}
		data, ok := r.charts[name]
		if !ok {
			http.NotFound(w, req)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	r.index = []byte("apiVersion: v1\nentries: {}\n")
	return r
}

// Publish adds a packaged chart and rewrites index.yaml with the SDK, with
// relative URLs and digests, as `helm repo index` does.
func (r *Repository) Publish(t testing.TB, data []byte) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	r.charts[fmt.Sprintf("%s-%s.tgz", ch.Name(), ch.Metadata.Version)] = data
	ix := repo.NewIndexFile()
	ix.Generated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	files := make([]string, 0, len(r.charts))
	for f := range r.charts {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		c, err := loader.LoadArchive(bytes.NewReader(r.charts[f]))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(r.charts[f])
		if err := ix.MustAdd(c.Metadata, f, "", "sha256:"+hex.EncodeToString(sum[:])); err != nil {
			t.Fatal(err)
		}
		for _, cv := range ix.Entries[c.Name()] {
			cv.Created = ix.Generated
		}
	}
	ix.SortEntries()
	b, err := yaml.Marshal(ix)
	if err != nil {
		t.Fatal(err)
	}
	r.index = b
}

// Serve makes path answer data instead (a tampered chart, say).
func (r *Repository) Serve(path string, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.override[strings.TrimPrefix(path, "/")] = data
}

// Authorizations returns the Authorization headers received so far.
func (r *Repository) Authorizations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auths...)
}

// PushOptions say how to reach the registry Push uploads to.
type PushOptions struct {
	// Username and Password log in when Username is set.
	Username, Password string
	// CA is the PEM certificate of a TLS registry; without it the registry
	// is reached over plain HTTP.
	CA []byte
}

// Push uploads a packaged chart to the registry at host as
// oci://<host>/<repository>/<name>:<version> with the SDK's registry
// client (Helm's media types).
func Push(t testing.TB, host, repository string, data []byte, opts PushOptions) {
	t.Helper()
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	copts := []registry.ClientOption{registry.ClientOptCredentialsFile(filepath.Join(t.TempDir(), "config.json"))}
	if opts.CA == nil {
		copts = append(copts, registry.ClientOptPlainHTTP())
	} else {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(opts.CA)
		rt := http.DefaultTransport.(*http.Transport).Clone()
		rt.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		copts = append(copts, registry.ClientOptHTTPClient(&http.Client{Transport: rt}))
	}
	if opts.Username != "" {
		copts = append(copts, registry.ClientOptBasicAuth(opts.Username, opts.Password))
	}
	c, err := registry.NewClient(copts...)
	if err != nil {
		t.Fatal(err)
	}
	ref := fmt.Sprintf("%s/%s/%s:%s", host, repository, ch.Name(), ch.Metadata.Version)
	if _, err := c.Push(data, ref, registry.PushOptCreationTime("2026-01-02T03:04:05Z")); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
}

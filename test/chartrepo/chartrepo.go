// Package chartrepo serves Helm charts on loopback for tests and the
// benchmark: a static HTTP Helm repository (index.yaml and packaged charts,
// optional basic auth) and helpers to package a chart from files. It stays
// small on purpose: the server under test parses what it serves with the
// Helm SDK, so a wrong index or archive here shows up as a test failure.
package chartrepo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Package makes a chart archive <name>-<version>.tgz with files (paths
// relative to the chart directory; Chart.yaml is added when missing).
func Package(name, version string, files map[string]string) ([]byte, error) {
	all := map[string]string{"Chart.yaml": fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\nappVersion: %q\n", name, version, version)}
	for k, v := range files {
		all[k] = v
	}
	names := make([]string, 0, len(all))
	for k := range all {
		names = append(names, k)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, n := range names {
		content := all[n]
		if err := tw.WriteHeader(&tar.Header{Name: name + "/" + n, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg, ModTime: mtime}); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Repo is an HTTP Helm repository on 127.0.0.1.
type Repo struct {
	srv      *http.Server
	ln       net.Listener
	user     string
	password string

	mu     sync.Mutex
	charts map[string][]byte // file name → archive
	index  map[string][]entry
	hits   map[string]int
}

type entry struct{ name, version, file, digest string }

// NewRepo serves an empty repository; with a user, basic auth is required.
func NewRepo(user, password string) (*Repo, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Repo{ln: ln, user: user, password: password, charts: map[string][]byte{}, index: map[string][]entry{}, hits: map[string]int{}}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// URL is the repository's URL (what a HelmRepository's spec.url names).
func (r *Repo) URL() string { return "http://" + r.ln.Addr().String() + "/charts" }

// Close stops the server.
func (r *Repo) Close() { _ = r.srv.Close() }

// Publish adds a chart archive to the repository and its index.
func (r *Repo) Publish(name, version string, archive []byte) {
	file := fmt.Sprintf("%s-%s.tgz", name, version)
	sum := sha256.Sum256(archive)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.charts[file] = archive
	entries := r.index[name]
	for i, e := range entries {
		if e.version == version {
			entries = append(entries[:i], entries[i+1:]...)
			break
		}
	}
	r.index[name] = append(entries, entry{name: name, version: version, file: file, digest: hex.EncodeToString(sum[:])})
}

// Hits is how many times path (e.g. "index.yaml") was served.
func (r *Repo) Hits(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits[path]
}

// ServeHTTP serves /charts/index.yaml and /charts/<name>-<version>.tgz.
func (r *Repo) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.user != "" {
		u, p, ok := req.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(r.user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(r.password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	path := strings.TrimPrefix(req.URL.Path, "/charts/")
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hits[path]++
	if path == "index.yaml" {
		_, _ = w.Write([]byte(r.indexYAML()))
		return
	}
	data, ok := r.charts[path]
	if !ok {
		http.NotFound(w, req)
		return
	}
	_, _ = w.Write(data)
}

// indexYAML renders index.yaml as `helm repo index` would, with relative
// chart URLs.
func (r *Repo) indexYAML() string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nentries:\n")
	names := make([]string, 0, len(r.index))
	for n := range r.index {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %s:\n", n)
		for _, e := range r.index[n] {
			fmt.Fprintf(&b, "  - apiVersion: v2\n    name: %s\n    version: %s\n    appVersion: %q\n    digest: %s\n    created: \"2026-01-02T03:04:05Z\"\n    urls:\n    - %s\n",
				e.name, e.version, e.version, e.digest, e.file)
		}
	}
	b.WriteString("generated: \"2026-01-02T03:04:05Z\"\n")
	return b.String()
}

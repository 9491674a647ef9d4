// Package ocitest runs go-containerregistry's in-process registry on
// loopback and pushes small artifacts to it, for tests of OCI sources.
package ocitest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// FluxContentMediaType is the layer media type `flux push artifact` uses.
const FluxContentMediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"

// Options configure a Registry.
type Options struct {
	// Username and Password, when set, require HTTP basic auth.
	Username, Password string
	// TLS serves HTTPS with httptest's certificate (see Registry.CACert).
	TLS bool
}

// Registry is a registry served on 127.0.0.1.
type Registry struct {
	// Host is "127.0.0.1:<port>".
	Host string
	srv  *httptest.Server
	opts Options

	mu       sync.Mutex
	pulls    int
	requests []string
}

// NewRegistry starts a registry; it stops when the test ends.
func NewRegistry(t testing.TB, opts Options) *Registry {
	t.Helper()
	r := &Registry{opts: opts}
	// The Referrers API (OCI 1.1) serves cosign's bundle signatures.
	h := registry.New(registry.Logger(discardLogger()), registry.WithReferrersSupport(true))
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if opts.Username != "" {
			u, p, ok := req.BasicAuth()
			if !ok || u != opts.Username || p != opts.Password {
				w.Header().Set("WWW-Authenticate", `Basic realm="ocitest"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
		}
		r.mu.Lock()
		if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/") {
			r.pulls++
		}
		r.requests = append(r.requests, req.Method+" "+req.URL.Path)
		r.mu.Unlock()
		h.ServeHTTP(w, req)
	})
	if opts.TLS {
		r.srv = httptest.NewTLSServer(handler)
	} else {
		r.srv = httptest.NewServer(handler)
	}
	t.Cleanup(r.srv.Close)
	r.Host = strings.TrimPrefix(strings.TrimPrefix(r.srv.URL, "http://"), "https://")
	return r
}

// URL is the oci:// address of repository repo.
func (r *Registry) URL(repo string) string { return "oci://" + r.Host + "/" + repo }

// BlobGets counts the blob downloads (config and layers) served so far.
func (r *Registry) BlobGets() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pulls
}

// Requests returns "<method> <path>" of every request served so far
// whose path contains part.
func (r *Registry) Requests(part string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, req := range r.requests {
		if strings.Contains(req, part) {
			out = append(out, req)
		}
	}
	return out
}

// CACert is the PEM certificate of a TLS registry.
func (r *Registry) CACert() []byte {
	var b bytes.Buffer
	_ = pemEncode(&b, r.srv.Certificate().Raw)
	return b.Bytes()
}

// Push uploads img as repo:tag and returns its manifest digest.
func (r *Registry) Push(t testing.TB, repo, tag string, img v1.Image) string {
	t.Helper()
	ref, err := name.NewTag(r.Host + "/" + repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, r.remoteOptions()...); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// remoteOptions reach the registry as a client with its credentials.
func (r *Registry) remoteOptions() []remote.Option {
	opts := []remote.Option{remote.WithTransport(r.srv.Client().Transport)}
	if r.opts.Username != "" {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: r.opts.Username, Password: r.opts.Password}))
	}
	return opts
}

// Image builds an OCI image whose only layer (of mediaType, Flux's content
// type when empty) is a tar.gz of files, with manifest annotations.
func Image(t testing.TB, files map[string]string, annotations map[string]string, mediaType string) v1.Image {
	t.Helper()
	if mediaType == "" {
		mediaType = FluxContentMediaType
	}
	return ImageWithLayers(t, annotations, Layer(t, TarGz(t, files), mediaType))
}

// Layer makes a layer of blob (stored as it is) with mediaType.
func Layer(t testing.TB, blob []byte, mediaType string) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(blob)), nil
	}, tarball.WithMediaType(types.MediaType(mediaType)))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// ImageWithLayers builds an OCI image of layers with manifest annotations.
func ImageWithLayers(t testing.TB, annotations map[string]string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, "application/vnd.cncf.flux.config.v1+json")
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		t.Fatal(err)
	}
	if len(annotations) > 0 {
		img = mutate.Annotations(img, annotations).(v1.Image)
	}
	return img
}

// TarGz returns a tar.gz of files (path → content), sorted by path.
func TarGz(t testing.TB, files map[string]string) []byte {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, n := range names {
		hdr := &tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[n])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

func pemEncode(w io.Writer, der []byte) error {
	return pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: der})
}

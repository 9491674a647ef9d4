package oci_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
)

func TestResolve_PicksDigestSemverTagOrLatest(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	url := reg.URL("app")
	d100 := reg.Push(t, "app", "1.0.0", ocitest.Image(t, map[string]string{"v": "1.0.0"}, nil, ""))
	d110 := reg.Push(t, "app", "1.1.0", ocitest.Image(t, map[string]string{"v": "1.1.0"}, nil, ""))
	d200rc := reg.Push(t, "app", "2.0.0-rc.1", ocitest.Image(t, map[string]string{"v": "2.0.0-rc.1"}, nil, ""))
	dLatest := reg.Push(t, "app", "latest", ocitest.Image(t, map[string]string{"v": "latest"}, nil, ""))
	reg.Push(t, "app", "not-a-version", ocitest.Image(t, map[string]string{"v": "x"}, nil, ""))

	tests := []struct {
		name         string
		ref          oci.Ref
		wantRevision string
	}{
		{"default is latest", oci.Ref{}, "latest@" + dLatest},
		{"tag", oci.Ref{Tag: "1.0.0"}, "1.0.0@" + d100},
		{"semver picks the highest match", oci.Ref{SemVer: ">=1.0.0", Tag: "1.0.0"}, "1.1.0@" + d110},
		{"semver with prereleases", oci.Ref{SemVer: ">=1.0.0-0"}, "2.0.0-rc.1@" + d200rc},
		{"semver filter", oci.Ref{SemVer: ">=1.0.0", SemverFilter: `^1\.0`}, "1.0.0@" + d100},
		{"digest wins and has no tag", oci.Ref{Digest: d100, SemVer: ">=1.0.0", Tag: "latest"}, d100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := oci.Resolve(context.Background(), oci.Options{URL: url, Ref: tt.ref})
			if err != nil {
				t.Fatal(err)
			}
			if r.Revision != tt.wantRevision {
				t.Errorf("revision = %q, want %q", r.Revision, tt.wantRevision)
			}
			if !strings.HasSuffix(tt.wantRevision, r.Digest) || !strings.HasPrefix(r.Digest, "sha256:") {
				t.Errorf("digest = %q", r.Digest)
			}
		})
	}
	if n := reg.BlobGets(); n != 0 {
		t.Errorf("resolving downloaded %d blobs, want none", n)
	}
}

func TestResolve_Errors(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	reg.Push(t, "app", "1.0.0", ocitest.Image(t, map[string]string{"v": "1"}, nil, ""))
	tests := []struct {
		name string
		opts oci.Options
		want error
	}{
		{"missing tag", oci.Options{URL: reg.URL("app"), Ref: oci.Ref{Tag: "9.9.9"}}, oci.ErrNotFound},
		{"no semver match", oci.Options{URL: reg.URL("app"), Ref: oci.Ref{SemVer: ">=2.0.0"}}, oci.ErrNotFound},
		{"bad semver range", oci.Options{URL: reg.URL("app"), Ref: oci.Ref{SemVer: "not a range"}}, oci.ErrInvalidOptions},
		{"bad filter", oci.Options{URL: reg.URL("app"), Ref: oci.Ref{SemVer: "*", SemverFilter: "("}}, oci.ErrInvalidOptions},
		{"bad digest", oci.Options{URL: reg.URL("app"), Ref: oci.Ref{Digest: "sha256:xyz"}}, oci.ErrInvalidOptions},
		{"no oci scheme", oci.Options{URL: "https://" + reg.Host + "/app"}, oci.ErrInvalidOptions},
		{"tag in the URL", oci.Options{URL: reg.URL("app:1.0.0")}, oci.ErrInvalidOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := oci.Resolve(context.Background(), tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestResolve_HonoursTheTimeout(t *testing.T) {
	// A registry that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { _ = ln.Close(); <-done })
	go func() {
		defer close(done)
		var conns []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					_ = c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	start := time.Now()
	_, err = oci.Resolve(context.Background(), oci.Options{URL: "oci://" + ln.Addr().String() + "/app", Timeout: 500 * time.Millisecond})
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("err = %v after %s", err, time.Since(start))
	}
	if !strings.Contains(err.Error(), "timed out") {
		t.Errorf("err = %v, want a timeout", err)
	}
}

func TestPull_ExtractsTheSelectedLayerAndReturnsAnnotations(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	const otherType = "application/vnd.example.other.v1.tar+gzip"
	img := ocitest.ImageWithLayers(t,
		map[string]string{"org.opencontainers.image.revision": "main@sha1:abc", "org.opencontainers.image.source": "https://example.com/app.git"},
		ocitest.Layer(t, ocitest.TarGz(t, map[string]string{"other.txt": "other"}), otherType),
		ocitest.Layer(t, ocitest.TarGz(t, map[string]string{"deploy/app.yaml": "kind: ConfigMap\n"}), ocitest.FluxContentMediaType),
	)
	reg.Push(t, "app", "1.0.0", img)
	opts := oci.Options{URL: reg.URL("app"), Ref: oci.Ref{Tag: "1.0.0"}}
	r, err := oci.Resolve(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		mediaType, file, content string
	}{
		{"", "other.txt", "other"},
		{ocitest.FluxContentMediaType, "deploy/app.yaml", "kind: ConfigMap\n"},
	} {
		dir := t.TempDir()
		a, err := oci.Pull(context.Background(), opts, r, oci.LayerSelector{MediaType: tt.mediaType}, func(layer io.Reader) error {
			return artifact.Extract(layer, dir, artifact.ExtractOptions{})
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, dir, tt.file); got != tt.content {
			t.Errorf("mediaType %q: %s = %q", tt.mediaType, tt.file, got)
		}
		if a.Annotations["org.opencontainers.image.revision"] != "main@sha1:abc" {
			t.Errorf("annotations = %v", a.Annotations)
		}
	}

	_, err = oci.Pull(context.Background(), opts, r, oci.LayerSelector{MediaType: "application/none"}, func(io.Reader) error { return nil })
	if !errors.Is(err, oci.ErrNotFound) || !strings.Contains(err.Error(), "application/none") {
		t.Errorf("missing media type: %v", err)
	}
}

func TestPull_CopyGivesTheBlobAsItIs(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	blob := ocitest.TarGz(t, map[string]string{"a": "b"})
	reg.Push(t, "app", "latest", ocitest.ImageWithLayers(t, nil, ocitest.Layer(t, blob, ocitest.FluxContentMediaType)))
	opts := oci.Options{URL: reg.URL("app")}
	r, err := oci.Resolve(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	a, err := oci.Pull(context.Background(), opts, r, oci.LayerSelector{Operation: oci.OperationCopy}, func(layer io.Reader) error {
		_, err := io.Copy(&got, layer)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), blob) {
		t.Error("the copied layer differs from the pushed blob")
	}
	if a.Layer.Size != int64(len(blob)) {
		t.Errorf("layer size = %d", a.Layer.Size)
	}
}

func TestPull_RefusesLayersOverMaxSize(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	reg.Push(t, "app", "latest", ocitest.Image(t, map[string]string{"big": strings.Repeat("x", 1<<16)}, nil, ""))
	opts := oci.Options{URL: reg.URL("app"), MaxSize: 64}
	r, err := oci.Resolve(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	called := false
	_, err = oci.Pull(context.Background(), opts, r, oci.LayerSelector{}, func(io.Reader) error { called = true; return nil })
	if !errors.Is(err, oci.ErrTooLarge) || called {
		t.Fatalf("err = %v, use called = %v", err, called)
	}
}

func TestPull_UnknownDigestIsNotFound(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	reg.Push(t, "app", "latest", ocitest.Image(t, map[string]string{"a": "b"}, nil, ""))
	opts := oci.Options{URL: reg.URL("app"), Ref: oci.Ref{Digest: "sha256:" + strings.Repeat("0", 64)}}
	r, err := oci.Resolve(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = oci.Pull(context.Background(), opts, r, oci.LayerSelector{}, func(io.Reader) error { return nil })
	if !errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}

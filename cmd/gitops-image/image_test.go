package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
)

var testCreated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// staticProgram builds a tiny static program for GOARCH=amd64 (a stand-in
// for gitops-apiserver, which is ~200 MB; test/deploy packages the real one).
func staticProgram(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { println(\"hello\") }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOTOOLCHAIN=local", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building a static program: %v\n%s", err, out)
	}
	return bin
}

// testCA writes a PEM CA bundle with one self-signed certificate.
func testCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test root"},
		NotBefore: testCreated, NotAfter: testCreated.Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func testOptions(t *testing.T, bin, ca string) BuildOptions {
	return BuildOptions{
		Binaries:       []PlatformBinary{{Platform: v1.Platform{OS: "linux", Architecture: "amd64"}, Path: bin}},
		CACertificates: ca,
		Out:            filepath.Join(t.TempDir(), "oci"),
		Labels:         Labels{Source: defaultSource, Revision: "0123abcd", Version: "v0.1.0-test", Created: testCreated},
	}
}

// dockerConfig points $DOCKER_CONFIG at a config.json holding credentials
// for host, as `docker login` writes it.
func dockerConfig(t *testing.T, host, user, password string) {
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	cfg := `{"auths":{"` + host + `":{"auth":"` + auth + `"}}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}

func TestImage_PushedConfigRunsStaticBinaryAsNonRoot(t *testing.T) {
	bin, ca := staticProgram(t), testCA(t)
	o := testOptions(t, bin, ca)
	res, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}

	reg := ocitest.NewRegistry(t, ocitest.Options{Username: "pusher", Password: "s3cret"})
	ref := reg.Host + "/gitops/gitops-apiserver:v0.1.0-test"
	ctx := context.Background()
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials
	if _, err := Push(ctx, o.Out, ref, false); err == nil {
		t.Fatal("push without credentials succeeded; the registry requires them")
	}
	dockerConfig(t, reg.Host, "pusher", "s3cret")
	pushed, err := Push(ctx, o.Out, ref, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := reg.Host + "/gitops/gitops-apiserver@" + res.Digest.String(); pushed != want {
		t.Errorf("Push returned %q, want %q", pushed, want)
	}

	// Pull it back as a user would, by tag.
	tag, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(tag, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if im.MediaType != types.OCIImageIndex || len(im.Manifests) != 1 || im.Manifests[0].Platform == nil ||
		im.Manifests[0].Platform.String() != "linux/amd64" {
		t.Fatalf("index = %+v, want one linux/amd64 OCI manifest", im)
	}
	if im.Annotations[LabelRevision] != "0123abcd" {
		t.Errorf("index annotations = %v", im.Annotations)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if !reflect.DeepEqual(c.Entrypoint, []string{"/usr/local/bin/gitops-apiserver"}) || len(c.Cmd) != 0 {
		t.Errorf("entrypoint %q cmd %q", c.Entrypoint, c.Cmd)
	}
	if c.User != "65532:65532" || c.WorkingDir != "/var/lib/gitops-apiserver" {
		t.Errorf("user %q workdir %q", c.User, c.WorkingDir)
	}
	if _, ok := c.Volumes["/var/lib/gitops-apiserver"]; !ok || len(c.Volumes) != 1 {
		t.Errorf("volumes = %v", c.Volumes)
	}
	if len(c.ExposedPorts) != 3 {
		t.Errorf("exposed ports = %v", c.ExposedPorts)
	}
	wantLabels := map[string]string{
		LabelSource: defaultSource, LabelRevision: "0123abcd", LabelVersion: "v0.1.0-test",
		LabelCreated: "2026-01-02T03:04:05Z", LabelTitle: "gitops-apiserver",
	}
	for k, v := range wantLabels {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" || !cf.Created.Time.Equal(testCreated) {
		t.Errorf("os/arch/created = %s/%s/%s", cf.OS, cf.Architecture, cf.Created)
	}

	files := extract(t, img)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	wantNames := []string{
		"etc", "etc/group", "etc/nsswitch.conf", "etc/passwd", "etc/ssl", "etc/ssl/certs",
		"etc/ssl/certs/ca-certificates.crt", "home", "home/nonroot", "root", "tmp",
		"usr", "usr/local", "usr/local/bin", "usr/local/bin/gitops-apiserver",
		"var", "var/lib", "var/lib/gitops-apiserver",
	}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("files = %q\nwant %q (no shell, nothing else)", names, wantNames)
	}
	if f := files["usr/local/bin/gitops-apiserver"]; f.hdr.Mode != 0o755 || !bytes.Equal(f.data, mustRead(t, bin)) {
		t.Errorf("binary: mode %o, %d bytes", f.hdr.Mode, len(f.data))
	}
	if !strings.Contains(string(files["etc/passwd"].data), "nonroot:x:65532:65532:") ||
		!strings.Contains(string(files["etc/group"].data), "nonroot:x:65532:") {
		t.Errorf("passwd/group lack the user 65532:\n%s%s", files["etc/passwd"].data, files["etc/group"].data)
	}
	if !bytes.Equal(files["etc/ssl/certs/ca-certificates.crt"].data, mustRead(t, ca)) {
		t.Error("CA certificates differ from the input bundle")
	}
	if d := files["var/lib/gitops-apiserver"].hdr; d.Uid != 65532 || d.Gid != 65532 || d.Mode != 0o700 {
		t.Errorf("data dir: %d:%d %o", d.Uid, d.Gid, d.Mode)
	}
	if d := files["tmp"].hdr; d.Mode != 0o1777 {
		t.Errorf("/tmp mode %o", d.Mode)
	}
	for n, f := range files {
		if !f.hdr.ModTime.Equal(testCreated) {
			t.Errorf("%s: mtime %s, want the --created time", n, f.hdr.ModTime)
		}
	}
}

func TestImage_SameInputsSameDigest(t *testing.T) {
	bin, ca := staticProgram(t), testCA(t)
	a, err := Build(testOptions(t, bin, ca))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(testOptions(t, bin, ca))
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest != b.Digest {
		t.Errorf("two builds of the same inputs: %s and %s", a.Digest, b.Digest)
	}
	o := testOptions(t, bin, ca)
	o.Labels.Revision = "another"
	c, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	if c.Digest == a.Digest {
		t.Error("another revision label gave the same digest")
	}
}

func TestImage_RefusesBinariesThatCannotRun(t *testing.T) {
	bin, ca := staticProgram(t), testCA(t)
	// Debian's sh is a dynamically linked ELF.
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	sh, err = filepath.EvalSymlinks(sh)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, arch, path, want string
	}{
		{"dynamic", "amd64", sh, "dynamically linked"},
		{"other architecture", "arm64", bin, "not arm64"},
		{"not ELF", "amd64", ca, "bad magic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(t, tc.path, ca)
			o.Binaries[0].Platform.Architecture = tc.arch
			_, err := Build(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if _, statErr := os.Stat(o.Out); !os.IsNotExist(statErr) {
				t.Errorf("a refused build wrote %s", o.Out)
			}
		})
	}
}

func TestParsePlatformBinary(t *testing.T) {
	for in, want := range map[string]string{
		"linux/amd64=bin/x":    "linux/amd64=bin/x",
		"linux/arm/v7=bin/arm": "linux/arm/v7=bin/arm",
		"linux/arm64":          "",
		"windows/amd64=x.exe":  "",
	} {
		got, err := ParsePlatformBinary(in)
		if (err != nil) != (want == "") || (err == nil && got.String() != want) {
			t.Errorf("%q: got %v, %v; want %q", in, got, err, want)
		}
	}
}

type file struct {
	hdr  *tar.Header
	data []byte
}

// extract reads the image's flattened filesystem.
func extract(t *testing.T, img v1.Image) map[string]file {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	files := map[string]file{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		// Extract names directories without their trailing slash.
		files[strings.TrimSuffix(hdr.Name, "/")] = file{hdr: hdr, data: data}
	}
}

func mustRead(t *testing.T, f string) []byte {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

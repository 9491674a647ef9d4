package deploy

import (
	"archive/tar"
	"debug/elf"
	"io"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// TestImage_PushedImageRunsStaticServerAsNonRoot builds the image as `make
// image` does, pushes it as `make push` does, and checks what a registry
// serves: the config (entrypoint, user, labels), a filesystem with the
// static server binary and no shell, and that artifacts/deploy runs it as
// the image expects.
func TestImage_PushedImageRunsStaticServerAsNonRoot(t *testing.T) {
	_, tagRef, digestRef := pushImage(t)

	// The layout's ref name is the version label (skopeo copy oci:DIR:VERSION).
	p, err := layout.FromPath(layoutDir(t))
	if err != nil {
		t.Fatal(err)
	}
	root, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	rootManifest, err := root.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	version := rootManifest.Manifests[0].Annotations["org.opencontainers.image.ref.name"]

	tag, err := name.ParseReference(tagRef)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(tag)
	if err != nil {
		t.Fatal(err)
	}
	idxDigest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(digestRef, "@"+idxDigest.String()) {
		t.Errorf("push printed %s, the tag serves %s", digestRef, idxDigest)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if im.MediaType != types.OCIImageIndex || len(im.Manifests) != 1 {
		t.Fatalf("index: %s with %d manifests, want an OCI index with one (this machine's architecture)", im.MediaType, len(im.Manifests))
	}
	desc := im.Manifests[0]
	if desc.MediaType != types.OCIManifestSchema1 || desc.Platform == nil || desc.Platform.String() != "linux/"+runtime.GOARCH {
		t.Fatalf("manifest %s for %v, want an OCI manifest for linux/%s", desc.MediaType, desc.Platform, runtime.GOARCH)
	}
	img, err := idx.Image(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if !reflect.DeepEqual(c.Entrypoint, []string{"/usr/local/bin/gitops-apiserver"}) || len(c.Cmd) != 0 {
		t.Errorf("entrypoint %q, cmd %q", c.Entrypoint, c.Cmd)
	}
	if c.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", c.User)
	}
	if c.WorkingDir != "/var/lib/gitops-apiserver" {
		t.Errorf("workdir %q", c.WorkingDir)
	}
	commitTime, err := strconv.ParseInt(git(t, "log", "-1", "--format=%ct"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.source":   "https://github.com/gitops-apiserver/gitops-apiserver",
		"org.opencontainers.image.revision": git(t, "rev-parse", "HEAD"),
		"org.opencontainers.image.version":  git(t, "describe", "--tags", "--always", "--dirty"),
		// The commit's time, so the same tree builds the same digest.
		"org.opencontainers.image.created": time.Unix(commitTime, 0).UTC().Format(time.RFC3339),
	}
	for k, v := range wantLabels {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
		if im.Annotations[k] != v {
			t.Errorf("index annotation %s = %q, want %q", k, im.Annotations[k], v)
		}
	}
	if version != wantLabels["org.opencontainers.image.version"] {
		t.Errorf("layout ref name %q, want the version", version)
	}

	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, l := range layers {
		s, err := l.Size()
		if err != nil {
			t.Fatal(err)
		}
		size += s
	}
	t.Logf("image %s: %d layers, %.1f MiB compressed", digestRef, len(layers), float64(size)/(1<<20))

	checkFilesystem(t, img)
	checkDeploymentRunsImage(t, cf)
}

// checkFilesystem walks the image's flattened filesystem: no shell or any
// other program but the server, which is a static executable for the
// platform, and the user's passwd entry and CA certificates are there.
func checkFilesystem(t *testing.T, img v1.Image) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	var executables []string
	files := map[string]*tar.Header{}
	var passwd string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		files[name] = hdr
		switch base := path.Base(name); {
		case base == "sh" || base == "bash" || base == "busybox" || strings.HasPrefix(name, "bin") || strings.HasPrefix(name, "usr/bin"):
			t.Errorf("%s in the image: it must have no shell", name)
		case hdr.Typeflag == tar.TypeReg && hdr.Mode&0o111 != 0:
			executables = append(executables, name)
		}
		switch name {
		case "etc/passwd":
			b, _ := io.ReadAll(tr)
			passwd = string(b)
		case "usr/local/bin/gitops-apiserver":
			checkStaticBinary(t, tr)
		}
	}
	if !reflect.DeepEqual(executables, []string{"usr/local/bin/gitops-apiserver"}) {
		t.Errorf("executables %q, want the server alone", executables)
	}
	if !strings.Contains(passwd, "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no entry for 65532:\n%s", passwd)
	}
	if ca := files["etc/ssl/certs/ca-certificates.crt"]; ca == nil || ca.Size == 0 {
		t.Error("no CA certificates in the image")
	}
	if d := files["var/lib/gitops-apiserver"]; d == nil || d.Uid != 65532 {
		t.Errorf("data directory %+v, want it owned by 65532", d)
	}
}

func checkStaticBinary(t *testing.T, r io.Reader) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "gitops-apiserver-")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, r); err != nil {
		t.Fatal(err)
	}
	e, err := elf.NewFile(f)
	if err != nil {
		t.Fatalf("the server binary: %v", err)
	}
	defer e.Close()
	for _, p := range e.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Error("the server binary is dynamically linked; the image has no libc")
		}
	}
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[runtime.GOARCH]
	if e.Machine != want {
		t.Errorf("the server binary is for %s, want %s", e.Machine, want)
	}
}

// checkDeploymentRunsImage compares artifacts/deploy/deployment.yaml with
// the image config: the user it runs as, the data volume and the ports.
func checkDeploymentRunsImage(t *testing.T, cf *v1.ConfigFile) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "artifacts", "deploy", "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := yaml.UnmarshalStrict(b, &d); err != nil {
		t.Fatal(err)
	}
	pod := d.Spec.Template.Spec
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsUser == nil || sc.RunAsGroup == nil || sc.FSGroup == nil ||
		strconv.FormatInt(*sc.RunAsUser, 10)+":"+strconv.FormatInt(*sc.RunAsGroup, 10) != cf.Config.User || *sc.FSGroup != *sc.RunAsGroup {
		t.Errorf("pod securityContext %+v does not run as the image's user %s (with fsGroup for the data volume)", sc, cf.Config.User)
	}
	container := pod.Containers[0]
	var mounted bool
	for _, m := range container.VolumeMounts {
		if _, ok := cf.Config.Volumes[m.MountPath]; ok {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("no volume mounted at the image's data volume %v", cf.Config.Volumes)
	}
	ports := map[string]struct{}{}
	for _, p := range container.Ports {
		ports[strconv.Itoa(int(p.ContainerPort))+"/tcp"] = struct{}{}
	}
	if !reflect.DeepEqual(ports, cf.Config.ExposedPorts) {
		t.Errorf("container ports %v, image exposes %v", ports, cf.Config.ExposedPorts)
	}
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// What the image holds and how it runs. artifacts/deploy relies on these:
// runAsUser/runAsGroup/fsGroup 65532, the data volume at DataDir, the
// ports, and an emptyDir at /tmp under a read-only root filesystem.
const (
	// BinaryPath is the entrypoint.
	BinaryPath = "/usr/local/bin/gitops-apiserver"
	// DataDir is --data-dir's default, declared as a volume.
	DataDir = "/var/lib/gitops-apiserver"
	// UID and GID of the user "nonroot" the image runs as.
	UID, GID = 65532, 65532
	// UserName is the passwd entry of UID.
	UserName = "nonroot"
	// HomeDir is UserName's home directory.
	HomeDir = "/home/nonroot"

	defaultSource = "https://github.com/gitops-apiserver/gitops-apiserver"
)

// Ports are the ports gitops-apiserver serves in the Deployment: the API
// (--secure-port), Receivers' webhooks and Flux's event ingest API.
var Ports = []string{"8443/tcp", "9292/tcp", "9090/tcp"}

// OCI annotation and label keys.
const (
	LabelSource   = "org.opencontainers.image.source"
	LabelRevision = "org.opencontainers.image.revision"
	LabelVersion  = "org.opencontainers.image.version"
	LabelCreated  = "org.opencontainers.image.created"
	LabelTitle    = "org.opencontainers.image.title"
	LabelDesc     = "org.opencontainers.image.description"
	layoutRefName = "org.opencontainers.image.ref.name"
)

// Labels are the OCI labels of the image (set on each image config, and as
// annotations on the manifests and the index).
type Labels struct {
	Source, Revision, Version string
	// Created is also the modification time of every file in the layers, so
	// the same binary and inputs give the same digests.
	Created time.Time
}

func (l Labels) asMap() map[string]string {
	m := map[string]string{
		LabelTitle:   "gitops-apiserver",
		LabelDesc:    "FluxCD's GitOps API as a Kubernetes aggregated API server",
		LabelCreated: l.Created.UTC().Format(time.RFC3339),
	}
	for k, v := range map[string]string{LabelSource: l.Source, LabelRevision: l.Revision, LabelVersion: l.Version} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// BuildOptions say what to build and where.
type BuildOptions struct {
	// Binaries are the static gitops-apiserver binaries, one per platform.
	Binaries []PlatformBinary
	// CACertificates is the PEM bundle installed as the system roots.
	CACertificates string
	// Out is the OCI layout directory; it is replaced.
	Out    string
	Labels Labels
	// DockerArchiveDir, if set, also gets a `docker load` tarball per
	// platform.
	DockerArchiveDir string
}

// PlatformBinary is a binary for one platform.
type PlatformBinary struct {
	Platform v1.Platform
	Path     string
}

func (p PlatformBinary) String() string { return p.Platform.String() + "=" + p.Path }

// ParsePlatformBinary reads OS/ARCH[/VARIANT]=PATH.
func ParsePlatformBinary(s string) (PlatformBinary, error) {
	plat, path, ok := strings.Cut(s, "=")
	if !ok || path == "" {
		return PlatformBinary{}, fmt.Errorf("%q: want OS/ARCH[/VARIANT]=PATH, e.g. linux/amd64=_output/image/bin/linux_amd64/gitops-apiserver", s)
	}
	p, err := v1.ParsePlatform(plat)
	if err != nil {
		return PlatformBinary{}, err
	}
	if p.OS != "linux" || p.Architecture == "" {
		return PlatformBinary{}, fmt.Errorf("%q: want a linux/ARCH platform", plat)
	}
	return PlatformBinary{Platform: *p, Path: path}, nil
}

// Result describes a build.
type Result struct {
	// Index is the image index (one image per platform).
	Index v1.ImageIndex
	// Digest is the index's digest: what a pushed reference pins.
	Digest v1.Hash
	// CompressedSize is the sum of every distinct blob's size.
	CompressedSize int64
}

// Build writes the image index for o.Binaries to the OCI layout o.Out.
func Build(o BuildOptions) (*Result, error) {
	if len(o.Binaries) == 0 {
		return nil, fmt.Errorf("no --binary given")
	}
	seen := map[string]bool{}
	for _, b := range o.Binaries {
		if seen[b.Platform.String()] {
			return nil, fmt.Errorf("platform %s given twice", b.Platform)
		}
		seen[b.Platform.String()] = true
		if err := CheckStatic(b.Path, b.Platform.Architecture); err != nil {
			return nil, err
		}
	}
	caPEM, err := os.ReadFile(o.CACertificates)
	if err != nil {
		return nil, fmt.Errorf("CA certificates: %w (pass --ca-certificates, e.g. from Debian's ca-certificates package)", err)
	}
	if !strings.Contains(string(caPEM), "-----BEGIN CERTIFICATE-----") {
		return nil, fmt.Errorf("CA certificates %s: no PEM certificate in it", o.CACertificates)
	}
	// Layers are written to files next to the layout, compressed once, and
	// copied into it; the directory goes away at the end.
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(o.Out)), 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(filepath.Dir(filepath.Clean(o.Out)), ".gitops-image-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	base, err := baseLayer(work, caPEM, o.Labels.Created)
	if err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	labels := o.Labels.asMap()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var images []v1.Image
	for i, b := range o.Binaries {
		bin, err := binaryLayer(filepath.Join(work, "binary-"+strconv.Itoa(i)), b.Path, o.Labels.Created)
		if err != nil {
			return nil, fmt.Errorf("binary layer for %s: %w", b.Platform, err)
		}
		img, err := platformImage(base, bin, b.Platform, labels)
		if err != nil {
			return nil, fmt.Errorf("image for %s: %w", b.Platform, err)
		}
		images = append(images, img)
		plat := b.Platform
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &plat}})
	}
	idx = mutate.Annotations(idx, labels).(v1.ImageIndex)

	if err := writeLayout(o.Out, idx, o.Labels.Version); err != nil {
		return nil, err
	}
	if o.DockerArchiveDir != "" {
		if err := writeDockerArchives(o.DockerArchiveDir, o.Binaries, images, o.Labels.Version); err != nil {
			return nil, err
		}
	}
	digest, err := idx.Digest()
	if err != nil {
		return nil, err
	}
	size, err := blobsSize(images)
	if err != nil {
		return nil, err
	}
	return &Result{Index: idx, Digest: digest, CompressedSize: size}, nil
}

// platformImage is the image of one platform: the base layer, the binary,
// and a config that runs the binary as the non-root user.
func platformImage(base, bin v1.Layer, plat v1.Platform, labels map[string]string) (v1.Image, error) {
	created := v1.Time{}
	if err := created.UnmarshalJSON([]byte(`"` + labels[LabelCreated] + `"`)); err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(img,
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{Created: created, CreatedBy: "gitops-image: passwd, group, nsswitch.conf, CA certificates, /tmp, " + DataDir}},
		mutate.Addendum{Layer: bin, MediaType: types.OCILayer, History: v1.History{Created: created, CreatedBy: "gitops-image: " + BinaryPath}},
	)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = created
	cf.OS, cf.Architecture, cf.Variant, cf.OSVersion = plat.OS, plat.Architecture, plat.Variant, plat.OSVersion
	ports := map[string]struct{}{}
	for _, p := range Ports {
		ports[p] = struct{}{}
	}
	cf.Config = v1.Config{
		Entrypoint:   []string{BinaryPath},
		User:         strconv.Itoa(UID) + ":" + strconv.Itoa(GID),
		WorkingDir:   DataDir,
		Env:          []string{"PATH=/usr/local/bin", "HOME=" + HomeDir},
		Volumes:      map[string]struct{}{DataDir: {}},
		ExposedPorts: ports,
		Labels:       labels,
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, labels).(v1.Image), nil
}

// writeLayout replaces dir with an OCI layout whose index.json names idx
// (with ref.name version, the way `skopeo copy oci:DIR:VERSION` finds it).
func writeLayout(dir string, idx v1.ImageIndex, version string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	var opts []layout.Option
	if version != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{layoutRefName: version}))
	}
	if err := p.AppendIndex(idx, opts...); err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", dir, err)
	}
	return nil
}

// blobsSize sums the distinct layers and configs of images.
func blobsSize(images []v1.Image) (int64, error) {
	seen := map[v1.Hash]bool{}
	var total int64
	for _, img := range images {
		layers, err := img.Layers()
		if err != nil {
			return 0, err
		}
		for _, l := range layers {
			d, err := l.Digest()
			if err != nil {
				return 0, err
			}
			if seen[d] {
				continue
			}
			seen[d] = true
			s, err := l.Size()
			if err != nil {
				return 0, err
			}
			total += s
		}
		m, err := img.Manifest()
		if err != nil {
			return 0, err
		}
		total += m.Config.Size
	}
	return total, nil
}

package main

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// entry is one file or directory of a layer.
type entry struct {
	name     string // without a leading slash
	mode     int64
	uid, gid int
	content  []byte // nil for directories
	from     string // or a file to copy
}

// baseFiles are what a static Go program needs from an operating system:
// the user it runs as (os/user, ssh known_hosts lookups), name resolution
// order, the system roots for TLS, a /tmp, and the data directory owned by
// that user (a fresh volume mounted there inherits the ownership).
func baseFiles(caPEM []byte) []entry {
	u, g := strconv.Itoa(UID), strconv.Itoa(GID)
	dir := func(name string, mode int64) entry { return entry{name: name, mode: mode} }
	return []entry{
		dir("etc", 0o755),
		{name: "etc/passwd", mode: 0o644, content: []byte("root:x:0:0:root:/root:/sbin/nologin\n" +
			UserName + ":x:" + u + ":" + g + ":" + UserName + ":" + HomeDir + ":/sbin/nologin\n")},
		{name: "etc/group", mode: 0o644, content: []byte("root:x:0:\n" + UserName + ":x:" + g + ":\n")},
		{name: "etc/nsswitch.conf", mode: 0o644, content: []byte("hosts: files dns\n")},
		dir("etc/ssl", 0o755),
		dir("etc/ssl/certs", 0o755),
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, content: caPEM},
		dir("home", 0o755),
		{name: HomeDir[1:], mode: 0o700, uid: UID, gid: GID},
		dir("root", 0o700),
		dir("tmp", 0o1777),
		dir("usr", 0o755),
		dir("usr/local", 0o755),
		dir("usr/local/bin", 0o755),
		dir("var", 0o755),
		dir("var/lib", 0o755),
		{name: DataDir[1:], mode: 0o700, uid: UID, gid: GID},
	}
}

func baseLayer(work string, caPEM []byte, mtime time.Time) (v1.Layer, error) {
	return writeLayer(filepath.Join(work, "base.tar.gz"), baseFiles(caPEM), mtime)
}

// binaryLayer holds the binary alone, so a new build changes one layer.
func binaryLayer(file, binary string, mtime time.Time) (v1.Layer, error) {
	return writeLayer(file+".tar.gz", []entry{{name: BinaryPath[1:], mode: 0o755, from: binary}}, mtime)
}

// writeLayer writes entries as a gzipped tar to file (compressed once,
// deterministically: fixed times, no gzip name or time) and returns it as
// an OCI layer.
func writeLayer(file string, entries []entry, mtime time.Time) (v1.Layer, error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zw, err := gzip.NewWriterLevel(f, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		if err := writeEntry(tw, e, mtime); err != nil {
			return nil, fmt.Errorf("%s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return tarball.LayerFromFile(file, tarball.WithMediaType(types.OCILayer))
}

func writeEntry(tw *tar.Writer, e entry, mtime time.Time) error {
	hdr := &tar.Header{
		Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid,
		ModTime: mtime, Format: tar.FormatPAX,
	}
	switch {
	case e.from != "":
		src, err := os.Open(e.from)
		if err != nil {
			return err
		}
		defer src.Close()
		st, err := src.Stat()
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err = io.Copy(tw, src)
		return err
	case e.content != nil:
		hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(e.content))
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(e.content)
		return err
	default:
		hdr.Typeflag, hdr.Name = tar.TypeDir, e.name+"/"
		return tw.WriteHeader(hdr)
	}
}

// writeDockerArchives writes one `docker load` tarball per platform, tagged
// gitops-apiserver:<version>.
func writeDockerArchives(dir string, bins []PlatformBinary, images []v1.Image, version string) error {
	if version == "" {
		version = "latest"
	}
	tag, err := name.NewTag("gitops-apiserver:" + version)
	if err != nil {
		return fmt.Errorf("docker archive tag: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, b := range bins {
		p := b.Platform
		file := filepath.Join(dir, "gitops-apiserver-"+p.OS+"-"+p.Architecture+p.Variant+".tar")
		if err := tarball.WriteToFile(file, tag, images[i]); err != nil {
			return fmt.Errorf("docker archive %s: %w", file, err)
		}
	}
	return nil
}

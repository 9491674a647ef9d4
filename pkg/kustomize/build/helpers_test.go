package build

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// memFS returns an in-memory file system holding files (path → content,
// paths relative to the root; a trailing slash makes an empty directory).
func memFS(t *testing.T, files map[string]string) filesys.FileSystem {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	for name, content := range files {
		var err error
		if strings.HasSuffix(name, "/") {
			err = fs.MkdirAll("/" + name)
		} else {
			err = fs.WriteFile("/"+name, []byte(content))
		}
		if err != nil {
			t.Fatalf("writing %s: %v", name, err)
		}
	}
	return fs
}

// ids names objects as Kind/namespace/name, in order.
func ids(objs []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, fmt.Sprintf("%s/%s/%s", o.GetKind(), o.GetNamespace(), o.GetName()))
	}
	return out
}

// find returns the object of that kind and name, failing the test if absent.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %q among %v", kind, name, ids(objs))
	return nil
}

func nestedString(t *testing.T, obj *unstructured.Unstructured, fields ...string) string {
	t.Helper()
	v, _, err := unstructured.NestedFieldNoCopy(obj.Object, fields...)
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(fields, "."), err)
	}
	s, _ := v.(string)
	return s
}

// tarEntry is one entry of a hand-made archive.
type tarEntry struct {
	name     string
	typ      byte
	content  string
	linkname string
}

// tarGz writes entries, in order, as a tar.gz.
func tarGz(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Linkname: e.linkname}
		if e.typ == tar.TypeReg {
			hdr.Size = int64(len(e.content))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.content)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func file(name, content string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeReg, content: content}
}
func dir(name string) tarEntry { return tarEntry{name: name, typ: tar.TypeDir} }
func symlink(name, target string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeSymlink, linkname: target}
}

const configMapYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
data:
  key: value
`

func configMap(name string) string { return fmt.Sprintf(configMapYAML, name) }

const deploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  labels:
    app: %s
spec:
  replicas: 1
  selector:
    matchLabels:
      app: %s
  template:
    metadata:
      labels:
        app: %s
    spec:
      containers:
      - name: app
        image: ghcr.io/example/%s:1.0.0
`

func deployment(name string) string {
	return fmt.Sprintf(deploymentYAML, name, name, name, name, name)
}

const serviceYAML = `apiVersion: v1
kind: Service
metadata:
  name: %s
spec:
  selector:
    app: %s
  ports:
  - port: 80
`

func service(name string) string { return fmt.Sprintf(serviceYAML, name, name) }

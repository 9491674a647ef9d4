package build

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
)

func TestLoadArchive(t *testing.T) {
	tests := []struct {
		name    string
		archive []byte
		maxSize int64
		// want maps paths to contents; every listed file must be there.
		want map[string]string
		// absent lists paths that must not exist.
		absent []string
		// wantErr must be matched with errors.Is, and wantMsg contained.
		wantErr error
		wantMsg string
	}{{
		name: "files and directories",
		archive: tarGz(t,
			dir("apps/"), file("apps/cm.yaml", "a"), file("./apps/nested/x.yaml", "x"),
			dir("empty/"), dir("./"),
		),
		want: map[string]string{"/apps/cm.yaml": "a", "/apps/nested/x.yaml": "x"},
	}, {
		name: "symlinks inside the root become copies",
		archive: tarGz(t,
			file("base/cm.yaml", "base"),
			symlink("apps/cm.yaml", "../base/cm.yaml"),
			symlink("apps/chain.yaml", "cm.yaml"),      // a link to a link
			symlink("apps/later.yaml", "late.yaml"),    // target comes later
			symlink("linkdir", "base"),                 // a link to a directory...
			symlink("via.yaml", "linkdir/cm.yaml"),     // ...can be passed through
			symlink("apps/dir", "../base"),             // but is itself left out
			symlink("apps/dangling.yaml", "nope.yaml"), // as is a dangling link
			file("apps/late.yaml", "late"),
			tarEntry{name: "hard.yaml", typ: tar.TypeLink, linkname: "base/cm.yaml"},
		),
		want: map[string]string{
			"/apps/cm.yaml": "base", "/apps/chain.yaml": "base", "/apps/later.yaml": "late",
			"/via.yaml": "base", "/hard.yaml": "base",
		},
		absent: []string{"/apps/dir", "/apps/dangling.yaml", "/linkdir"},
	}, {
		name:    `".." entry`,
		archive: tarGz(t, file("apps/../../etc/passwd", "x")),
		wantErr: artifact.ErrUnsafePath, wantMsg: `"apps/../../etc/passwd" has a ".." component`,
	}, {
		name:    "absolute entry",
		archive: tarGz(t, file("/etc/passwd", "x")),
		wantErr: artifact.ErrUnsafePath, wantMsg: "absolute path",
	}, {
		name:    "symlink out of the root",
		archive: tarGz(t, symlink("apps/passwd", "../../etc/passwd")),
		wantErr: artifact.ErrUnsafePath, wantMsg: `"apps/passwd" links to "../../etc/passwd", outside the artifact`,
	}, {
		name:    "absolute symlink",
		archive: tarGz(t, symlink("passwd", "/etc/passwd")),
		wantErr: artifact.ErrUnsafePath, wantMsg: "outside the artifact",
	}, {
		name:    "hard link out of the root",
		archive: tarGz(t, tarEntry{name: "x", typ: tar.TypeLink, linkname: "../x"}),
		wantErr: artifact.ErrUnsafePath, wantMsg: "outside the artifact",
	}, {
		name:    "symlink loop",
		archive: tarGz(t, symlink("a", "b"), symlink("b", "a")),
		wantErr: artifact.ErrUnsafePath, wantMsg: "too many levels of links",
	}, {
		name:    "device",
		archive: tarGz(t, tarEntry{name: "dev", typ: tar.TypeChar}),
		wantErr: artifact.ErrUnsafePath, wantMsg: "device or named pipe",
	}, {
		name:    "named pipe",
		archive: tarGz(t, tarEntry{name: "fifo", typ: tar.TypeFifo}),
		wantErr: artifact.ErrUnsafePath,
	}, {
		name:    "size cap",
		archive: tarGz(t, file("a", "12345"), file("b", "678")),
		maxSize: 7,
		wantErr: artifact.ErrTooLarge, wantMsg: "more than the limit of 7 bytes",
	}, {
		name:    "link copies count against the size cap",
		archive: tarGz(t, file("a", "12345"), symlink("b", "a")),
		maxSize: 7,
		wantErr: artifact.ErrTooLarge,
	}, {
		name:    "exactly at the size cap",
		archive: tarGz(t, file("a", "12345"), file("b", "67")),
		maxSize: 7,
		want:    map[string]string{"/a": "12345", "/b": "67"},
	}, {
		name:    "negative size means no cap",
		archive: tarGz(t, file("a", strings.Repeat("x", 1000))),
		maxSize: -1,
		want:    map[string]string{"/a": strings.Repeat("x", 1000)},
	}, {
		name:    "not gzip",
		archive: []byte("plain text"),
		wantMsg: "reading the artifact",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := LoadArchive(bytes.NewReader(tt.archive), tt.maxSize)
			if tt.wantErr != nil || tt.wantMsg != "" {
				if err == nil {
					t.Fatal("LoadArchive succeeded, want an error")
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("error = %v, want one wrapping %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("error = %v, want one containing %q", err, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadArchive: %v", err)
			}
			for p, want := range tt.want {
				got, err := fs.ReadFile(p)
				if err != nil || string(got) != want {
					t.Errorf("%s = %q, %v; want %q", p, got, err, want)
				}
			}
			for _, p := range tt.absent {
				if fs.Exists(p) {
					t.Errorf("%s exists, want it left out", p)
				}
			}
		})
	}
}

// TestLoadArchive_BuildsArtifacts runs the real pipeline: a tree archived
// by pkg/artifact, loaded and built.
func TestLoadArchive_BuildsArtifacts(t *testing.T) {
	src := t.TempDir()
	for name, content := range map[string]string{
		"deploy/base/kustomization.yaml": "resources:\n- cm.yaml\n",
		"deploy/base/cm.yaml":            configMap("app"),
		"deploy/prod/kustomization.yaml": "resources:\n- ../base\n- svc.yaml\n",
		"README.md":                      "# app\n",
	} {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A symlink inside the tree, archived as a copy of its target.
	if err := os.WriteFile(filepath.Join(src, "svc.yaml"), []byte(service("app")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../svc.yaml", filepath.Join(src, "deploy/prod/svc.yaml")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := artifact.Archive(context.Background(), src, &buf, artifact.ArchiveOptions{}); err != nil {
		t.Fatal(err)
	}

	fs, err := LoadArchive(&buf, 0)
	if err != nil {
		t.Fatalf("LoadArchive: %v", err)
	}
	objs, err := Build(fs, Options{Path: "./deploy/prod", TargetNamespace: "prod"})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if diff := cmp.Diff([]string{"ConfigMap/prod/app", "Service/prod/app"}, ids(objs)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
}

func TestLoadArchiveLimited_CapsTheNumberOfFiles(t *testing.T) {
	var entries []tarEntry
	for i := 0; i < 30; i++ {
		entries = append(entries, tarEntry{name: fmt.Sprintf("f%02d.yaml", i), typ: tar.TypeReg, content: "a: b\n"})
	}
	archive := tarGz(t, entries...)
	if _, err := LoadArchiveLimited(bytes.NewReader(archive), 0, 10); !errors.Is(err, artifact.ErrTooLarge) {
		t.Errorf("30 files with a cap of 10: %v", err)
	}
	if _, err := LoadArchiveLimited(bytes.NewReader(archive), 0, 100); err != nil {
		t.Errorf("30 files with a cap of 100: %v", err)
	}
}

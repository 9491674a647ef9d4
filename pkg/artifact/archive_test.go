package artifact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var sampleTree = map[string]string{
	"deploy/app.yaml":        "kind: Deployment\n",
	"deploy/svc.yaml":        "kind: Service\n",
	"deploy/base/kust.yaml":  "resources: []\n",
	"scripts/run.sh":         "#!/bin/sh\necho hi\n",
	"README.md":              "# readme\n",
	"empty/":                 "",
	"a.txt":                  "a\n",
	"a/b.txt":                "b\n",
	".git/config":            "[core]\n",
	".git/objects/pack/x.gz": "pack",
}

func TestArchive_SameTreeGivesSameBytes(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, sampleTree)

	first := archiveBytes(t, dir, ArchiveOptions{})
	second := archiveBytes(t, dir, ArchiveOptions{})
	if !bytes.Equal(first, second) {
		t.Fatal("archiving the same tree twice gave different bytes")
	}
}

func TestArchive_DigestIgnoresTimesPermissionsAndLocation(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, sampleTree)
	want := sha256.Sum256(archiveBytes(t, dir, ArchiveOptions{}))

	tests := []struct {
		name   string
		mutate func(t *testing.T, dir string) string
	}{
		{"different mtimes", func(t *testing.T, dir string) string {
			old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
			for _, p := range []string{"deploy/app.yaml", "deploy", "scripts/run.sh", "empty"} {
				if err := os.Chtimes(filepath.Join(dir, p), old, old); err != nil {
					t.Fatal(err)
				}
			}
			return dir
		}},
		{"non-executable permissions differ", func(t *testing.T, dir string) string {
			if err := os.Chmod(filepath.Join(dir, "README.md"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(dir, "scripts/run.sh"), 0o700); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
		{"same tree in another directory", func(t *testing.T, _ string) string {
			other := filepath.Join(t.TempDir(), "elsewhere")
			writeTree(t, other, sampleTree)
			return other
		}},
		{"different .git content", func(t *testing.T, dir string) string {
			writeTree(t, dir, map[string]string{".git/HEAD": "ref: refs/heads/main\n"})
			return dir
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			writeTree(t, d, sampleTree)
			d = tt.mutate(t, d)
			if got := sha256.Sum256(archiveBytes(t, d, ArchiveOptions{})); got != want {
				t.Errorf("digest changed: %x, want %x", got, want)
			}
		})
	}
}

func TestArchive_NormalisesHeaders(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, sampleTree)
	if err := os.Chmod(filepath.Join(dir, "README.md"), 0o600); err != nil {
		t.Fatal(err)
	}
	gz, entries := readArchive(t, archiveBytes(t, dir, ArchiveOptions{}))

	if gz.Name != "" || !gz.ModTime.IsZero() || gz.Comment != "" {
		t.Errorf("gzip header carries name %q / time %v / comment %q, want none", gz.Name, gz.ModTime, gz.Comment)
	}
	var names []string
	for _, e := range entries {
		h := e.hdr
		names = append(names, h.Name)
		wantMode := int64(0o644)
		if h.Typeflag == '5' || h.Name == "scripts/run.sh" {
			wantMode = 0o755
		}
		if h.Mode != wantMode || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" ||
			!h.ModTime.Equal(time.Unix(0, 0)) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("entry %s: mode %o uid %d gid %d uname %q gname %q mtime %v; want mode %o, zero owner, epoch",
				h.Name, h.Mode, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime, wantMode)
		}
	}
	want := []string{"README.md", "a.txt", "a/", "a/b.txt", "deploy/", "deploy/app.yaml", "deploy/base/",
		"deploy/base/kust.yaml", "deploy/svc.yaml", "empty/", "scripts/", "scripts/run.sh"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestArchive_Symlinks(t *testing.T) {
	tests := []struct {
		name      string
		link      string // link target; "$BASE" is the directory holding the root
		ignore    []string
		wantErr   bool
		wantNames []string
	}{
		{name: "file inside the root is archived as that file", link: "real/app.yaml",
			wantNames: []string{"link", "real/", "real/app.yaml"}},
		{name: "absolute link to a file inside the root is archived as that file", link: "$BASE/root/real/app.yaml",
			wantNames: []string{"link", "real/", "real/app.yaml"}},
		{name: "directory inside the root is skipped", link: "real",
			wantNames: []string{"real/", "real/app.yaml"}},
		{name: "dangling link inside the root is skipped", link: "real/missing.yaml",
			wantNames: []string{"real/", "real/app.yaml"}},
		{name: "relative link escaping the root is rejected", link: "../outside/secret", wantErr: true},
		{name: "absolute link escaping the root is rejected", link: "$BASE/outside/secret", wantErr: true},
		{name: "link to a directory outside the root is rejected", link: "../outside", wantErr: true},
		{name: "dangling link escaping the root is rejected", link: "../nowhere", wantErr: true},
		{name: "escaping link excluded by ignore rules is left out", link: "$BASE/outside/secret",
			ignore: []string{"/link"}, wantNames: []string{"real/", "real/app.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			writeTree(t, base, map[string]string{"root/real/app.yaml": "app", "outside/secret": "s3cr3t"})
			root := filepath.Join(base, "root")
			if err := os.Symlink(strings.ReplaceAll(tt.link, "$BASE", base), filepath.Join(root, "link")); err != nil {
				t.Fatal(err)
			}

			var buf bytes.Buffer
			_, err := Archive(context.Background(), root, &buf, ArchiveOptions{Ignore: tt.ignore})
			if tt.wantErr {
				if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), `symlink "link"`) {
					t.Fatalf("err = %v, want an ErrUnsafePath naming the symlink", err)
				}
				if buf.Len() != 0 {
					t.Fatalf("%d bytes were written despite the error", buf.Len())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, entries := readArchive(t, buf.Bytes())
			var names []string
			for _, e := range entries {
				names = append(names, e.hdr.Name)
				if e.hdr.Name == "link" && (e.hdr.Typeflag != '0' || e.content != "app") {
					t.Errorf("link archived as type %q content %q, want a regular file with the target's content", e.hdr.Typeflag, e.content)
				}
			}
			if diff := cmp.Diff(tt.wantNames, names); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestArchive_FollowsASymlinkedSourceDirectory(t *testing.T) {
	real := t.TempDir()
	writeTree(t, real, map[string]string{"app.yaml": "app"})
	link := filepath.Join(t.TempDir(), "src")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"app.yaml"}, archiveNames(t, archiveBytes(t, link, ArchiveOptions{}))); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestArchive_SkipsNamedPipes(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"app.yaml": "app"})
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if diff := cmp.Diff([]string{"app.yaml"}, archiveNames(t, archiveBytes(t, dir, ArchiveOptions{}))); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestArchive_MaxSize(t *testing.T) {
	tests := []struct {
		name    string
		maxSize int64
		wantErr bool
	}{
		{"under the limit", 300, false},
		{"exactly the limit", 300, false},
		{"over the limit", 250, true},
		{"no limit", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			content := strings.Repeat("x", 100)
			writeTree(t, dir, map[string]string{"a": content, "b": content, "c/d": content})

			var buf bytes.Buffer
			stats, err := Archive(context.Background(), dir, &buf, ArchiveOptions{MaxSize: tt.maxSize})
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				if stats.Files != 3 || stats.Dirs != 1 || stats.Size != 300 || stats.CompressedSize != int64(buf.Len()) {
					t.Errorf("stats = %+v, want 3 files, 1 dir, 300 bytes, %d compressed", stats, buf.Len())
				}
				return
			}
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), fmt.Sprint(tt.maxSize)) {
				t.Fatalf("err = %v, want ErrTooLarge naming the limit %d", err, tt.maxSize)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes were written despite the error", buf.Len())
			}
		})
	}
}

func TestArchive_StopsWhenContextIsCancelled(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, sampleTree)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Archive(ctx, dir, &bytes.Buffer{}, ArchiveOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestArchive_RejectsMissingSourceDirectory(t *testing.T) {
	if _, err := Archive(context.Background(), filepath.Join(t.TempDir(), "nope"), &bytes.Buffer{}, ArchiveOptions{}); err == nil {
		t.Fatal("archiving a missing directory succeeded")
	}
}

func BenchmarkArchive(b *testing.B) {
	dir := b.TempDir()
	files := map[string]string{}
	for i := range 200 {
		files[fmt.Sprintf("dir%02d/file%03d.yaml", i%10, i)] = strings.Repeat(fmt.Sprintf("key%d: value\n", i), 40)
	}
	writeTree(b, dir, files)
	var size int64
	b.ReportAllocs()
	for b.Loop() {
		stats, err := Archive(context.Background(), dir, discard{}, ArchiveOptions{})
		if err != nil {
			b.Fatal(err)
		}
		size = stats.Size
	}
	b.SetBytes(size)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExtract_RestoresAnArchivedTree(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, sampleTree)
	dst := filepath.Join(t.TempDir(), "out")

	if err := Extract(bytes.NewReader(archiveBytes(t, src, ArchiveOptions{})), dst, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(listTree(t, src, ".git"), listTree(t, dst)); diff != "" {
		t.Errorf("extracted tree (-want +got):\n%s", diff)
	}
	for name, content := range sampleTree {
		if strings.HasSuffix(name, "/") || strings.HasPrefix(name, ".git/") {
			continue
		}
		p := filepath.Join(dst, filepath.FromSlash(name))
		got, err := os.ReadFile(p)
		if err != nil || string(got) != content {
			t.Errorf("%s = %q, %v; want %q", name, got, err, content)
		}
		info, _ := os.Stat(p)
		wantMode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			wantMode = 0o755
		}
		if info.Mode().Perm() != wantMode {
			t.Errorf("%s mode = %v, want %v", name, info.Mode().Perm(), wantMode)
		}
	}
}

func TestExtract_RejectsUnsafeArchives(t *testing.T) {
	file := func(name, content string) tarEntry {
		return tarEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name}, content: content}
	}
	// $SENTINEL is replaced by the absolute path of a directory next to the
	// destination; nothing may ever appear in it.
	tests := []struct {
		name    string
		entries []tarEntry
		opts    ExtractOptions
		wantErr error
	}{
		{name: "parent directory", entries: []tarEntry{file("../evil", "x")}, wantErr: ErrUnsafePath},
		{name: "parent directory into the sentinel", entries: []tarEntry{file("../sentinel/evil", "x")}, wantErr: ErrUnsafePath},
		{name: "absolute path", entries: []tarEntry{file("/abs", "x")}, wantErr: ErrUnsafePath},
		{name: "absolute path into the sentinel", entries: []tarEntry{file("$SENTINEL/evil", "x")}, wantErr: ErrUnsafePath},
		{name: "climbing through a subdirectory", entries: []tarEntry{file("a/../../evil", "x")}, wantErr: ErrUnsafePath},
		{name: "directory entry climbing out",
			entries: []tarEntry{{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "../sentinel/d/"}}}, wantErr: ErrUnsafePath},
		{name: "symlink entry followed by a write through it", entries: []tarEntry{
			{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "link", Linkname: "../sentinel"}},
			file("link/evil", "x"),
		}, wantErr: ErrUnsafePath},
		{name: "symlink entry pointing inside", entries: []tarEntry{
			file("real", "x"),
			{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "link", Linkname: "real"}},
		}, wantErr: ErrUnsafePath},
		{name: "hard link", entries: []tarEntry{
			{hdr: tar.Header{Typeflag: tar.TypeLink, Name: "hl", Linkname: "../sentinel/evil"}},
		}, wantErr: ErrUnsafePath},
		{name: "character device", entries: []tarEntry{
			{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "null", Devmajor: 1, Devminor: 3}},
		}, wantErr: ErrUnsafePath},
		{name: "named pipe", entries: []tarEntry{{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "fifo"}}}, wantErr: ErrUnsafePath},
		{name: "too many files", opts: ExtractOptions{MaxFiles: 10}, entries: func() []tarEntry {
			var es []tarEntry
			for i := range 20 {
				es = append(es, file(fmt.Sprintf("f%02d", i), "x"))
			}
			return es
		}(), wantErr: ErrTooLarge},
		{name: "many files adding up to more than MaxSize", opts: ExtractOptions{MaxSize: 1 << 20}, entries: func() []tarEntry {
			var es []tarEntry
			for i := range 20 {
				es = append(es, file(fmt.Sprintf("f%02d", i), strings.Repeat("x", 100<<10)))
			}
			return es
		}(), wantErr: ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dst, sentinel := filepath.Join(base, "dst"), filepath.Join(base, "sentinel")
			if err := os.Mkdir(sentinel, 0o755); err != nil {
				t.Fatal(err)
			}
			for i := range tt.entries {
				tt.entries[i].hdr.Name = strings.ReplaceAll(tt.entries[i].hdr.Name, "$SENTINEL", sentinel)
			}

			err := Extract(bytes.NewReader(makeTarGz(t, tt.entries)), dst, tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			assertNothingOutside(t, base)
		})
	}
}

// assertNothingOutside checks that, apart from the destination, base holds
// only the empty sentinel directory.
func assertNothingOutside(t *testing.T, base string) {
	t.Helper()
	if diff := cmp.Diff([]string{"sentinel/"}, listTree(t, base, "dst")); diff != "" {
		t.Errorf("files appeared outside the destination (-want +got):\n%s", diff)
	}
	if _, err := os.Stat("/abs"); err == nil {
		t.Errorf("/abs exists")
	}
}

func TestExtract_StopsAGzipBombAtItsHeader(t *testing.T) {
	// One entry declaring 64 MiB of zeros; it compresses to about 64 KiB.
	const declared = 64 << 20
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "zeros", Size: declared, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(tw, zeroReader{}, declared); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 1<<20 {
		t.Fatalf("bomb is %d bytes compressed; the test expects a small stream", buf.Len())
	}

	base := t.TempDir()
	dst := filepath.Join(base, "dst")
	if err := os.Mkdir(filepath.Join(base, "sentinel"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = Extract(&buf, dst, ExtractOptions{MaxSize: 1 << 20})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), fmt.Sprint(1<<20)) {
		t.Fatalf("err = %v, want ErrTooLarge naming the limit", err)
	}
	if got := listTree(t, dst); len(got) != 0 {
		t.Errorf("destination holds %v, want nothing", got)
	}
	assertNothingOutside(t, base)
}

func TestExtract_DoesNotWriteThroughAnExistingSymlink(t *testing.T) {
	base := t.TempDir()
	dst, sentinel := filepath.Join(base, "dst"), filepath.Join(base, "sentinel")
	for _, d := range []string{dst, sentinel} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../sentinel", filepath.Join(dst, "link")); err != nil {
		t.Fatal(err)
	}
	archive := makeTarGz(t, []tarEntry{{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "link/evil"}, content: "x"}})

	if err := Extract(bytes.NewReader(archive), dst, ExtractOptions{}); err == nil {
		t.Fatal("extracting through a symlink that leaves the destination succeeded")
	}
	if got := listTree(t, sentinel); len(got) != 0 {
		t.Errorf("sentinel holds %v, want nothing", got)
	}
}

func TestExtract_AcceptsHarmlessNames(t *testing.T) {
	archive := makeTarGz(t, []tarEntry{
		{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "./"}},
		{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "./a/b.yaml"}, content: "b"},
		{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "c//d.yaml"}, content: "d"},
		{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "run.sh", Mode: 0o700}, content: "#!"},
	})
	dst := t.TempDir()
	if err := Extract(bytes.NewReader(archive), dst, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"a/", "a/b.yaml", "c/", "c/d.yaml", "run.sh"}
	if diff := cmp.Diff(want, listTree(t, dst)); diff != "" {
		t.Errorf("extracted tree (-want +got):\n%s", diff)
	}
	if info, err := os.Stat(filepath.Join(dst, "run.sh")); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("run.sh mode = %v, %v; want 0755", info.Mode().Perm(), err)
	}
}

func TestExtract_RejectsSomethingThatIsNotGzip(t *testing.T) {
	if err := Extract(strings.NewReader("not gzip"), t.TempDir(), ExtractOptions{}); err == nil {
		t.Fatal("extracting garbage succeeded")
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

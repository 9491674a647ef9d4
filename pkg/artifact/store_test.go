package artifact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testKey = Key{Kind: "GitRepository", Namespace: "flux-system", Name: "podinfo"}

func newTestStore(t *testing.T, opts StoreOptions) *Store {
	t.Helper()
	s, err := NewStore(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// srcTree writes a small tree whose content depends on version.
func srcTree(t *testing.T, version int) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"deploy/app.yaml": fmt.Sprintf("version: %d\n", version), "README.md": "r"})
	return dir
}

func put(t *testing.T, s *Store, key Key, version int) *Artifact {
	t.Helper()
	a, err := s.Put(context.Background(), key, srcTree(t, version), ArchiveOptions{})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	return a
}

func TestStore_PutStoresUnderTheDigest(t *testing.T) {
	s := newTestStore(t, StoreOptions{})
	a := put(t, s, testKey, 1)

	data, err := os.ReadFile(filepath.Join(s.Root(), filepath.FromSlash(a.Path)))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	wantPath := "gitrepository/flux-system/podinfo/" + hex.EncodeToString(sum[:]) + ".tar.gz"
	if a.Path != wantPath || a.Digest != "sha256:"+hex.EncodeToString(sum[:]) || a.Size != int64(len(data)) {
		t.Errorf("artifact = %+v, want path %s, digest of the file, size %d", a, wantPath, len(data))
	}
	if time.Since(a.LastUpdateTime) > time.Minute {
		t.Errorf("LastUpdateTime = %v, want about now", a.LastUpdateTime)
	}
	if !s.Exists(a.Path) {
		t.Errorf("Exists(%s) = false", a.Path)
	}
}

func TestStore_PutOfTheSameContentReusesTheArtifact(t *testing.T) {
	s := newTestStore(t, StoreOptions{})
	first := put(t, s, testKey, 1)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(s.Root(), first.Path), old, old); err != nil {
		t.Fatal(err)
	}
	second := put(t, s, testKey, 1)

	if second.Path != first.Path || second.Digest != first.Digest {
		t.Errorf("second Put = %s, want the same artifact %s", second.Path, first.Path)
	}
	if !second.LastUpdateTime.After(old) {
		t.Errorf("reused artifact's LastUpdateTime = %v, want it marked newest", second.LastUpdateTime)
	}
	if got := listTree(t, s.Root(), tmpDirName); len(got) != 4 {
		t.Errorf("store holds %v, want one archive", got)
	}
	if got := listTree(t, filepath.Join(s.Root(), tmpDirName)); len(got) != 0 {
		t.Errorf("temporary files left behind: %v", got)
	}
}

func TestStore_GCKeepsTheNewest(t *testing.T) {
	tests := []struct {
		name        string
		keep        int
		keepVersion int // the version whose path is passed as keepPath
		wantKept    []int
	}{
		{name: "default keep", keep: 0, keepVersion: 5, wantKept: []int{5, 4, 3}},
		{name: "keep one", keep: 1, keepVersion: 5, wantKept: []int{5}},
		{name: "keepPath survives even when old", keep: 2, keepVersion: 1, wantKept: []int{5, 4, 1}},
		{name: "keep more than there are", keep: 10, keepVersion: 5, wantKept: []int{5, 4, 3, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t, StoreOptions{Keep: tt.keep})
			paths := map[int]string{}
			start := time.Now().Add(-time.Hour)
			for v := 1; v <= 5; v++ {
				a := put(t, s, testKey, v)
				paths[v] = a.Path
				// Distinct, ordered times whatever the filesystem's resolution.
				ts := start.Add(time.Duration(v) * time.Minute)
				if err := os.Chtimes(filepath.Join(s.Root(), a.Path), ts, ts); err != nil {
					t.Fatal(err)
				}
			}
			other := put(t, s, Key{Kind: "Bucket", Namespace: "flux-system", Name: "podinfo"}, 1)

			removed, err := s.GC(testKey, paths[tt.keepVersion])
			if err != nil {
				t.Fatal(err)
			}
			var kept []int
			for v := 5; v >= 1; v-- {
				if s.Exists(paths[v]) {
					kept = append(kept, v)
				}
			}
			if diff := cmp.Diff(tt.wantKept, kept); diff != "" {
				t.Errorf("kept versions (-want +got):\n%s", diff)
			}
			if len(removed) != 5-len(tt.wantKept) {
				t.Errorf("GC reported %v removed, want %d paths", removed, 5-len(tt.wantKept))
			}
			if !s.Exists(other.Path) {
				t.Errorf("GC of %s removed another object's artifact", testKey)
			}
			latest, err := s.Latest(testKey)
			if err != nil || latest.Path != paths[5] {
				t.Errorf("Latest = %v, %v; want %s", latest, err, paths[5])
			}
		})
	}
}

func TestStore_OpenReadsAndVerifies(t *testing.T) {
	s := newTestStore(t, StoreOptions{})
	src := srcTree(t, 1)
	a, err := s.Put(context.Background(), testKey, src, ArchiveOptions{})
	if err != nil {
		t.Fatal(err)
	}

	rc, info, err := s.Open(a.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if info.Digest != a.Digest || info.Size != a.Size || info.Path != a.Path {
		t.Errorf("Open info = %+v, want %+v", info, a)
	}
	dst := t.TempDir()
	if err := Extract(rc, dst, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(listTree(t, src), listTree(t, dst)); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestStore_OpenDetectsCorruption(t *testing.T) {
	s := newTestStore(t, StoreOptions{})
	a := put(t, s, testKey, 1)
	p := filepath.Join(s.Root(), filepath.FromSlash(a.Path))
	data, _ := os.ReadFile(p)
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	rc, _, err := s.Open(a.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("reading a corrupted artifact: err = %v, want ErrDigestMismatch", err)
	}
}

func TestStore_OpenRefusesPathsOutsideTheStore(t *testing.T) {
	s := newTestStore(t, StoreOptions{})
	a := put(t, s, testKey, 1)
	digestName := filepath.Base(a.Path)

	// An artifact-shaped name that is a symlink to a file outside the root.
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("s3cr3t"), 0o644); err != nil {
		t.Fatal(err)
	}
	evilName := strings.Repeat("e", 64) + ".tar.gz"
	if err := os.Symlink(outside, filepath.Join(s.Root(), "gitrepository/flux-system/podinfo", evilName)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		path    string
		wantErr error
	}{
		{"parent directory", "../x", ErrUnsafePath},
		{"parent directory with an artifact name", "../../../" + digestName, ErrUnsafePath},
		{"climbing from inside", "gitrepository/flux-system/../../../" + digestName, ErrUnsafePath},
		{"absolute", "/gitrepository/flux-system/podinfo/" + digestName, ErrUnsafePath},
		{"absolute into the root", filepath.Join(s.Root(), a.Path), ErrUnsafePath},
		{"not a digest name", "gitrepository/flux-system/podinfo/latest.tar.gz", ErrUnsafePath},
		{"upper-case digest", "gitrepository/flux-system/podinfo/" + strings.ToUpper(digestName), ErrUnsafePath},
		{"temporary directory", ".tmp/x/y/" + digestName, ErrUnsafePath},
		{"empty", "", ErrUnsafePath},
		{"missing artifact", "gitrepository/flux-system/podinfo/" + strings.Repeat("0", 64) + ".tar.gz", ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, _, err := s.Open(tt.path)
			if err == nil {
				rc.Close()
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open(%q) err = %v, want %v", tt.path, err, tt.wantErr)
			}
			if s.Exists(tt.path) {
				t.Errorf("Exists(%q) = true", tt.path)
			}
		})
	}
	t.Run("symlink leaving the root", func(t *testing.T) {
		rc, _, err := s.Open("gitrepository/flux-system/podinfo/" + evilName)
		if err == nil {
			data, _ := io.ReadAll(rc)
			rc.Close()
			t.Fatalf("Open followed a symlink out of the store and read %q", data)
		}
	})
}

func TestStore_RejectsUnsafeKeys(t *testing.T) {
	s := newTestStore(t, StoreOptions{})
	src := srcTree(t, 1)
	for _, key := range []Key{
		{Kind: "GitRepository", Namespace: "ns", Name: "../escape"},
		{Kind: "GitRepository", Namespace: "..", Name: "x"},
		{Kind: "", Namespace: "ns", Name: "x"},
		{Kind: "GitRepository", Namespace: "ns", Name: "a/b"},
		{Kind: ".tmp", Namespace: "ns", Name: "x"},
	} {
		if _, err := s.Put(context.Background(), key, src, ArchiveOptions{}); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("Put(%+v) err = %v, want ErrUnsafePath", key, err)
		}
	}
	if got := listTree(t, s.Root(), tmpDirName); len(got) != 0 {
		t.Errorf("store holds %v after refused Puts", got)
	}
}

func TestStore_MaxSizeCapsPut(t *testing.T) {
	s := newTestStore(t, StoreOptions{MaxSize: 10})
	if _, err := s.Put(context.Background(), testKey, srcTree(t, 1), ArchiveOptions{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if _, err := s.Latest(testKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("Latest after a failed Put: err = %v, want ErrNotFound", err)
	}
	if got := listTree(t, filepath.Join(s.Root(), tmpDirName)); len(got) != 0 {
		t.Errorf("temporary files left behind: %v", got)
	}
}

func TestStore_PutArchiveStoresBytesAsGiven(t *testing.T) {
	s := newTestStore(t, StoreOptions{})
	data := []byte("a packaged chart")
	a, err := s.PutArchive(context.Background(), Key{Kind: "HelmChart", Namespace: "ns", Name: "c"}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if a.Digest != "sha256:"+hex.EncodeToString(sum[:]) || a.Size != int64(len(data)) {
		t.Errorf("artifact = %+v, want the digest and size of the bytes", a)
	}
}

func TestStore_DeleteRemovesTheObject(t *testing.T) {
	s := newTestStore(t, StoreOptions{})
	a := put(t, s, testKey, 1)
	if err := s.Delete(testKey); err != nil {
		t.Fatal(err)
	}
	if s.Exists(a.Path) {
		t.Errorf("%s still exists", a.Path)
	}
	if _, err := s.Latest(testKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("Latest after Delete: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete(testKey); err != nil {
		t.Errorf("deleting again: %v", err)
	}
}

func TestStore_OpenReaderSurvivesGC(t *testing.T) {
	s := newTestStore(t, StoreOptions{Keep: 1})
	old := put(t, s, testKey, 1)
	rc, _, err := s.Open(old.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(s.Root(), old.Path), past, past); err != nil {
		t.Fatal(err)
	}
	newer := put(t, s, testKey, 2)
	if removed, err := s.GC(testKey, newer.Path); err != nil || len(removed) != 1 {
		t.Fatalf("GC = %v, %v; want the old artifact removed", removed, err)
	}
	if _, err := io.ReadAll(rc); err != nil {
		t.Fatalf("reading an artifact removed by GC after it was opened: %v", err)
	}
}

func TestNewStore_RemovesStaleTemporaryFiles(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{".tmp/stale": "s", ".tmp/fresh": "f"})
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(root, ".tmp/stale"), old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := NewStore(root, StoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"fresh"}, listTree(t, filepath.Join(root, ".tmp"))); diff != "" {
		t.Errorf("temporary files (-want +got):\n%s", diff)
	}
}

// TestStore_ConcurrentUseOfOneKey is meant for `go test -race`: Puts of two
// contents, GCs, Latest and Opens of one key all at once.
func TestStore_ConcurrentUseOfOneKey(t *testing.T) {
	s := newTestStore(t, StoreOptions{Keep: 1})
	srcs := []string{srcTree(t, 1), srcTree(t, 2)}

	var wg sync.WaitGroup
	results := make([]*Artifact, 16)
	errs := make([]error, 16)
	for i := range results {
		wg.Go(func() {
			a, err := s.Put(context.Background(), testKey, srcs[i%2], ArchiveOptions{})
			results[i], errs[i] = a, err
			if err != nil {
				return
			}
			if _, err := s.GC(testKey, a.Path); err != nil {
				errs[i] = err
				return
			}
			if latest, err := s.Latest(testKey); err == nil {
				if rc, _, err := s.Open(latest.Path); err == nil {
					_, errs[i] = io.Copy(io.Discard, rc) // may have been GC'd meanwhile: still readable
					rc.Close()
				}
			}
		})
	}
	wg.Wait()

	paths := map[string]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
		paths[results[i].Path] = true
	}
	if len(paths) != 2 {
		t.Errorf("two contents gave %d distinct paths: %v", len(paths), paths)
	}
	for i := 2; i < len(results); i++ {
		if results[i].Path != results[i%2].Path {
			t.Errorf("Put %d of the same content gave %s, want %s", i, results[i].Path, results[i%2].Path)
		}
	}
	if got := listTree(t, filepath.Join(s.Root(), tmpDirName)); len(got) != 0 {
		t.Errorf("temporary files left behind: %v", got)
	}
}

func TestStore_OpenForRefusesAnotherObjectsArtifact(t *testing.T) {
	s, err := NewStore(t.TempDir(), StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.yaml"), []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	theirs := Key{Kind: "GitRepository", Namespace: "tenant-a", Name: "secret-app"}
	a, err := s.Put(context.Background(), theirs, src, ArchiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.OpenFor(Key{Kind: "ExternalArtifact", Namespace: "tenant-b", Name: "mine"}, a.Path); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("opened another object's artifact: %v", err)
	}
	f, _, err := s.OpenFor(theirs, a.Path)
	if err != nil {
		t.Fatalf("owner cannot open its artifact: %v", err)
	}
	f.Close()
}

func TestStore_KeysListsTheObjectsOfAKind(t *testing.T) {
	s := newTestStore(t, StoreOptions{})
	a := Key{Kind: "GitRepository", Namespace: "ns1", Name: "a"}
	b := Key{Kind: "GitRepository", Namespace: "ns2", Name: "b"}
	put(t, s, a, 1)
	put(t, s, b, 2)
	put(t, s, Key{Kind: "Bucket", Namespace: "ns1", Name: "c"}, 3)
	keys, err := s.Keys("GitRepository")
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Name < keys[j].Name })
	if len(keys) != 2 || keys[0] != a || keys[1] != b {
		t.Errorf("Keys = %v", keys)
	}
	if keys, err := s.Keys("OCIRepository"); err != nil || len(keys) != 0 {
		t.Errorf("a kind without artifacts: %v %v", keys, err)
	}
}

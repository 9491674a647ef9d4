package artifact

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
)

// publisher serves files at /<name> like a third-party artifact server,
// counting the requests.
type publisher struct {
	*httptest.Server
	files    map[string][]byte
	requests atomic.Int64
}

func newPublisher(t *testing.T, files map[string][]byte) *publisher {
	t.Helper()
	p := &publisher{files: files}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		data, ok := p.files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(p.Close)
	return p
}

func sha256Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

var externalKey = Key{Kind: "ExternalArtifact", Namespace: "apps", Name: "config"}

func readAllFrom(t *testing.T, rc io.ReadCloser, err error) string {
	t.Helper()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	return string(data)
}

func TestFetcher_DownloadsOnceWhileTheDigestIsUnchanged(t *testing.T) {
	v1, v2 := []byte("first artifact"), []byte("second artifact")
	pub := newPublisher(t, map[string][]byte{"v1.tar.gz": v1, "v2.tar.gz": v2})
	f := NewFetcher(FetcherOptions{Dir: t.TempDir(), MaxCacheSize: 1 << 20})
	ctx := context.Background()

	for i := 0; i < 3; i++ {
		rc, err := f.Open(ctx, externalKey, pub.URL+"/v1.tar.gz", sha256Digest(v1))
		if got := readAllFrom(t, rc, err); got != string(v1) {
			t.Fatalf("read %q, want %q", got, v1)
		}
	}
	if n := pub.requests.Load(); n != 1 {
		t.Errorf("%d requests for three opens of one digest, want 1", n)
	}

	// A new digest is a new download, and replaces the object's old file.
	rc, err := f.Open(ctx, externalKey, pub.URL+"/v2.tar.gz", sha256Digest(v2))
	if got := readAllFrom(t, rc, err); got != string(v2) {
		t.Fatalf("read %q, want %q", got, v2)
	}
	if n, size := pub.requests.Load(), f.CachedSize(); n != 2 || size != int64(len(v2)) {
		t.Errorf("after a new digest: %d requests, %d bytes cached; want 2 and %d", n, size, len(v2))
	}

	// The same digest for another object is that object's own download.
	other := Key{Kind: "ExternalArtifact", Namespace: "other", Name: "config"}
	rc, err = f.Open(ctx, other, pub.URL+"/v2.tar.gz", sha256Digest(v2))
	readAllFrom(t, rc, err)
	if n := pub.requests.Load(); n != 3 {
		t.Errorf("%d requests, want 3: another object never reads this one's download", n)
	}
}

func TestFetcher_OtherDigestAlgorithms(t *testing.T) {
	data := []byte("artifact")
	pub := newPublisher(t, map[string][]byte{"a.tar.gz": data})
	f := NewFetcher(FetcherOptions{Dir: t.TempDir()})
	sum := sha512.Sum512(data)
	rc, err := f.Open(context.Background(), externalKey, pub.URL+"/a.tar.gz", "sha512:"+hex.EncodeToString(sum[:]))
	if got := readAllFrom(t, rc, err); got != string(data) {
		t.Fatalf("read %q", got)
	}
	_, err = f.Open(context.Background(), externalKey, pub.URL+"/a.tar.gz", "blake3:"+strings.Repeat("0", 64))
	if err == nil || !strings.Contains(err.Error(), `digest algorithm "blake3" is not supported`) {
		t.Fatalf("blake3: error = %v, want it named as unsupported", err)
	}
	if n := pub.requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1: an unsupported digest is refused before downloading", n)
	}
}

func TestFetcher_RefusesADigestMismatch(t *testing.T) {
	pub := newPublisher(t, map[string][]byte{"a.tar.gz": []byte("tampered")})
	dir := t.TempDir()
	f := NewFetcher(FetcherOptions{Dir: dir})
	want := sha256Digest([]byte("published"))
	_, err := f.Open(context.Background(), externalKey, pub.URL+"/a.tar.gz", want)
	if !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), "expected "+want) {
		t.Fatalf("error = %v, want ErrDigestMismatch naming %s", err, want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 || f.CachedSize() != 0 {
		t.Errorf("a refused download left %d files, %d bytes cached", len(entries), f.CachedSize())
	}
	// Nothing was cached: the next open downloads again.
	_, _ = f.Open(context.Background(), externalKey, pub.URL+"/a.tar.gz", want)
	if n := pub.requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestFetcher_CapsTheSize(t *testing.T) {
	big := []byte(strings.Repeat("x", 4096))
	// Without Content-Length, the cap is found while copying.
	chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 4; i++ {
			_, _ = w.Write(big[:1024])
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(chunked.Close)
	pub := newPublisher(t, map[string][]byte{"big.tar.gz": big})
	for name, url := range map[string]string{"content-length": pub.URL + "/big.tar.gz", "chunked": chunked.URL + "/big.tar.gz"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			f := NewFetcher(FetcherOptions{Dir: dir, Download: DownloadOptions{MaxSize: 1000}})
			_, err := f.Open(context.Background(), externalKey, url, sha256Digest(big))
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1000") {
				t.Fatalf("error = %v, want ErrTooLarge naming the limit", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a refused download left %d files", len(entries))
			}
		})
	}
}

func TestFetcher_DialsThroughTheNetworkGuard(t *testing.T) {
	data := []byte("artifact")
	pub := newPublisher(t, map[string][]byte{"a.tar.gz": data})
	guard, err := netguard.Parse([]string{"loopback"})
	if err != nil {
		t.Fatal(err)
	}
	f := NewFetcher(FetcherOptions{Dir: t.TempDir(), Download: DownloadOptions{Transport: netguard.Transport(nil)}})
	ctx := netguard.WithContext(context.Background(), guard)
	_, err = f.Open(ctx, externalKey, pub.URL+"/a.tar.gz", sha256Digest(data))
	if !errors.Is(err, netguard.ErrRefused) {
		t.Fatalf("error = %v, want the guard's refusal", err)
	}
	if n := pub.requests.Load(); n != 0 {
		t.Errorf("the server got %d requests", n)
	}
	// The same fetch without a guard in the context goes through.
	rc, err := f.Open(context.Background(), externalKey, pub.URL+"/a.tar.gz", sha256Digest(data))
	readAllFrom(t, rc, err)
}

func TestFetcher_EvictsTheLeastRecentlyUsed(t *testing.T) {
	files := map[string][]byte{"a": []byte("aaaa"), "b": []byte("bbbb"), "c": []byte("cccc")}
	pub := newPublisher(t, files)
	f := NewFetcher(FetcherOptions{Dir: t.TempDir(), MaxCacheSize: 8})
	open := func(name string) {
		t.Helper()
		key := Key{Kind: "ExternalArtifact", Namespace: "ns", Name: name}
		rc, err := f.Open(context.Background(), key, pub.URL+"/"+name, sha256Digest(files[name]))
		readAllFrom(t, rc, err)
	}
	open("a")
	open("b")
	open("a") // a is now more recent than b
	open("c") // over 8 bytes: b goes
	if size := f.CachedSize(); size != 8 {
		t.Errorf("cached %d bytes, want 8", size)
	}
	before := pub.requests.Load()
	open("a")
	if pub.requests.Load() != before {
		t.Error("a was evicted; b was the least recently used")
	}
	open("b")
	if pub.requests.Load() != before+1 {
		t.Error("b was still cached")
	}
}

func TestFetcher_RefusesWhatIsNotHTTP(t *testing.T) {
	f := NewFetcher(FetcherOptions{Dir: t.TempDir()})
	for _, url := range []string{"file:///etc/passwd", "/apis/source.toolkit.fluxcd.io/v1/namespaces/a/gitrepositories/b/artifact", "ftp://example.com/a.tar.gz"} {
		_, err := f.Open(context.Background(), externalKey, url, sha256Digest(nil))
		if err == nil || !strings.Contains(err.Error(), "is not an http:// or https:// URL") {
			t.Errorf("%s: error = %v", url, err)
		}
	}
}

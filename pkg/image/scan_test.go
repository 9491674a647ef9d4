package image_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/image"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
)

func dockerConfig(host, user, pass string) []byte {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	return fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, host, auth)
}

// paginating serves reg's API with tag lists cut into pages of at most pageSize, linked
// by Link headers as Docker Distribution does (go-containerregistry's test registry
// honours n and last but sends no links). It counts the tag list pages served.
func paginating(t *testing.T, reg *ocitest.Registry, pageSize int) (host string, pages *atomic.Int32) {
	t.Helper()
	pages = &atomic.Int32{}
	backend := &url.URL{Scheme: "http", Host: reg.Host}
	proxy := httputil.NewSingleHostReverseProxy(backend)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if !strings.HasSuffix(resp.Request.URL.Path, "/tags/list") || resp.StatusCode != http.StatusOK {
			return nil
		}
		pages.Add(1)
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		var list struct {
			Tags []string `json:"tags"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			return err
		}
		if len(list.Tags) == pageSize {
			next := fmt.Sprintf("<%s?n=%d&last=%s>; rel=\"next\"", resp.Request.URL.Path, pageSize, url.QueryEscape(list.Tags[pageSize-1]))
			resp.Header.Set("Link", next)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/tags/list") {
			q := r.URL.Query()
			if n, _ := strconv.Atoi(q.Get("n")); n <= 0 || n > pageSize {
				q.Set("n", strconv.Itoa(pageSize))
			}
			r.URL.RawQuery = q.Encode()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), pages
}

func TestListTags_FollowsPagesAndExcludesSignatures(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	img := ocitest.Image(t, map[string]string{"f": "x"}, nil, "")
	var want []string
	for i := range 130 {
		tag := fmt.Sprintf("1.0.%d", i)
		reg.Push(t, "org/app", tag, img)
		want = append(want, tag)
	}
	reg.Push(t, "org/app", "sha256-0123abcd.sig", img)
	host, pages := paginating(t, reg, 50)

	got, err := image.ListTags(context.Background(), image.ScanOptions{Image: host + "/org/app"})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("got %d tags, want the %d pushed without the signature; first differences: %v", len(got), len(want), firstDiff(got, want))
	}
	if n := pages.Load(); n < 3 {
		t.Errorf("served %d pages, want at least 3 (131 tags by 50)", n)
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] + " vs " + b[i]
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(a), len(b))
}

func TestListTags_ExclusionList(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	img := ocitest.Image(t, map[string]string{"f": "x"}, nil, "")
	for _, tag := range []string{"1.0.0", "1.0.1", "sha256-ab.sig", "latest"} {
		reg.Push(t, "app", tag, img)
	}
	tests := []struct {
		name      string
		exclusion []string
		want      []string
	}{
		{"nil means the default", nil, []string{"1.0.0", "1.0.1", "latest"}},
		{"empty excludes nothing", []string{}, []string{"1.0.0", "1.0.1", "latest", "sha256-ab.sig"}},
		{"custom patterns", []string{`^1\.0\.1$`, "latest|sig"}, []string{"1.0.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := image.ListTags(context.Background(), image.ScanOptions{Image: reg.Host + "/app", ExclusionList: tt.exclusion})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("tags = %v, want %v", got, tt.want)
			}
		})
	}
	_, err := image.ListTags(context.Background(), image.ScanOptions{Image: reg.Host + "/app", ExclusionList: []string{"("}})
	if !errors.Is(err, image.ErrInvalidOptions) {
		t.Errorf("invalid pattern: err = %v, want ErrInvalidOptions", err)
	}
}

func TestListTags_BasicAuth(t *testing.T) {
	const user, pass = "flux", "s3cret-Pa55"
	reg := ocitest.NewRegistry(t, ocitest.Options{Username: user, Password: pass})
	reg.Push(t, "app", "1.0.0", ocitest.Image(t, map[string]string{"f": "x"}, nil, ""))
	img := reg.Host + "/app"

	creds, err := image.CredentialsFromDockerConfig(img, dockerConfig("other.example", "x", "y"), dockerConfig(reg.Host, user, pass))
	if err != nil || creds == nil {
		t.Fatalf("credentials = %v, %v", creds, err)
	}
	tags, err := image.ListTags(context.Background(), image.ScanOptions{Image: img, Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tags, []string{"1.0.0"}) {
		t.Errorf("tags = %v", tags)
	}

	const wrong = "wr0ng-Pa55word"
	_, err = image.ListTags(context.Background(), image.ScanOptions{Image: img, Credentials: &oci.Credentials{Username: user, Password: wrong}})
	if !errors.Is(err, image.ErrAuthentication) {
		t.Fatalf("wrong password: err = %v, want ErrAuthentication", err)
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString([]byte(user+":"+wrong))) {
		t.Errorf("the error shows the password: %v", err)
	}
	if _, err := image.ListTags(context.Background(), image.ScanOptions{Image: img}); !errors.Is(err, image.ErrAuthentication) {
		t.Errorf("anonymous: err = %v, want ErrAuthentication", err)
	}
}

func TestResolveDigest(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	digest := reg.Push(t, "app", "1.0.0", ocitest.Image(t, map[string]string{"f": "x"}, nil, ""))
	opts := image.ScanOptions{Image: reg.Host + "/app"}
	got, err := image.ResolveDigest(context.Background(), opts, "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if got != digest {
		t.Errorf("digest = %s, want %s", got, digest)
	}
	if n := reg.BlobGets(); n != 0 {
		t.Errorf("resolving downloaded %d blobs", n)
	}
	if _, err := image.ResolveDigest(context.Background(), opts, "2.0.0"); !errors.Is(err, image.ErrNotFound) {
		t.Errorf("missing tag: err = %v, want ErrNotFound", err)
	}
	if _, err := image.ResolveDigest(context.Background(), opts, "bad/tag"); !errors.Is(err, image.ErrInvalidOptions) {
		t.Errorf("invalid tag: err = %v, want ErrInvalidOptions", err)
	}
}

func TestScan_TLSAndGuard(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{TLS: true})
	reg.Push(t, "app", "1.0.0", ocitest.Image(t, map[string]string{"f": "x"}, nil, ""))
	img := reg.Host + "/app"
	ctx := context.Background()

	if _, err := image.ListTags(ctx, image.ScanOptions{Image: img, TLS: &oci.TLS{CA: reg.CACert()}}); err != nil {
		t.Errorf("with the CA: %v", err)
	}
	if _, err := image.ListTags(ctx, image.ScanOptions{Image: img}); err == nil {
		t.Error("without the CA: no error")
	}
	guard, err := netguard.Parse([]string{"loopback"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = image.ListTags(ctx, image.ScanOptions{Image: img, TLS: &oci.TLS{CA: reg.CACert()}, Guard: guard})
	if !errors.Is(err, netguard.ErrRefused) {
		t.Errorf("guard in the options: err = %v, want ErrRefused", err)
	}
	_, err = image.ResolveDigest(netguard.WithContext(ctx, guard), image.ScanOptions{Image: img, TLS: &oci.TLS{CA: reg.CACert()}}, "1.0.0")
	if !errors.Is(err, netguard.ErrRefused) {
		t.Errorf("guard in the context: err = %v, want ErrRefused", err)
	}
}

func TestListTags_Timeout(t *testing.T) {
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(stalled.Close)
	start := time.Now()
	_, err := image.ListTags(context.Background(), image.ScanOptions{
		Image:   strings.TrimPrefix(stalled.URL, "http://") + "/app",
		Timeout: 300 * time.Millisecond,
	})
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("err = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestCanonicalName(t *testing.T) {
	tests := []struct {
		image, want string
	}{
		{"nginx", "index.docker.io/library/nginx"},
		{"docker.io/library/nginx", "index.docker.io/library/nginx"},
		{"stefanprodan/podinfo", "index.docker.io/stefanprodan/podinfo"},
		{"ghcr.io/org/app", "ghcr.io/org/app"},
		{"registry.example:5000/org/app", "registry.example:5000/org/app"},
	}
	for _, tt := range tests {
		got, err := image.CanonicalName(tt.image)
		if err != nil || got != tt.want {
			t.Errorf("CanonicalName(%q) = %q, %v; want %q", tt.image, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "https://ghcr.io/org/app", "nginx:1.25", "ghcr.io/org/app@sha256:" + strings.Repeat("a", 64), "UPPER/case"} {
		if _, err := image.CanonicalName(bad); !errors.Is(err, image.ErrInvalidOptions) {
			t.Errorf("CanonicalName(%q): err = %v, want ErrInvalidOptions", bad, err)
		}
	}
}

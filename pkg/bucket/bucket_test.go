package bucket_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/bucket"
	"github.com/gitops-apiserver/gitops-apiserver/test/s3server"
)

const (
	accessKey = "flux-access"
	secretKey = "s3cret-Key-Never-Shown"
)

func newClient(t *testing.T, srv *s3server.Server, mutate func(*bucket.Options)) *bucket.Client {
	t.Helper()
	opts := bucket.Options{
		Endpoint:    srv.Endpoint(),
		Bucket:      "flux-bucket",
		Insecure:    true,
		Region:      "us-east-1",
		Credentials: &bucket.Credentials{AccessKey: accessKey, SecretKey: secretKey},
	}
	if mutate != nil {
		mutate(&opts)
	}
	c, err := bucket.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// fluxRevision computes the revision the way Flux documents it.
func fluxRevision(objects map[string]string) string {
	keys := make([]string, 0, len(objects))
	for k := range objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		sum := md5.Sum([]byte(objects[k]))
		fmt.Fprintf(&b, "%s %s\n", k, hex.EncodeToString(sum[:]))
	}
	sum := sha256.Sum256([]byte(b.String()))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func listFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBucket_IndexAndDownloadFollowPrefixAndIgnoreRules(t *testing.T) {
	srv := s3server.NewServer(t, accessKey, secretKey)
	srv.CreateBucket("flux-bucket")
	srv.PutObjects("flux-bucket", map[string]string{
		".sourceignore":        "# notes\n*.txt\n",
		"deploy/app.yaml":      "kind: ConfigMap\n",
		"deploy/notes.txt":     "ignored by .sourceignore\n",
		"deploy/logo.png":      "kept: .sourceignore replaces the default exclusions\n",
		"deploy/.git/config":   "always excluded\n",
		"deploy/sub/":          "",
		"other/app.yaml":       "outside the prefix\n",
		"deploy/extra/x.yaml":  "x\n",
		"deploy/skip-by-spec/": "",
	})
	c := newClient(t, srv, func(o *bucket.Options) {
		o.Prefix = "deploy/"
		o.Ignore = []string{"/deploy/extra/"}
	})
	ix, err := c.Index(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"deploy/app.yaml": "kind: ConfigMap\n",
		"deploy/logo.png": "kept: .sourceignore replaces the default exclusions\n",
	}
	if got := ix.Revision(); got != fluxRevision(want) {
		t.Errorf("revision %s, want %s (objects %+v)", got, fluxRevision(want), ix.Objects)
	}
	dir := t.TempDir()
	if err := c.Download(ctx(t), ix, dir); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, listFiles(t, dir)); diff != "" {
		t.Errorf("downloaded files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"# notes", "*.txt", "/deploy/extra/"}, ix.Patterns); diff != "" {
		t.Errorf("patterns (-want +got):\n%s", diff)
	}

	t.Run("an unchanged bucket keeps its revision, a change makes a new one", func(t *testing.T) {
		again, err := c.Index(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if again.Revision() != ix.Revision() {
			t.Error("the revision changed without a change in the bucket")
		}
		srv.PutObject("flux-bucket", "deploy/app.yaml", "kind: Secret\n")
		changed, err := c.Index(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		want["deploy/app.yaml"] = "kind: Secret\n"
		if changed.Revision() != fluxRevision(want) {
			t.Error("the revision does not follow the changed object")
		}
	})
}

func TestBucket_DefaultExclusionsWithoutOwnRules(t *testing.T) {
	srv := s3server.NewServer(t, accessKey, secretKey)
	srv.CreateBucket("flux-bucket")
	srv.PutObjects("flux-bucket", map[string]string{"a.yaml": "a", "logo.png": "png", ".github/ci.yaml": "ci"})
	ix, err := newClient(t, srv, nil).Index(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Objects) != 1 || ix.Objects[0].Key != "a.yaml" {
		t.Errorf("objects %+v, want only a.yaml", ix.Objects)
	}
}

func TestBucket_Errors(t *testing.T) {
	srv := s3server.NewServer(t, accessKey, secretKey)
	srv.CreateBucket("flux-bucket")
	srv.PutObject("flux-bucket", "big.yaml", strings.Repeat("x", 100))

	const wrongSecret = "wrong-Secret-Value-123"
	tests := []struct {
		name   string
		mutate func(*bucket.Options)
		setup  func()
		want   error
		hidden string
	}{
		{name: "wrong secret key", mutate: func(o *bucket.Options) { o.Credentials.SecretKey = wrongSecret }, want: bucket.ErrAuthentication, hidden: wrongSecret},
		{name: "unknown access key", mutate: func(o *bucket.Options) { o.Credentials.AccessKey = "nobody" }, want: bucket.ErrAuthentication},
		{name: "anonymous", mutate: func(o *bucket.Options) { o.Credentials = nil }, want: bucket.ErrAuthentication},
		{name: "missing bucket", mutate: func(o *bucket.Options) { o.Bucket = "nope" }, want: bucket.ErrBucketNotFound},
		{name: "too large", mutate: func(o *bucket.Options) { o.MaxSize = 50 }, want: artifact.ErrTooLarge},
		{name: "unsafe key", setup: func() { srv.PutObject("flux-bucket", "a/../../evil", "x") }, want: artifact.ErrUnsafePath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			c := newClient(t, srv, tt.mutate)
			ix, err := c.Index(ctx(t))
			if err == nil {
				err = c.Download(ctx(t), ix, t.TempDir())
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if tt.hidden != "" && strings.Contains(err.Error(), tt.hidden) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}

func TestBucket_TLSWithCAFromSecret(t *testing.T) {
	srv := s3server.NewTLSServer(t, accessKey, secretKey)
	srv.CreateBucket("flux-bucket")
	srv.PutObject("flux-bucket", "a.yaml", "a")
	tlsCfg, err := bucket.TLSFromSecret(map[string][]byte{"ca.crt": srv.CACert()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newClient(t, srv, func(o *bucket.Options) { o.Insecure = false }).Index(ctx(t)); err == nil {
		t.Error("an unknown CA was trusted")
	}
	ix, err := newClient(t, srv, func(o *bucket.Options) { o.Insecure, o.TLS = false, tlsCfg }).Index(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Objects) != 1 {
		t.Errorf("objects %+v", ix.Objects)
	}
}

func TestBucket_OutageAndRecovery(t *testing.T) {
	srv := s3server.NewServer(t, accessKey, secretKey)
	srv.CreateBucket("flux-bucket")
	c := newClient(t, srv, nil)
	srv.Stop()
	if _, err := c.Index(ctx(t)); err == nil {
		t.Fatal("listing succeeded while the server was stopped")
	}
	srv.Start()
	if _, err := c.Index(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestCredentialsFromSecret(t *testing.T) {
	if _, err := bucket.CredentialsFromSecret(map[string][]byte{"accesskey": []byte("a")}); !errors.Is(err, bucket.ErrAuthentication) || !strings.Contains(err.Error(), "secretkey") {
		t.Errorf("error %v", err)
	}
	c, err := bucket.CredentialsFromSecret(map[string][]byte{"accesskey": []byte("a"), "secretkey": []byte("b\n")})
	if err != nil || c.AccessKey != "a" || c.SecretKey != "b" {
		t.Errorf("%+v %v", c, err)
	}
}

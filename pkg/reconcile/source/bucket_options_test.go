package source

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/test/s3server"
)

// s3Front is an HTTP server in front of an S3 server that records what
// each request carried. It serves requests addressed to it and, as a
// forward proxy, requests for any other host: both go to the S3 server
// with their Host header unchanged, so signatures still verify.
type s3Front struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

// seenRequest is what the front recorded of one request.
type seenRequest struct {
	host, query string
	// region is the region of the SigV4 credential scope.
	region string
	// proxyAuth is the Proxy-Authorization header.
	proxyAuth string
}

func newS3Front(t *testing.T, s3 *s3server.Server) *s3Front {
	t.Helper()
	f := &s3Front{}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.Out.URL.Scheme, pr.Out.URL.Host = "http", s3.Endpoint()
	}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		region := ""
		if _, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
			if scope := strings.Split(strings.SplitN(cred, ",", 2)[0], "/"); len(scope) == 5 {
				region = scope[2]
			}
		}
		f.mu.Lock()
		f.seen = append(f.seen, seenRequest{host: r.Host, query: r.URL.RawQuery, region: region, proxyAuth: r.Header.Get("Proxy-Authorization")})
		f.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *s3Front) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

func bucketServer(t *testing.T) *s3server.Server {
	t.Helper()
	srv := s3server.NewServer(t, "ak", "sk-secret-value")
	srv.CreateBucket("flux-bucket")
	srv.PutObject("flux-bucket", "app.yaml", "kind: ConfigMap\n")
	return srv
}

var bucketCreds = map[string][]byte{"accesskey": []byte("ak"), "secretkey": []byte("sk-secret-value")}

// TestBucketReconciler_RegionSignsEveryRequest: with spec.region the client
// signs every request for that region and never asks the server for the
// bucket's location; without it, it does.
func TestBucketReconciler_RegionSignsEveryRequest(t *testing.T) {
	front := newS3Front(t, bucketServer(t))
	r, _ := newBucketReconciler(t, map[string]map[string][]byte{"creds": bucketCreds})
	obj := newBucket(front.Listener.Addr().String())
	obj.Spec.Region = "eu-central-1"
	if res := r.Reconcile(context.Background(), obj); res.Err != nil || obj.Status.Artifact == nil {
		t.Fatalf("with a region: %v, %+v", res.Err, obj.Status)
	}
	seen := front.requests()
	if len(seen) == 0 {
		t.Fatal("no request reached the server")
	}
	for _, s := range seen {
		if s.region != "eu-central-1" || strings.Contains(s.query, "location") {
			t.Errorf("request ?%s signed for region %q, want eu-central-1 and no location lookup", s.query, s.region)
		}
	}

	// The control: without spec.region the client looks the region up.
	front2 := newS3Front(t, bucketServer(t))
	obj = newBucket(front2.Listener.Addr().String())
	if res := r.Reconcile(context.Background(), obj); res.Err != nil {
		t.Fatalf("without a region: %v", res.Err)
	}
	lookedUp := false
	for _, s := range front2.requests() {
		lookedUp = lookedUp || strings.Contains(s.query, "location")
		if s.region == "eu-central-1" {
			t.Errorf("without spec.region a request was signed for eu-central-1")
		}
	}
	if !lookedUp {
		t.Error("without spec.region the client did not ask for the bucket's location; the control proves nothing")
	}
}

// TestBucketReconciler_ProxySecretRefRoutesThroughTheProxy: the endpoint
// cannot be reached directly; through the proxy of spec.proxySecretRef,
// with its credentials, the bucket is fetched.
func TestBucketReconciler_ProxySecretRefRoutesThroughTheProxy(t *testing.T) {
	proxy := newS3Front(t, bucketServer(t))
	secrets := map[string]map[string][]byte{
		"creds": bucketCreds,
		"proxy": {"address": []byte(proxy.URL), "username": []byte("proxy-user"), "password": []byte("proxy-pw")},
	}
	r, _ := newBucketReconciler(t, secrets)
	obj := newBucket("127.0.0.1:1") // nothing listens there
	if res := r.Reconcile(context.Background(), obj); res.Err == nil {
		t.Fatal("the unreachable endpoint was read without a proxy")
	}

	obj.Spec.ProxySecretRef = &common.LocalObjectReference{Name: "proxy"}
	if res := r.Reconcile(context.Background(), obj); res.Err != nil || obj.Status.Artifact == nil {
		t.Fatalf("through the proxy: %v, %+v", res.Err, obj.Status)
	}
	seen := proxy.requests()
	if len(seen) == 0 {
		t.Fatal("no request went through the proxy")
	}
	// "Basic " + base64("proxy-user:proxy-pw")
	const wantAuth = "Basic cHJveHktdXNlcjpwcm94eS1wdw=="
	for _, s := range seen {
		if s.host != "127.0.0.1:1" || s.proxyAuth != wantAuth {
			t.Errorf("proxied request for %q with Proxy-Authorization %q, want 127.0.0.1:1 and the secret's credentials", s.host, s.proxyAuth)
		}
	}
}

// hangingListener accepts connections and never answers; it is closed
// when the test ends.
func hangingListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestBucketReconciler_TimeoutBoundsTheListing: a server that never
// answers fails the run after spec.timeout, not Flux's default minute.
func TestBucketReconciler_TimeoutBoundsTheListing(t *testing.T) {
	r, _ := newBucketReconciler(t, map[string]map[string][]byte{"creds": bucketCreds})
	obj := newBucket(hangingListener(t))
	obj.Spec.Timeout = ptrTo(common.Duration("1s"))
	if got := bucketTimeout(obj); got != time.Second {
		t.Fatalf("bucketTimeout = %s", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- r.Reconcile(ctx, obj).Err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a server that never answers gave no error")
		}
		t.Logf("failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(15 * time.Second):
		t.Fatal("the run did not end within 15s of a 1s spec.timeout")
	}
}

func ptrTo[T any](v T) *T { return &v }

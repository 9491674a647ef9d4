package gitserver

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"
)

// HTTPOptions configures an HTTPServer. With neither Username nor BearerToken set, the
// repositories are served anonymously.
type HTTPOptions struct {
	// Username and Password, when Username is set, are required as HTTP basic auth.
	Username, Password string
	// BearerToken, when set, is required as "Authorization: Bearer <token>".
	BearerToken string
	// TLS serves HTTPS with a self-signed certificate for 127.0.0.1 (see CACert).
	TLS bool
	// Root is the repository root to serve; nil creates a new one.
	Root *Root
	// Observe, when set, sees every request before the credentials are
	// checked (e.g. to record which Authorization headers arrived).
	Observe func(r *http.Request)
}

// HTTPServer serves the repositories of a Root over Git's smart HTTP protocol, through
// `git http-backend` behind net/http/cgi, on 127.0.0.1. Pushing over HTTP is enabled per
// repository by Repo.AllowPush; the Repo helpers push to the bare repositories directly.
type HTTPServer struct {
	t        testing.TB
	opts     HTTPOptions
	root     *Root
	handler  http.Handler
	tls      *tls.Config
	caPEM    []byte
	srv      restartable
	requests atomic.Int64
}

// NewHTTP starts an HTTP git server; t.Cleanup stops it.
func NewHTTP(t testing.TB, opts HTTPOptions) *HTTPServer {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("gitserver: git is required: %v", err)
	}
	root := opts.Root
	if root == nil {
		root = NewRoot(t)
	}
	s := &HTTPServer{t: t, opts: opts, root: root}
	s.handler = &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Root: "/",
		Dir:  root.dir,
		Env: []string{
			"GIT_PROJECT_ROOT=" + root.dir,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"HOME=" + root.home,
		},
		InheritEnv: []string{"PATH"},
		Logger:     quietLog,
		Stderr:     stderrLines{},
	}
	if opts.TLS {
		s.tls, s.caPEM = selfSignedTLS(t)
	}
	s.srv.serve = s.serve
	s.srv.mustStart(t)
	t.Cleanup(s.Stop)
	return s
}

// serve runs an http.Server on ln.
func (s *HTTPServer) serve(ln net.Listener) func() {
	srv := &http.Server{Handler: http.HandlerFunc(s.ServeHTTP), ReadHeaderTimeout: 10 * time.Second, ErrorLog: quietLog}
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return func() {
		_ = srv.Close()
		<-done
	}
}

// ServeHTTP checks the credentials, then hands the request to git http-backend.
func (s *HTTPServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if s.opts.Observe != nil {
		s.opts.Observe(r)
	}
	switch {
	case s.opts.BearerToken != "":
		if !equal(r.Header.Get("Authorization"), "Bearer "+s.opts.BearerToken) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	case s.opts.Username != "":
		user, pass, ok := r.BasicAuth()
		if !ok || !equal(user, s.opts.Username) || !equal(pass, s.opts.Password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	s.handler.ServeHTTP(w, r)
}

// quietLog drops the server's connection-level noise (TLS handshakes refused by clients
// that do not trust the CA, copies cut short by aborted fetches), which tests provoke.
var quietLog = log.New(io.Discard, "", 0)

// stderrLines passes git http-backend's messages to stderr, one per line.
type stderrLines struct{}

func (stderrLines) Write(p []byte) (int, error) {
	_, _ = fmt.Fprintf(os.Stderr, "gitserver: git http-backend: %s\n", bytes.TrimSpace(p))
	return len(p), nil
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// URL returns the repository's URL, e.g. http://127.0.0.1:PORT/name.git.
func (s *HTTPServer) URL(name string) string {
	scheme := "http"
	if s.tls != nil {
		scheme = "https"
	}
	return scheme + "://" + s.srv.address() + "/" + name + ".git"
}

// Addr returns the server's host:port, which stays the same across Stop and Start.
func (s *HTTPServer) Addr() string { return s.srv.address() }

// CACert returns the PEM certificate to trust for a TLS server (nil otherwise).
func (s *HTTPServer) CACert() []byte { return s.caPEM }

// Requests returns how many HTTP requests the server has received.
func (s *HTTPServer) Requests() int64 { return s.requests.Load() }

// Root returns the repository root served.
func (s *HTTPServer) Root() *Root { return s.root }

// CreateRepo creates a repository in the served root; see Root.CreateRepo.
func (s *HTTPServer) CreateRepo(t testing.TB, name string) *Repo {
	t.Helper()
	return s.root.CreateRepo(t, name)
}

// Stop closes the listener and every connection, simulating an outage. Start serves again
// on the same port.
func (s *HTTPServer) Stop() { s.srv.halt() }

// Start serves again after Stop, on the same port. It fails the test if the port cannot be
// bound again; call it from the test's goroutine.
func (s *HTTPServer) Start() { s.srv.mustStart(s.t) }

// selfSignedTLS returns a server configuration with a self-signed CA certificate valid for
// 127.0.0.1 and localhost, and that certificate in PEM.
func selfSignedTLS(t testing.TB) (*tls.Config, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "gitserver test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}
	return cfg, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// Package s3server runs a real S3-protocol server on loopback for tests:
// github.com/johannesboyne/gofakes3 with its in-memory backend, behind an
// AWS Signature Version 4 check (gofakes3 itself accepts any credentials),
// served by net/http on 127.0.0.1. It can be stopped and started again on
// the same port to simulate an outage. Everything started is closed through
// t.Cleanup.
package s3server

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Server is an S3-compatible server on 127.0.0.1.
type Server struct {
	t       testing.TB
	backend *s3mem.Backend
	handler http.Handler
	tls     bool

	mu   sync.Mutex
	addr string
	srv  *httptest.Server
}

// NewServer starts a plain-HTTP server that requires requests signed (SigV4)
// with accessKey and secretKey; with an empty accessKey it accepts anonymous
// requests. t.Cleanup stops it.
func NewServer(t testing.TB, accessKey, secretKey string) *Server {
	return newServer(t, accessKey, secretKey, false)
}

// NewTLSServer is NewServer over HTTPS, with a certificate for 127.0.0.1
// signed by CACert.
func NewTLSServer(t testing.TB, accessKey, secretKey string) *Server {
	return newServer(t, accessKey, secretKey, true)
}

func newServer(t testing.TB, accessKey, secretKey string, useTLS bool) *Server {
	t.Helper()
	backend := s3mem.New()
	fake := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	var h http.Handler = fake.Server()
	if accessKey != "" {
		h = &sigV4{accessKey: accessKey, secretKey: secretKey, next: h}
	}
	s := &Server{t: t, backend: backend, handler: h, tls: useTLS}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Endpoint is host:port, the form a Bucket's spec.endpoint takes.
func (s *Server) Endpoint() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL is the server's base URL (http:// or https://).
func (s *Server) URL() string {
	if s.tls {
		return "https://" + s.Endpoint()
	}
	return "http://" + s.Endpoint()
}

// CACert returns the PEM certificate that verifies a TLS server (nil for
// plain HTTP).
func (s *Server) CACert() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.tls || s.srv == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// CertPool returns a pool holding CACert.
func (s *Server) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(s.CACert())
	return p
}

// Start serves again (on the same port after Stop).
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return
	}
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	// The port was just released by Stop; allow the kernel a moment.
	for deadline := time.Now().Add(5 * time.Second); ; {
		ln, err = net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("s3server: listening on %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(s.handler)
	srv.Listener = ln
	// Handshake failures are what TLS tests provoke; keep them out of the output.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if s.tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	s.srv = srv
	s.addr = ln.Addr().String()
}

// Stop closes the listener and every connection; the port is kept for Start.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return
	}
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.srv = nil
}

// CreateBucket creates an empty bucket.
func (s *Server) CreateBucket(name string) {
	s.t.Helper()
	if err := s.backend.CreateBucket(name); err != nil {
		s.t.Fatalf("s3server: creating bucket %s: %v", name, err)
	}
}

// PutObject writes (or replaces) an object.
func (s *Server) PutObject(bucket, key, content string) {
	s.t.Helper()
	// The metadata is what gofakes3 stores for an upload over HTTP.
	meta := map[string]string{
		"Content-Type":  "application/octet-stream",
		"Last-Modified": time.Now().UTC().Format(http.TimeFormat),
	}
	_, err := s.backend.PutObject(bucket, key, meta,
		bytes.NewReader([]byte(content)), int64(len(content)), nil)
	if err != nil {
		s.t.Fatalf("s3server: putting %s/%s: %v", bucket, key, err)
	}
}

// PutObjects writes every key → content of objects.
func (s *Server) PutObjects(bucket string, objects map[string]string) {
	s.t.Helper()
	for k, v := range objects {
		s.PutObject(bucket, k, v)
	}
}

// DeleteObject removes an object.
func (s *Server) DeleteObject(bucket, key string) {
	s.t.Helper()
	if _, err := s.backend.DeleteObject(bucket, key); err != nil {
		s.t.Fatalf("s3server: deleting %s/%s: %v", bucket, key, err)
	}
}

// writeError answers with an S3 XML error document.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>%s</Code><Message>%s</Message></Error>",
		code, strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;").Replace(message))
}

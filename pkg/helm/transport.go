package helm

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/tlsconfig"
)

// TLSConfig is PEM material from a certSecretRef (ca.crt, tls.crt, tls.key).
type TLSConfig struct {
	CA, Cert, Key []byte
}

// config builds a client TLS configuration trusting CA besides the system
// roots. Errors never quote the key.
func (t *TLSConfig) config() (*tls.Config, error) {
	if t == nil {
		return tlsconfig.FromPEM(nil, nil, nil)
	}
	return tlsconfig.FromPEM(t.CA, t.Cert, t.Key)
}

// newTransport is net/http's default transport dialling through netguard
// (a Guard in the request's context refuses networks at dial time), with
// t's TLS settings.
func newTransport(t *TLSConfig) (*http.Transport, error) {
	cfg, err := t.config()
	if err != nil {
		return nil, err
	}
	rt := netguard.Transport(nil)
	rt.TLSClientConfig = cfg
	return rt, nil
}

// boundTransport is what the SDK's registry client sends its requests
// through. The SDK creates every request with context.Background(), so
// without this neither the caller's cancellation nor its netguard.Guard
// would reach the dialer, and nothing would cap what a registry sends. It
// binds the caller's context, picks the transport (TLS, plain HTTP) of the
// request's host and caps every response body.
type boundTransport struct {
	ctx       context.Context
	hosts     map[string]hostTransport
	fallback  http.RoundTripper
	maxSize   int64
	userAgent string
}

// hostTransport is how to reach one registry host.
type hostTransport struct {
	rt http.RoundTripper
	// plainHTTP sends the SDK's https:// requests to this host as http://.
	plainHTTP bool
}

func (t *boundTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h, ok := t.hosts[req.URL.Host]
	if !ok {
		h = hostTransport{rt: t.fallback}
	}
	// The request's own context carries the http.Client's timeout: keep it,
	// and end it when the caller's context ends too.
	ctx, cancel := context.WithCancelCause(netguard.WithContext(req.Context(), netguard.FromContext(t.ctx)))
	stop := context.AfterFunc(t.ctx, func() { cancel(context.Cause(t.ctx)) })
	release := func() { stop(); cancel(nil) }
	sent := req.Clone(ctx)
	if h.plainHTTP && sent.URL.Scheme == "https" {
		sent.URL.Scheme = "http"
	}
	if t.userAgent != "" {
		sent.Header.Set("User-Agent", t.userAgent)
	}
	resp, err := h.rt.RoundTrip(sent)
	if err != nil {
		release()
		return nil, err
	}
	// The SDK (oras) answers a 401 only for the origin it asked: show it
	// the request it made, not our plain-HTTP copy.
	resp.Request = req
	body, err := capBody(resp, t.maxSize, redact(sent.URL.String()))
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: body, release: release}
	return resp, nil
}

// capBody refuses a response announcing more than maxSize bytes and makes
// its body fail once more than maxSize bytes were read (0: no cap).
func capBody(resp *http.Response, maxSize int64, what string) (io.ReadCloser, error) {
	if maxSize <= 0 {
		return resp.Body, nil
	}
	if resp.ContentLength > maxSize {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrTooLarge, what, maxSize)
	}
	return &cappedBody{rc: resp.Body, left: maxSize, what: what, max: maxSize}, nil
}

type cappedBody struct {
	rc        io.ReadCloser
	left, max int64
	what      string
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// The allowance is used up: any further byte is one too many.
		var one [1]byte
		if n, _ := io.ReadFull(b.rc, one[:]); n > 0 {
			return 0, fmt.Errorf("%w: %s is larger than %d bytes", ErrTooLarge, b.what, b.max)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// releasingBody ends the request's bound context once the body is closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

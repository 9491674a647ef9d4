package helmrepo

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
)

// DefaultTimeout is Flux's default for HelmRepository spec.timeout.
const DefaultTimeout = 60 * time.Second

var (
	// ErrAuthentication means the repository refused the credentials.
	ErrAuthentication = errors.New("authentication failed")
	// ErrTooLarge means a download exceeded the size cap.
	ErrTooLarge = errors.New("download exceeds the size limit")
	// ErrInvalidURL means the repository URL cannot be used.
	ErrInvalidURL = errors.New("invalid repository URL")
	// ErrDigestMismatch means a chart does not have the index's digest.
	ErrDigestMismatch = errors.New("chart digest mismatch")
)

// Options say how to reach one repository.
type Options struct {
	// URL is the repository's URL (spec.url).
	URL string
	// Username and Password are sent with basic auth when Username is set.
	Username, Password string
	// PassCredentials sends the credentials to hosts other than the
	// repository's too (charts hosted elsewhere).
	PassCredentials bool
	// TLS adds a CA and/or client certificate; nil uses the system roots.
	TLS *TLSConfig
	// Timeout bounds every request.
	Timeout time.Duration
	// MaxSize caps every download; 0 means no cap.
	MaxSize int64
	// MaxIndexSize caps index.yaml, which is parsed in memory; 0 means
	// DefaultMaxIndexSize.
	MaxIndexSize int64
	// UserAgent identifies the worker.
	UserAgent string
}

// TLSConfig is PEM material from a certSecretRef.
type TLSConfig struct {
	CA, Cert, Key []byte
}

// Client downloads from one repository.
type Client struct {
	opts Options
	host string
	http *http.Client
}

// NewClient checks opts and builds a client.
func NewClient(opts Options) (*Client, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w '%s': must be http:// or https://", ErrInvalidURL, opts.URL)
	}
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("unexpected default transport %T", http.DefaultTransport)
	}
	rt := base.Clone()
	// A netguard.Guard in the request's context refuses networks at dial time.
	rt.DialContext = netguard.DialContext
	if opts.TLS != nil {
		cfg, err := opts.TLS.config()
		if err != nil {
			return nil, err
		}
		rt.TLSClientConfig = cfg
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Client{opts: opts, host: u.Host, http: &http.Client{Transport: rt, Timeout: opts.Timeout}}, nil
}

func (t *TLSConfig) config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(t.CA) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(t.CA) {
			return nil, errors.New("ca.crt holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	if (len(t.Cert) == 0) != (len(t.Key) == 0) {
		return nil, errors.New("tls.crt and tls.key must be given together")
	}
	if len(t.Cert) > 0 {
		pair, err := tls.X509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("invalid client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// FetchIndex downloads and parses the repository's index.yaml; it returns
// the bytes as served too.
func (c *Client) FetchIndex(ctx context.Context) (*Index, []byte, error) {
	data, err := c.getLimited(ctx, IndexURL(c.opts.URL), c.maxIndexSize())
	if err != nil {
		return nil, nil, err
	}
	ix, err := ParseIndex(data)
	return ix, data, err
}

// FetchChart downloads the archive of cv and checks it against the index's
// digest when there is one.
func (c *Client) FetchChart(ctx context.Context, cv *ChartVersion) ([]byte, error) {
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("chart '%s' version %s has no URL in the index", cv.Name, cv.Version)
	}
	u, err := ResolveURL(c.opts.URL, cv.URLs[0])
	if err != nil {
		return nil, err
	}
	data, err := c.get(ctx, u)
	if err != nil {
		return nil, err
	}
	if cv.Digest != "" {
		sum := sha256.Sum256(data)
		want := strings.TrimPrefix(strings.ToLower(cv.Digest), "sha256:")
		if got := hex.EncodeToString(sum[:]); got != want {
			return nil, fmt.Errorf("%w: chart '%s' version %s has sha256 %s, the index says %s", ErrDigestMismatch, cv.Name, cv.Version, got, want)
		}
	}
	return data, nil
}

// DefaultMaxIndexSize is the largest index.yaml read (Flux's default too).
const DefaultMaxIndexSize = 50 << 20

func (c *Client) maxIndexSize() int64 {
	m := c.opts.MaxIndexSize
	if m <= 0 {
		m = DefaultMaxIndexSize
	}
	if c.opts.MaxSize > 0 && c.opts.MaxSize < m {
		m = c.opts.MaxSize
	}
	return m
}

// get downloads u with the MaxSize cap.
func (c *Client) get(ctx context.Context, u string) ([]byte, error) {
	return c.getLimited(ctx, u, c.opts.MaxSize)
}

// getLimited downloads u, at most maxSize bytes (0: no cap). Credentials go only to the repository's host unless
// PassCredentials is set, so a chart hosted elsewhere does not learn them.
func (c *Client) getLimited(ctx context.Context, u string, maxSize int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if c.opts.UserAgent != "" {
		req.Header.Set("User-Agent", c.opts.UserAgent)
	}
	if c.opts.Username != "" && (c.opts.PassCredentials || req.URL.Host == c.host) {
		req.SetBasicAuth(c.opts.Username, c.opts.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("failed to fetch %s: %w", redact(u), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%w: %s answered %s", ErrAuthentication, redact(u), resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("failed to fetch %s: %s", redact(u), resp.Status)
	}
	r := io.Reader(resp.Body)
	if maxSize > 0 {
		r = io.LimitReader(resp.Body, maxSize+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", redact(u), err)
	}
	if maxSize > 0 && int64(len(data)) > maxSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrTooLarge, redact(u), maxSize)
	}
	return data, nil
}

// redact drops user info and query (tokens) from u for messages.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "<invalid URL>"
	}
	p.User = nil
	p.RawQuery = ""
	return p.String()
}

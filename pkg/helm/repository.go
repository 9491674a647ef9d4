package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	repo "helm.sh/helm/v4/pkg/repo/v1"
)

const (
	// DefaultTimeout is Flux's default for HelmRepository spec.timeout.
	DefaultTimeout = 60 * time.Second
	// DefaultMaxIndexSize is the largest index.yaml read (Flux's default
	// too); the index is parsed in memory.
	DefaultMaxIndexSize = 50 << 20
)

// RepositoryOptions say how to reach one HTTP/S chart repository.
type RepositoryOptions struct {
	// URL is the repository's URL (spec.url).
	URL string
	// Username and Password are sent with basic auth when Username is set.
	Username, Password string
	// PassCredentials sends the credentials to hosts other than the
	// repository's too (charts hosted elsewhere).
	PassCredentials bool
	// TLS adds a CA and/or client certificate; nil uses the system roots.
	TLS *TLSConfig
	// Timeout bounds every request (DefaultTimeout when 0).
	Timeout time.Duration
	// MaxSize caps every download; 0 means no cap.
	MaxSize int64
	// MaxIndexSize caps index.yaml; 0 means DefaultMaxIndexSize. MaxSize
	// applies too when it is smaller.
	MaxIndexSize int64
	// UserAgent identifies the worker.
	UserAgent string
}

// Repository downloads from one HTTP/S chart repository.
//
// The transfers are ours, not the SDK's getter.HTTPGetter: that getter
// takes no context (no cancellation, no netguard.Guard), reads every body
// into memory without a cap, and reports a refused login only as text.
// What is fetched is read by the SDK (repo.IndexFile, the chart loader).
type Repository struct {
	opts   RepositoryOptions
	origin string // scheme://host[:port] of the repository
	http   *http.Client
}

// NewRepository checks opts and builds a client.
func NewRepository(opts RepositoryOptions) (*Repository, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w '%s': must be http:// or https://", ErrInvalidURL, redact(opts.URL))
	}
	rt, err := newTransport(opts.TLS)
	if err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Repository{opts: opts, origin: u.Scheme + "://" + u.Host, http: &http.Client{Transport: rt, Timeout: opts.Timeout}}, nil
}

// URL is the repository's URL as configured.
func (r *Repository) URL() string { return r.opts.URL }

// IndexURL is where the repository's index.yaml is.
func (r *Repository) IndexURL() string { return IndexURL(r.opts.URL) }

// FetchIndex downloads index.yaml into the file dst (as served, all of its
// fields) and loads it with the SDK.
func (r *Repository) FetchIndex(ctx context.Context, dst string) (*repo.IndexFile, error) {
	data, err := r.fetchIndex(ctx)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		return nil, err
	}
	return LoadIndex(dst)
}

func (r *Repository) fetchIndex(ctx context.Context) ([]byte, error) {
	return r.get(ctx, r.IndexURL(), r.maxIndexSize())
}

// ChartURL is the absolute URL of cv's archive (its first URL, resolved
// against the repository as Helm does).
func (r *Repository) ChartURL(cv *repo.ChartVersion) (string, error) {
	if len(cv.URLs) == 0 {
		return "", fmt.Errorf("%w: chart '%s' version %s has no URL in the index", ErrChartNotFound, cv.Name, cv.Version)
	}
	u, err := repo.ResolveReferenceURL(r.opts.URL, cv.URLs[0])
	if err != nil {
		return "", fmt.Errorf("%w: chart '%s' version %s: %v", ErrInvalidIndex, cv.Name, cv.Version, err)
	}
	return u, nil
}

// FetchChart downloads the archive of cv and checks it against the index's
// digest when there is one.
func (r *Repository) FetchChart(ctx context.Context, cv *repo.ChartVersion) ([]byte, error) {
	u, err := r.ChartURL(cv)
	if err != nil {
		return nil, err
	}
	data, err := r.get(ctx, u, r.opts.MaxSize)
	if err != nil {
		return nil, err
	}
	if err := checkDigest(data, cv.Digest, fmt.Sprintf("chart '%s' version %s", cv.Name, cv.Version)); err != nil {
		return nil, err
	}
	return data, nil
}

// checkDigest compares data with an index digest ("" checks nothing).
func checkDigest(data []byte, digest, what string) error {
	if digest == "" {
		return nil
	}
	sum := sha256.Sum256(data)
	want := strings.TrimPrefix(strings.ToLower(digest), "sha256:")
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("%w: %s has sha256 %s, the index says %s", ErrDigestMismatch, what, got, want)
	}
	return nil
}

func (r *Repository) maxIndexSize() int64 {
	m := r.opts.MaxIndexSize
	if m <= 0 {
		m = DefaultMaxIndexSize
	}
	if r.opts.MaxSize > 0 && r.opts.MaxSize < m {
		m = r.opts.MaxSize
	}
	return m
}

// get downloads u, at most maxSize bytes (0: no cap). Credentials go only
// to the repository's scheme and host (with port) unless PassCredentials
// is set, so a chart hosted elsewhere does not learn them (the rule of the
// SDK's HTTPGetter).
func (r *Repository) get(ctx context.Context, u string, maxSize int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidURL, redact(u))
	}
	if r.opts.UserAgent != "" {
		req.Header.Set("User-Agent", r.opts.UserAgent)
	}
	if r.opts.Username != "" && (r.opts.PassCredentials || req.URL.Scheme+"://"+req.URL.Host == r.origin) {
		req.SetBasicAuth(r.opts.Username, r.opts.Password)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		// url.Error names the URL with its user info: use ours.
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return nil, fmt.Errorf("failed to fetch %s: %w", redact(u), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%w: %s answered %s", ErrAuthentication, redact(u), resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("failed to fetch %s: %s", redact(u), resp.Status)
	}
	body, err := capBody(resp, maxSize, redact(u))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", redact(u), err)
	}
	return data, nil
}

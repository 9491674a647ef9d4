package artifact

import (
	"context"
	"crypto/sha1" //nolint:gosec // Flux allows sha1 artifact digests; it is checked, not trusted alone
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultDownloadTimeout bounds a download whose options name no timeout.
const DefaultDownloadTimeout = 2 * time.Minute

// DownloadOptions bound one HTTP(S) download.
type DownloadOptions struct {
	// Transport makes the connections; nil uses http.DefaultTransport.
	// Callers pass one that dials through their network policy
	// (netguard.Transport), so the policy in the request's context applies.
	Transport http.RoundTripper
	// MaxSize caps the body in bytes; 0 or less means no cap.
	MaxSize int64
	// Timeout bounds the whole download, body included; 0 means
	// DefaultDownloadTimeout. The caller's context may end it sooner.
	Timeout time.Duration
	// UserAgent is sent as User-Agent when set.
	UserAgent string
}

// IsRemoteURL reports whether an artifact URL points at another server
// (an absolute http:// or https:// URL), as the artifacts of
// ExternalArtifacts do; this server's own artifact URLs are paths of its
// API ("/apis/...").
func IsRemoteURL(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Download GETs rawURL (http or https only) and copies the body of a 2xx
// answer to w. A body longer than opts.MaxSize fails with ErrTooLarge, as
// soon as Content-Length says so or the cap is passed while copying (so w
// may have received up to MaxSize bytes). It returns the bytes copied.
// Errors name the URL without its userinfo.
func Download(ctx context.Context, rawURL string, w io.Writer, opts DownloadOptions) (int64, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return 0, fmt.Errorf("%q is not an http:// or https:// URL", redactURL(rawURL))
	}
	shown := u.Redacted()
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultDownloadTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, fmt.Errorf("downloading %s: %w", shown, err)
	}
	if opts.UserAgent != "" {
		req.Header.Set("User-Agent", opts.UserAgent)
	}
	transport := opts.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return 0, downloadError(ctx, shown, timeout, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, fmt.Errorf("downloading %s: the server answered %s", shown, resp.Status)
	}
	if opts.MaxSize > 0 && resp.ContentLength > opts.MaxSize {
		return 0, fmt.Errorf("%w: %s is %d bytes, more than the limit of %d", ErrTooLarge, shown, resp.ContentLength, opts.MaxSize)
	}
	body := io.Reader(resp.Body)
	if opts.MaxSize > 0 {
		body = io.LimitReader(resp.Body, opts.MaxSize+1)
	}
	n, err := io.Copy(w, body)
	if err != nil {
		return n, downloadError(ctx, shown, timeout, err)
	}
	if opts.MaxSize > 0 && n > opts.MaxSize {
		return n, fmt.Errorf("%w: %s is more than the limit of %d bytes", ErrTooLarge, shown, opts.MaxSize)
	}
	return n, nil
}

// downloadError says what went wrong, naming the timeout when it struck.
func downloadError(ctx context.Context, shown string, timeout time.Duration, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("downloading %s: no answer within %s: %w", shown, timeout, err)
	}
	return fmt.Errorf("downloading %s: %w", shown, err)
}

// redactURL drops the userinfo of a URL that may not parse.
func redactURL(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		return u.Redacted()
	}
	if scheme, rest, ok := strings.Cut(rawURL, "://"); ok {
		if _, host, ok := strings.Cut(rest, "@"); ok {
			return scheme + "://" + host
		}
	}
	return rawURL
}

// digestAlgorithms are the artifact digest algorithms accepted: Flux's,
// except BLAKE3, which needs a library this server does not carry.
var digestAlgorithms = map[string]func() hash.Hash{
	"sha1":   sha1.New,
	"sha256": sha256.New,
	"sha384": sha512.New384,
	"sha512": sha512.New,
}

// digestVerifier checks content against an "<algorithm>:<hex>" digest.
type digestVerifier struct {
	algorithm, want string
	h               hash.Hash
}

// newDigestVerifier parses digest; an unknown algorithm or a malformed
// value is an error that names it.
func newDigestVerifier(digest string) (*digestVerifier, error) {
	algorithm, want, ok := strings.Cut(digest, ":")
	if !ok || want == "" {
		return nil, fmt.Errorf("digest %q is not <algorithm>:<hex>", digest)
	}
	algorithm = strings.ToLower(algorithm)
	newHash, ok := digestAlgorithms[algorithm]
	if !ok {
		return nil, fmt.Errorf("digest algorithm %q is not supported: use sha256, sha384, sha512 or sha1", algorithm)
	}
	h := newHash()
	if _, err := hex.DecodeString(want); err != nil || len(want) != 2*h.Size() {
		return nil, fmt.Errorf("digest %q is not a hex %s", digest, algorithm)
	}
	return &digestVerifier{algorithm: algorithm, want: strings.ToLower(want), h: h}, nil
}

func (d *digestVerifier) Write(p []byte) (int, error) { return d.h.Write(p) }

// verify compares what was written with the digest.
func (d *digestVerifier) verify() error {
	if got := hex.EncodeToString(d.h.Sum(nil)); got != d.want {
		return fmt.Errorf("%w: expected %s:%s, the download has %s:%s", ErrDigestMismatch, d.algorithm, d.want, d.algorithm, got)
	}
	return nil
}

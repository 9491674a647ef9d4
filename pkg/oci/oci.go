// Package oci fetches OCI artifacts (Flux's OCIRepository source) from
// container registries with go-containerregistry: it resolves a reference
// (digest, semver range or tag) to a manifest digest without downloading
// layers, so a caller can skip work when the digest has not changed, and
// then pulls the manifest and one selected layer.
package oci

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Scheme is the prefix of every OCIRepository URL.
const Scheme = "oci://"

// DefaultTimeout bounds one Resolve or Pull when Options.Timeout is zero
// (Flux's default for spec.timeout).
const DefaultTimeout = 60 * time.Second

// DefaultTag is pulled when the reference names nothing.
const DefaultTag = "latest"

// Errors callers map to condition reasons; they are wrapped, test them with
// errors.Is.
var (
	// ErrAuthentication: the registry refused the credentials (401/403).
	ErrAuthentication = errors.New("authentication failed")
	// ErrNotFound: the repository, tag, digest or a matching layer does not
	// exist.
	ErrNotFound = errors.New("not found")
	// ErrTooLarge: the layer exceeds Options.MaxSize.
	ErrTooLarge = errors.New("layer exceeds the maximum size")
	// ErrInvalidOptions: the URL, reference, credentials or certificates
	// cannot be used; retrying will not help until they change.
	ErrInvalidOptions = errors.New("invalid options")
)

// Ref selects the artifact version: Digest wins over SemVer, SemVer over
// Tag, and Tag defaults to "latest".
type Ref struct {
	Digest       string
	SemVer       string
	SemverFilter string
	Tag          string
}

// String describes the reference for messages.
func (r Ref) String() string {
	switch {
	case r.Digest != "":
		return fmt.Sprintf("digest '%s'", r.Digest)
	case r.SemVer != "":
		return fmt.Sprintf("semver range '%s'", r.SemVer)
	case r.Tag != "":
		return fmt.Sprintf("tag '%s'", r.Tag)
	}
	return fmt.Sprintf("tag '%s'", DefaultTag)
}

// Options says where the artifact is and how to reach it.
type Options struct {
	// URL is oci://<host>[:<port>]/<repository>, without tag or digest.
	URL string
	// Ref selects the version.
	Ref Ref
	// Insecure allows plain HTTP.
	Insecure bool
	// Credentials authenticate to the registry; nil means anonymous.
	Credentials *Credentials
	// TLS holds PEM-encoded CA and client certificates; nil means the
	// system roots and no client certificate.
	TLS *TLS
	// Timeout bounds each Resolve and Pull; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxSize caps the size of the selected layer in bytes; 0 means no cap.
	MaxSize int64
	// UserAgent is sent with every request.
	UserAgent string
}

// repository parses the URL.
func (o Options) repository() (name.Repository, error) {
	if !strings.HasPrefix(o.URL, Scheme) {
		return name.Repository{}, fmt.Errorf("%w: URL '%s' must start with %s", ErrInvalidOptions, o.URL, Scheme)
	}
	var opts []name.Option
	if o.Insecure {
		opts = append(opts, name.Insecure)
	}
	repo, err := name.NewRepository(strings.TrimPrefix(o.URL, Scheme), append(opts, name.StrictValidation)...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("%w: URL '%s' is not a repository address: %v", ErrInvalidOptions, o.URL, err)
	}
	return repo, nil
}

// remoteOptions builds go-containerregistry's options for one operation.
func (o Options) remoteOptions(ctx context.Context) ([]remote.Option, error) {
	rt, err := o.transport()
	if err != nil {
		return nil, err
	}
	auth := authn.Anonymous
	if o.Credentials != nil {
		auth = o.Credentials.authenticator()
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithTransport(rt), remote.WithAuth(auth)}
	if o.UserAgent != "" {
		opts = append(opts, remote.WithUserAgent(o.UserAgent))
	}
	return opts, nil
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

// classify wraps registry errors with this package's sentinels. The
// messages of go-containerregistry's transport errors carry the URL and the
// registry's error codes, never request headers, so no credentials.
func classify(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: timed out: %w", what, err)
	}
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%s: %w: %v", what, ErrAuthentication, err)
		case http.StatusNotFound:
			return fmt.Errorf("%s: %w: %v", what, ErrNotFound, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

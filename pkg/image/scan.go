package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/tlsconfig"
)

// DefaultTimeout bounds one ListTags or ResolveDigest when ScanOptions.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// DefaultExclusionList is applied when ScanOptions.ExclusionList is nil: cosign stores
// signatures under "<digest>.sig" tags, which are not deployable images.
var DefaultExclusionList = []string{`^.*\.sig$`}

// Errors callers map to condition reasons; test them with errors.Is.
var (
	// ErrAuthentication: the registry refused the credentials (401/403).
	ErrAuthentication = errors.New("authentication failed")
	// ErrNotFound: the repository or tag does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidOptions: the image, an exclusion pattern, the credentials or the
	// certificates cannot be used; retrying will not help until they change.
	ErrInvalidOptions = errors.New("invalid options")
)

// ScanOptions say which repository to scan and how to reach it.
type ScanOptions struct {
	// Image is the repository without tag or digest, e.g. "registry.example:5000/org/app"
	// or "nginx" (Docker Hub); no scheme.
	Image string
	// Insecure allows plain HTTP.
	Insecure bool
	// Credentials authenticate to the registry; nil means anonymous. See
	// CredentialsFromDockerConfig.
	Credentials *oci.Credentials
	// TLS holds PEM-encoded CA and client certificates (see oci.TLSFromSecret); nil
	// means the system roots and no client certificate.
	TLS *oci.TLS
	// Guard, when set, refuses connections to the networks it names, in addition to any
	// Guard the context carries.
	Guard *netguard.Guard
	// Proxy, when set, is the HTTP(S) proxy every request goes through (its userinfo, if
	// any, authenticates to the proxy); nil means the environment's proxy settings.
	Proxy *url.URL
	// Timeout bounds each operation; 0 means DefaultTimeout.
	Timeout time.Duration
	// ExclusionList holds regular expressions; ListTags drops the tags matching any.
	// nil means DefaultExclusionList, an empty list excludes nothing.
	ExclusionList []string
	// UserAgent is sent with every request.
	UserAgent string
}

// CanonicalName returns Flux's canonical image name for image: the full repository name,
// registry included ("nginx" → "index.docker.io/library/nginx",
// "ghcr.io/org/app" → "ghcr.io/org/app").
func CanonicalName(image string) (string, error) {
	repo, err := repository(image, false)
	if err != nil {
		return "", err
	}
	return repo.Name(), nil
}

// CredentialsFromDockerConfig returns the credentials for image's registry in the first
// of configs (kubernetes.io/dockerconfigjson data) that has an entry for it, or nil. It
// is pkg/oci's lookup applied to the canonical name, so Docker Hub short names match
// "https://index.docker.io/v1/" entries.
func CredentialsFromDockerConfig(image string, configs ...[]byte) (*oci.Credentials, error) {
	canonical, err := CanonicalName(image)
	if err != nil {
		return nil, err
	}
	for _, cfg := range configs {
		c, err := oci.CredentialsFromDockerConfig(oci.Scheme+canonical, cfg)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
		}
		if c != nil {
			return c, nil
		}
	}
	return nil, nil
}

// ListTags returns the tags of opts.Image in the registry's order, all pages, minus the
// excluded ones.
func ListTags(ctx context.Context, opts ScanOptions) ([]string, error) {
	repo, err := repository(opts.Image, opts.Insecure)
	if err != nil {
		return nil, err
	}
	exclude, err := compileExclusions(opts.ExclusionList)
	if err != nil {
		return nil, err
	}
	ctx, cancel := opts.operation(ctx)
	defer cancel()
	ropts, err := opts.remoteOptions(ctx)
	if err != nil {
		return nil, err
	}
	tags, err := remote.List(repo, ropts...)
	if err != nil {
		return nil, classify(ctx, fmt.Sprintf("listing the tags of '%s'", repo.Name()), err)
	}
	kept := tags[:0]
	for _, tag := range tags {
		if !matchesAny(exclude, tag) {
			kept = append(kept, tag)
		}
	}
	return kept, nil
}

// ResolveDigest returns the manifest digest ("sha256:<hex>") of opts.Image:tag with a HEAD
// request, falling back to GET (the manifest only) for registries that do not answer HEAD.
func ResolveDigest(ctx context.Context, opts ScanOptions, tag string) (string, error) {
	repo, err := repository(opts.Image, opts.Insecure)
	if err != nil {
		return "", err
	}
	if !validTag.MatchString(tag) {
		return "", fmt.Errorf("%w: '%s' is not a valid tag", ErrInvalidOptions, tag)
	}
	ref := repo.Tag(tag)
	ctx, cancel := opts.operation(ctx)
	defer cancel()
	ropts, err := opts.remoteOptions(ctx)
	if err != nil {
		return "", err
	}
	desc, err := remote.Head(ref, ropts...)
	if err == nil {
		return desc.Digest.String(), nil
	}
	full, gerr := remote.Get(ref, ropts...)
	if gerr != nil {
		return "", classify(ctx, fmt.Sprintf("resolving the digest of '%s'", ref.Name()), gerr)
	}
	return full.Digest.String(), nil
}

// validTag is the OCI distribution spec's tag grammar.
var validTag = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// repository parses an image repository name as Flux's spec.image: no scheme, no tag, no
// digest.
func repository(image string, insecure bool) (name.Repository, error) {
	if scheme, _, ok := strings.Cut(image, "://"); ok {
		return name.Repository{}, fmt.Errorf("%w: image '%s' must not start with a URL scheme; remove '%s://'", ErrInvalidOptions, image, scheme)
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(image, opts...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("%w: image '%s' is not a repository name: %v", ErrInvalidOptions, image, err)
	}
	// ParseReference defaults the tag to "latest"; only a name without one is accepted.
	if last := image[strings.LastIndex(image, "/")+1:]; strings.ContainsAny(last, ":@") {
		return name.Repository{}, fmt.Errorf("%w: image '%s' must not contain a tag or digest", ErrInvalidOptions, image)
	}
	return ref.Context(), nil
}

func compileExclusions(patterns []string) ([]*regexp.Regexp, error) {
	if patterns == nil {
		patterns = DefaultExclusionList
	}
	res := make([]*regexp.Regexp, 0, len(patterns))
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("%w: exclusion pattern '%s': %v", ErrInvalidOptions, p, err)
		}
		res = append(res, re)
	}
	return res, nil
}

func matchesAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// operation applies the timeout and the Guard to ctx.
func (o ScanOptions) operation(ctx context.Context) (context.Context, context.CancelFunc) {
	if !o.Guard.Empty() {
		ctx = netguard.WithContext(ctx, o.Guard)
	}
	d := o.Timeout
	if d <= 0 {
		d = DefaultTimeout
	}
	return context.WithTimeout(ctx, d)
}

// remoteOptions builds go-containerregistry's options for one operation.
func (o ScanOptions) remoteOptions(ctx context.Context) ([]remote.Option, error) {
	rt, err := o.transport()
	if err != nil {
		return nil, err
	}
	auth := authn.Anonymous
	if c := o.Credentials; c != nil {
		auth = authn.FromConfig(authn.AuthConfig{
			Username: c.Username, Password: c.Password,
			IdentityToken: c.IdentityToken, RegistryToken: c.RegistryToken,
		})
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithTransport(rt), remote.WithAuth(auth)}
	if o.UserAgent != "" {
		opts = append(opts, remote.WithUserAgent(o.UserAgent))
	}
	return opts, nil
}

// transport is go-containerregistry's default transport (proxy from the environment,
// timeouts) dialling through netguard, with o.TLS.
func (o ScanOptions) transport() (http.RoundTripper, error) {
	base, ok := remote.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("unexpected default transport %T", remote.DefaultTransport)
	}
	rt := base.Clone()
	rt.DialContext = netguard.DialContext
	if o.Proxy != nil {
		rt.Proxy = http.ProxyURL(o.Proxy)
	}
	if o.TLS == nil {
		return rt, nil
	}
	cfg, err := tlsconfig.FromPEM(o.TLS.CA, o.TLS.Cert, o.TLS.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
	}
	rt.TLSClientConfig = cfg
	return rt, nil
}

// classify wraps registry errors with this package's sentinels. go-containerregistry's
// transport errors carry the URL and the registry's error codes, never request headers,
// so no credentials.
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

package helm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v4/pkg/registry"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// RegistryHost is how to reach one OCI registry.
type RegistryHost struct {
	// Host is the registry's host[:port], as in an oci:// URL.
	Host string
	// Username and Password, or the tokens some registries hand out
	// instead, are sent to this host only.
	Username, Password           string
	IdentityToken, RegistryToken string
	// TLS adds a CA and/or client certificate; nil uses the system roots.
	TLS *TLSConfig
	// Insecure reaches the registry over plain HTTP.
	Insecure bool
}

// String never shows the credentials.
func (h RegistryHost) String() string { return "helm.RegistryHost{" + h.Host + "}" }

// RegistryOptions configure a Registry.
type RegistryOptions struct {
	// Hosts are the registries with credentials or TLS settings; others are
	// reached anonymously over HTTPS.
	Hosts []RegistryHost
	// Timeout bounds every request (DefaultTimeout when 0).
	Timeout time.Duration
	// MaxSize caps every response (manifest, chart layer); 0: no cap.
	MaxSize int64
	// UserAgent identifies the worker.
	UserAgent string
	// WorkDir is a private directory: the SDK's client insists on a
	// credentials file, which is named there (and never written, since the
	// credentials come from Hosts) instead of in the server's Helm config.
	WorkDir string
}

// Registry pulls Helm charts from OCI registries with the SDK's registry
// client. It is bound to the context it was made with (the SDK's client
// takes none), so make one per operation.
type Registry struct {
	client *registry.Client
}

// NewRegistry builds a registry client bound to ctx.
func NewRegistry(ctx context.Context, opts RegistryOptions) (*Registry, error) {
	if opts.WorkDir == "" {
		return nil, errors.New("helm.NewRegistry: no WorkDir")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	fallback, err := newTransport(nil)
	if err != nil {
		return nil, err
	}
	bt := &boundTransport{ctx: ctx, hosts: map[string]hostTransport{}, fallback: fallback, maxSize: opts.MaxSize, userAgent: opts.UserAgent}
	creds := map[string]auth.Credential{}
	for _, h := range opts.Hosts {
		rt := http.RoundTripper(fallback)
		if h.TLS != nil {
			if rt, err = newTransport(h.TLS); err != nil {
				return nil, fmt.Errorf("registry %s: %w", h.Host, err)
			}
		}
		key := credentialHost(h.Host)
		bt.hosts[key] = hostTransport{rt: rt, plainHTTP: h.Insecure}
		creds[key] = auth.Credential{Username: h.Username, Password: h.Password, RefreshToken: h.IdentityToken, AccessToken: h.RegistryToken}
	}
	httpClient := &http.Client{Transport: bt, Timeout: opts.Timeout}
	authorizer := auth.Client{
		Client: httpClient,
		Cache:  auth.NewCache(),
		// Credentials only for their own registry; never the server's
		// docker or Helm login (the SDK's default).
		Credential: func(_ context.Context, hostport string) (auth.Credential, error) {
			return creds[hostport], nil
		},
	}
	if opts.UserAgent != "" {
		authorizer.SetUserAgent(opts.UserAgent)
	}
	client, err := registry.NewClient(
		registry.ClientOptHTTPClient(httpClient),
		registry.ClientOptAuthorizer(authorizer),
		registry.ClientOptCredentialsFile(filepath.Join(opts.WorkDir, "registry-config.json")),
		registry.ClientOptWriter(io.Discard),
	)
	if err != nil {
		return nil, err
	}
	return &Registry{client: client}, nil
}

// credentialHost is the host the SDK sends requests to and asks
// credentials for: Docker Hub's registry lives at registry-1.docker.io.
func credentialHost(host string) string {
	if host == "docker.io" {
		return "registry-1.docker.io"
	}
	return host
}

// RegistryHostOf returns host[:port] of an oci:// repository URL.
func RegistryHostOf(ociURL string) (string, error) {
	u, err := url.Parse(ociURL)
	if err != nil || u.Scheme != registry.OCIScheme || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w '%s': must be oci://<host>/<path>", ErrInvalidURL, redact(ociURL))
	}
	return u.Host, nil
}

// chartRef is <host>/<path>/<chart> for a chart in the oci:// repository.
func chartRef(repoURL, chart string) (string, error) {
	if _, err := RegistryHostOf(repoURL); err != nil {
		return "", err
	}
	if chart == "" || strings.ContainsAny(chart, ":@") {
		return "", fmt.Errorf("%w: invalid chart name '%s'", ErrChartNotFound, chart)
	}
	return strings.TrimSuffix(strings.TrimPrefix(repoURL, registry.OCIScheme+"://"), "/") + "/" + chart, nil
}

// ResolveVersion returns the version of chart in the oci:// repository
// repoURL to pull: an exact semver version as it is (no tag listing, as
// Flux), else the highest tag matching the range ("" means the latest
// stable version), with the SDK's tag resolution.
func (r *Registry) ResolveVersion(repoURL, chart, constraint string) (string, error) {
	ref, err := chartRef(repoURL, chart)
	if err != nil {
		return "", err
	}
	if _, err := semver.StrictNewVersion(constraint); err == nil {
		return constraint, nil
	}
	if constraint != "" {
		if _, err := semver.NewConstraint(constraint); err != nil {
			return "", fmt.Errorf("%w: invalid version range '%s' for chart '%s': %v", ErrVersionNotFound, constraint, chart, err)
		}
	}
	tags, err := r.client.Tags(ref)
	if err != nil {
		return "", registryError(err, "failed to list the tags of oci://"+ref)
	}
	v, err := registry.GetTagMatchingVersionOrConstraint(tags, constraint)
	if err != nil {
		if constraint == "" {
			constraint = "*"
		}
		return "", fmt.Errorf("%w: no '%s' chart with version matching '%s' in oci://%s", ErrVersionNotFound, chart, constraint, ref)
	}
	return v, nil
}

// Pull downloads chart version from the oci:// repository repoURL: the
// chart layer of <repository>/<chart>:<version> (a '+' in the version is
// the tag's '_', as Helm pushes it). The SDK checks media types and digests.
func (r *Registry) Pull(repoURL, chart, version string) ([]byte, error) {
	ref, err := chartRef(repoURL, chart)
	if err != nil {
		return nil, err
	}
	res, err := r.client.Pull(ref + ":" + version)
	if err != nil {
		return nil, registryError(err, fmt.Sprintf("failed to pull oci://%s:%s", ref, version))
	}
	return res.Chart.Data, nil
}

// registryError gives registry answers our error kinds.
func registryError(err error, what string) error {
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%w: %s: %v", ErrAuthentication, what, err)
		case http.StatusNotFound:
			return fmt.Errorf("%w: %s: %v", ErrChartNotFound, what, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

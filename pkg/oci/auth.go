package oci

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/tlsconfig"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Secret keys and types this package reads.
const (
	// DockerConfigJSONKey holds the config of a kubernetes.io/dockerconfigjson
	// Secret.
	DockerConfigJSONKey = ".dockerconfigjson"
	CACertKey           = "ca.crt"
	TLSCertKey          = "tls.crt"
	TLSKeyKey           = "tls.key"
)

// Credentials authenticate to one registry. String never shows them.
type Credentials struct {
	Username, Password string
	// IdentityToken and RegistryToken are OAuth tokens some registries hand
	// out instead of a password.
	IdentityToken, RegistryToken string
}

// String implements fmt.Stringer without the secrets, in case a
// Credentials ever ends up in a message.
func (c *Credentials) String() string { return "oci.Credentials{<redacted>}" }

func (c *Credentials) authenticator() authn.Authenticator {
	return authn.FromConfig(authn.AuthConfig{
		Username: c.Username, Password: c.Password,
		IdentityToken: c.IdentityToken, RegistryToken: c.RegistryToken,
	})
}

// dockerConfig is the part of ~/.docker/config.json that
// kubernetes.io/dockerconfigjson Secrets hold.
type dockerConfig struct {
	Auths map[string]struct {
		Auth          string `json:"auth"`
		Username      string `json:"username"`
		Password      string `json:"password"`
		IdentityToken string `json:"identitytoken"`
		RegistryToken string `json:"registrytoken"`
	} `json:"auths"`
}

// CredentialsFromDockerConfig returns the credentials in a
// .dockerconfigjson for the registry of url (oci://host/...), or nil when
// the config has no entry for that host (anonymous access, as kubelet does
// with image pull secrets). Entries may be written as "host[:port]", with a
// scheme or with a path ("https://index.docker.io/v1/"). Errors never quote
// the config.
func CredentialsFromDockerConfig(ociURL string, config []byte) (*Credentials, error) {
	var cfg dockerConfig
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, fmt.Errorf("%w: %s is not a valid docker config (JSON)", ErrInvalidOptions, DockerConfigJSONKey)
	}
	repo, err := Options{URL: ociURL}.repository()
	if err != nil {
		return nil, err
	}
	want := normalizeHost(repo.RegistryStr())
	for key, entry := range cfg.Auths {
		if normalizeHost(key) != want {
			continue
		}
		c := &Credentials{Username: entry.Username, Password: entry.Password,
			IdentityToken: entry.IdentityToken, RegistryToken: entry.RegistryToken}
		if entry.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(entry.Auth)
			if err != nil {
				return nil, fmt.Errorf("%w: the 'auth' of registry '%s' is not base64", ErrInvalidOptions, key)
			}
			user, pass, ok := strings.Cut(string(raw), ":")
			if !ok {
				return nil, fmt.Errorf("%w: the 'auth' of registry '%s' is not 'username:password'", ErrInvalidOptions, key)
			}
			c.Username, c.Password = user, pass
		}
		return c, nil
	}
	return nil, nil
}

// normalizeHost reduces a docker config key or registry name to host[:port],
// folding Docker Hub's aliases into one.
func normalizeHost(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if strings.Contains(s, "://") {
		if u, err := url.Parse(s); err == nil {
			s = u.Host
		}
	}
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return "index.docker.io"
	}
	return s
}

// TLS holds PEM-encoded certificates from a certSecretRef Secret.
type TLS struct {
	// CA verifies the registry's certificate, trusted in addition to the
	// system roots.
	CA []byte
	// Cert and Key are a client certificate for mutual TLS; both or neither.
	Cert, Key []byte
}

// TLSFromSecret reads ca.crt, tls.crt and tls.key from a Secret's data.
func TLSFromSecret(data map[string][]byte) (*TLS, error) {
	t := &TLS{CA: data[CACertKey], Cert: data[TLSCertKey], Key: data[TLSKeyKey]}
	if (len(t.Cert) == 0) != (len(t.Key) == 0) {
		return nil, fmt.Errorf("%w: %s and %s must be given together", ErrInvalidOptions, TLSCertKey, TLSKeyKey)
	}
	if len(t.CA) == 0 && len(t.Cert) == 0 {
		return nil, fmt.Errorf("%w: none of %s, %s and %s are set", ErrInvalidOptions, CACertKey, TLSCertKey, TLSKeyKey)
	}
	return t, nil
}

// transport returns the HTTP transport for o: go-containerregistry's
// defaults (proxy from the environment, timeouts) plus o.TLS.
func (o Options) transport() (http.RoundTripper, error) {
	base, ok := remote.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("unexpected default transport %T", remote.DefaultTransport)
	}
	rt := base.Clone()
	// A netguard.Guard in the request's context refuses networks at dial time.
	rt.DialContext = netguard.DialContext
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

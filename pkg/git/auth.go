package git

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"golang.org/x/crypto/ssh"
)

// Keys of a GitRepository's spec.secretRef Secret, as documented by Flux.
const (
	// SecretUsername is the basic auth username (HTTP/S), or the SSH user.
	SecretUsername = "username"
	// SecretPassword is the basic auth password (HTTP/S), or the private key passphrase (SSH).
	SecretPassword = "password"
	// SecretBearerToken is sent as "Authorization: Bearer <token>" (HTTP/S).
	SecretBearerToken = "bearerToken"
	// SecretCACert is a PEM bundle of certificate authorities to trust (HTTPS).
	SecretCACert = "ca.crt"
	// SecretCAFile is the legacy name of SecretCACert; ca.crt wins when both are set.
	SecretCAFile = "caFile"
	// SecretIdentity is the PEM or OpenSSH private key (SSH).
	SecretIdentity = "identity"
	// SecretIdentityPub is the public half of SecretIdentity. Flux stores it for users to
	// copy into deploy keys; authentication does not need it.
	SecretIdentityPub = "identity.pub"
	// SecretKnownHosts holds the server's host keys in known_hosts format (SSH); required.
	SecretKnownHosts = "known_hosts"
)

// defaultSSHUser is the user for ssh:// URLs that name none, as in Flux.
const defaultSSHUser = "git"

// Auth holds the credentials for one repository URL. Build it with AuthFromSecret. Its
// String and GoString methods never print secret values.
type Auth struct {
	// Scheme is the URL scheme the credentials are for: "http", "https" or "ssh".
	Scheme string
	// Username is the basic auth user (HTTP/S) or the SSH user (default "git").
	Username string
	// Password is the basic auth password (HTTP/S) or the private key passphrase (SSH).
	Password string
	// BearerToken, when set, is used instead of basic auth (HTTP/S), as Flux does.
	BearerToken string
	// CA is a PEM bundle of extra certificate authorities for HTTPS.
	CA []byte
	// Identity is the SSH private key.
	Identity []byte
	// KnownHosts are the accepted SSH host keys, in known_hosts format.
	KnownHosts []byte

	signer ssh.Signer
}

// AuthFromSecret builds the credentials for rawURL from the data of a Flux GitRepository
// secret (see the Secret* keys). data may be nil for anonymous access, in which case
// userinfo in the URL is still used, as Flux does. Errors wrap ErrInvalidSecret, name the
// missing or malformed key, and never contain secret values.
func AuthFromSecret(rawURL string, data map[string][]byte) (*Auth, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	a := &Auth{
		Scheme:      u.Scheme,
		Username:    string(data[SecretUsername]),
		Password:    string(data[SecretPassword]),
		BearerToken: string(data[SecretBearerToken]),
		CA:          data[SecretCACert],
		Identity:    data[SecretIdentity],
		KnownHosts:  data[SecretKnownHosts],
	}
	if len(a.CA) == 0 {
		a.CA = data[SecretCAFile]
	}
	if a.Username == "" {
		a.Username = u.User.Username()
	}
	if a.Password == "" {
		a.Password, _ = u.User.Password()
	}
	switch a.Scheme {
	case "http", "https":
		err = a.validateHTTP()
	case "ssh":
		err = a.validateSSH()
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// validateHTTP checks the HTTP/S keys.
func (a *Auth) validateHTTP() error {
	if a.Password != "" && a.Username == "" && a.BearerToken == "" {
		return fmt.Errorf("%w: key %q requires key %q", ErrInvalidSecret, SecretPassword, SecretUsername)
	}
	if len(a.CA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(a.CA) {
			return fmt.Errorf("%w: key %q holds no PEM certificate", ErrInvalidSecret, SecretCACert)
		}
	}
	return nil
}

// validateSSH checks the SSH keys and parses the private key, so that a bad key or
// passphrase fails here rather than at the first fetch.
func (a *Auth) validateSSH() error {
	if a.Username == "" {
		a.Username = defaultSSHUser
	}
	if len(a.Identity) == 0 {
		return fmt.Errorf("%w: key %q (the SSH private key) is required for ssh:// URLs", ErrInvalidSecret, SecretIdentity)
	}
	if len(a.KnownHosts) == 0 {
		return fmt.Errorf("%w: key %q is required for ssh:// URLs: host keys are always verified", ErrInvalidSecret, SecretKnownHosts)
	}
	if _, err := parseKnownHosts(a.KnownHosts); err != nil {
		return err
	}
	signer, err := ssh.ParsePrivateKey(a.Identity)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if a.Password == "" {
			return fmt.Errorf("%w: key %q is passphrase protected: set the passphrase in key %q", ErrInvalidSecret, SecretIdentity, SecretPassword)
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(a.Identity, []byte(a.Password))
		if err != nil {
			return fmt.Errorf("%w: cannot decrypt key %q with the passphrase in key %q", ErrInvalidSecret, SecretIdentity, SecretPassword)
		}
	}
	if err != nil {
		// x/crypto's parse errors describe the format, never the key bytes.
		return fmt.Errorf("%w: key %q is not a valid private key: %s", ErrInvalidSecret, SecretIdentity, newRedactor(a).redact(err.Error()))
	}
	a.signer = signer
	return nil
}

// String describes the credentials without their values.
func (a *Auth) String() string {
	if a == nil {
		return "git.Auth(none)"
	}
	var parts []string
	if a.Username != "" {
		parts = append(parts, "username="+a.Username)
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{SecretPassword, a.Password != ""},
		{SecretBearerToken, a.BearerToken != ""},
		{SecretCACert, len(a.CA) > 0},
		{SecretIdentity, len(a.Identity) > 0},
		{SecretKnownHosts, len(a.KnownHosts) > 0},
	} {
		if f.set {
			parts = append(parts, f.name+"=<redacted>")
		}
	}
	return fmt.Sprintf("git.Auth(%s: %s)", a.Scheme, strings.Join(parts, ", "))
}

// GoString is String, so that %#v does not print secret values either.
func (a *Auth) GoString() string { return a.String() }

// httpAuth returns the go-git auth method for HTTP/S: a bearer token if set, else basic
// auth if a username is set, else none.
func (a *Auth) httpAuth() transport.AuthMethod {
	switch {
	case a == nil:
		return nil
	case a.BearerToken != "":
		return &githttp.TokenAuth{Token: a.BearerToken}
	case a.Username != "":
		return &githttp.BasicAuth{Username: a.Username, Password: a.Password}
	}
	return nil
}

// parseURL accepts http, https and ssh URLs with a host, like Flux (no scp-like syntax).
func parseURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse echoes the input, which may hold a password.
		return nil, fmt.Errorf("invalid git URL %q", StripUserinfo(rawURL))
	}
	switch u.Scheme {
	case "http", "https", "ssh":
	default:
		return nil, fmt.Errorf("unsupported git URL %q: the scheme must be http, https or ssh (scp-like addresses such as git@host:repo are not supported)", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid git URL %q: no host", u.Redacted())
	}
	return u, nil
}

// cleanURL returns u without userinfo, the form handed to go-git so that it can never echo
// credentials; they travel in the auth method instead.
func cleanURL(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// caBundle returns the CA bundle for HTTPS, or nil.
func (a *Auth) caBundle() []byte {
	if a == nil || a.Scheme != "https" {
		return nil
	}
	return a.CA
}

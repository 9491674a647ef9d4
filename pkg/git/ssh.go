package git

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// parseKnownHosts checks that data holds at least one valid known_hosts entry and returns
// how many it holds.
func parseKnownHosts(data []byte) (int, error) {
	n := 0
	rest := data
	for {
		var err error
		_, _, _, _, rest, err = ssh.ParseKnownHosts(rest)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%w: key %q is not valid known_hosts data: %v", ErrInvalidSecret, SecretKnownHosts, err)
		}
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: key %q holds no host key", ErrInvalidSecret, SecretKnownHosts)
	}
	return n, nil
}

// sshAuth is a go-git SSH auth method: public key authentication with host keys checked
// against the secret's known_hosts, a connect timeout, and a record of host key failures
// so they can be reported as ErrHostKey whatever go-git does with the error.
type sshAuth struct {
	user    string
	signer  ssh.Signer
	hostKey ssh.HostKeyCallback
	algos   []string
	timeout time.Duration

	hostKeyFailed atomic.Bool
}

var _ gitssh.AuthMethod = &sshAuth{}

// newSSHAuth builds the auth method for u. deadline, when not zero, bounds the TCP connect
// (go-git's dial context follows ssh.ClientConfig.Timeout, not the operation's context);
// the handshake and the transfer are bounded by closing the connection (see bindSSHDial).
func newSSHAuth(a *Auth, u *url.URL, deadline time.Time) (*sshAuth, error) {
	if a == nil || a.Scheme != "ssh" {
		return nil, fmt.Errorf("%w: ssh:// URLs need a secret with keys %q and %q (host keys are always verified)", ErrInvalidSecret, SecretIdentity, SecretKnownHosts)
	}
	if a.signer == nil {
		// Auth built by hand rather than by AuthFromSecret: validate it now.
		if err := a.validateSSH(); err != nil {
			return nil, err
		}
	}
	db, err := knownHostsDB(a.KnownHosts)
	if err != nil {
		return nil, err
	}
	port := u.Port()
	if port == "" {
		port = "22"
	}
	hostPort := net.JoinHostPort(u.Hostname(), port)
	s := &sshAuth{
		user:   a.Username,
		signer: a.signer,
		// Offer only the algorithms of the recorded keys, else the server may present a
		// key type that known_hosts lacks and verification fails although a key matches.
		algos: db.HostKeyAlgorithms(hostPort),
	}
	cb := db.HostKeyCallback()
	s.hostKey = func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		if err := cb(hostname, remote, key); err != nil {
			s.hostKeyFailed.Store(true)
			if knownhosts.IsHostUnknown(err) {
				return fmt.Errorf("no key for %s in %q", hostPort, SecretKnownHosts)
			}
			return fmt.Errorf("the key of %s does not match %q: %v", hostPort, SecretKnownHosts, err)
		}
		return nil
	}
	if !deadline.IsZero() {
		s.timeout = time.Until(deadline)
		if s.timeout <= 0 {
			s.timeout = time.Millisecond
		}
	}
	return s, nil
}

// knownHostsDB loads known_hosts data through a temporary file, which the parser needs;
// the file is removed before returning.
func knownHostsDB(data []byte) (*knownhosts.HostKeyDB, error) {
	if _, err := parseKnownHosts(data); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "known_hosts-*")
	if err != nil {
		return nil, fmt.Errorf("writing known_hosts: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()) }()
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("writing known_hosts: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing known_hosts: %w", err)
	}
	db, err := knownhosts.NewDB(f.Name())
	if err != nil {
		return nil, fmt.Errorf("%w: key %q: %v", ErrInvalidSecret, SecretKnownHosts, err)
	}
	return db, nil
}

// Name implements transport.AuthMethod.
func (s *sshAuth) Name() string { return gitssh.PublicKeysName }

// String implements transport.AuthMethod without revealing the key.
func (s *sshAuth) String() string { return fmt.Sprintf("user: %s, name: %s", s.user, s.Name()) }

// anonymous returns the same host key checks without the key: for a submodule on
// another host, which must not be offered the parent's key.
func (s *sshAuth) anonymous() *sshAuth {
	return &sshAuth{user: s.user, hostKey: s.hostKey, algos: s.algos, timeout: s.timeout}
}

// ClientConfig implements gitssh.AuthMethod.
func (s *sshAuth) ClientConfig() (*ssh.ClientConfig, error) {
	var auth []ssh.AuthMethod
	if s.signer != nil {
		auth = []ssh.AuthMethod{ssh.PublicKeys(s.signer)}
	}
	return &ssh.ClientConfig{
		User:              s.user,
		Auth:              auth,
		HostKeyCallback:   s.hostKey,
		HostKeyAlgorithms: s.algos,
		Timeout:           s.timeout,
	}, nil
}

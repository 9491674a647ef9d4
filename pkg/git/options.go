package git

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Options says what to fetch and how.
type Options struct {
	// URL is an http://, https:// or ssh:// repository URL. Userinfo in it is used as
	// credentials when Auth is nil (and for fields Auth leaves empty, via AuthFromSecret),
	// and is never shown in errors.
	URL string
	// Auth holds the credentials; nil means anonymous access (or the URL's userinfo).
	// ssh:// URLs always need one, with a private key and known_hosts.
	Auth *Auth
	// Ref selects the commit; see Ref for the precedence of its fields.
	Ref Ref
	// SparseCheckout lists directories (relative to the repository root) to check out;
	// empty means everything. See Checkout.
	SparseCheckout []string
	// RecurseSubmodules also checks out submodules, with the same credentials.
	RecurseSubmodules bool
	// Guard, when set, refuses connections to the networks it names (at
	// dial time, redirects and SSH included).
	Guard *netguard.Guard
	// Timeout bounds the whole operation (listing, fetching, checking out); 0 means only
	// the context's deadline applies. Flux's default spec.timeout is 60s.
	Timeout time.Duration
	// MaxFetchSize, when positive, is the most bytes Checkout may write into its
	// directory (repository objects and working tree together); see Checkout.
	MaxFetchSize int64
	// LastRevision is the revision of the previous successful checkout, in Flux's format.
	// When the remote still resolves to it, Checkout returns without fetching (unless
	// Verify is set: a signature is checked on the objects, so they are always fetched).
	LastRevision string
	// Verify, when set, makes Checkout verify the OpenPGP signature of the commit and/or
	// the annotated tag before it writes the working tree; see Verification.
	Verify *Verification
}

// Signature is who made a commit, and when.
type Signature struct {
	Name  string
	Email string
	When  time.Time
}

// Commit describes the commit a Checkout produced.
type Commit struct {
	// Hash is the full commit hash.
	Hash string
	// Revision is Flux's revision string, e.g. "main@sha1:<hash>"; see FormatRevision.
	Revision string
	// Reference is the full reference name the commit was reached through
	// ("refs/heads/main", "refs/tags/v1.0.0", ...), or "" for a bare commit.
	Reference string
	// Message is the full commit message.
	Message   string
	Author    Signature
	Committer Signature
	// Unchanged is true when Checkout skipped the fetch because the remote still resolves
	// to Options.LastRevision; then only Hash, Revision and Reference are set and the
	// directory was not touched.
	Unchanged bool
	// Verified names the keys that signed the commit and tag, when Options.Verify was set.
	Verified *Verified
}

// ShortMessage returns the first line of the message, cut to 50 characters like Flux's
// event messages.
func (c *Commit) ShortMessage() string {
	subject, _, _ := strings.Cut(c.Message, "\n")
	if r := []rune(subject); len(r) > 50 {
		return string(r[:50]) + "..."
	}
	return subject
}

// session is one Resolve or Checkout: the parsed URL, the go-git auth method and the
// redactor for its errors.
type session struct {
	opts    Options
	url     string // without userinfo
	display string // for messages
	auth    transport.AuthMethod
	ssh     *sshAuth
	ca      []byte
	red     *redactor
	// sshDial ties SSH connections to the operation's context (see bindSSHDial); set when
	// the session may reach an SSH server. Pass it on through proxyFor.
	sshDial transport.ProxyOptions
}

// newSession validates opts and prepares the transport auth. ctx is the operation's
// context: its deadline bounds the SSH connect, every SSH connection is closed when it
// ends, and the caller must cancel it when the operation is over.
func newSession(ctx context.Context, opts Options) (*session, error) {
	u, err := parseURL(opts.URL)
	if err != nil {
		return nil, err
	}
	if err := opts.Ref.validate(); err != nil {
		return nil, err
	}
	if err := opts.Verify.validate(); err != nil {
		return nil, err
	}
	auth := opts.Auth
	if auth == nil && u.Scheme != "ssh" {
		// Anonymous, or the URL's userinfo.
		if auth, err = AuthFromSecret(opts.URL, nil); err != nil {
			return nil, err
		}
	}
	if auth != nil && auth.Scheme != "" && auth.Scheme != u.Scheme {
		return nil, fmt.Errorf("%w: credentials are for %s URLs, not %s", ErrInvalidSecret, auth.Scheme, u.Scheme)
	}
	urlPassword, _ := u.User.Password()
	s := &session{
		opts:    opts,
		url:     cleanURL(u),
		display: cleanURL(u),
		red:     newRedactor(auth, urlPassword),
	}
	installGuardedHTTP()
	if u.Scheme == "ssh" || opts.RecurseSubmodules || !opts.Guard.Empty() {
		// Submodules of an HTTP repository may still live on SSH servers.
		s.sshDial = bindSSHDial(ctx)
	}
	switch u.Scheme {
	case "ssh":
		deadline, _ := ctx.Deadline()
		if s.ssh, err = newSSHAuth(auth, u, deadline); err != nil {
			return nil, err
		}
		s.auth = s.ssh
	default:
		s.auth = auth.httpAuth()
		s.ca = auth.caBundle()
	}
	return s, nil
}

// operation is the context of one operation: opts.Timeout applied, and
// opts.Guard carried to every connection the operation makes.
func operation(ctx context.Context, opts Options) (context.Context, context.CancelFunc) {
	return withTimeout(netguard.WithContext(ctx, opts.Guard), opts.Timeout)
}

// withTimeout applies Options.Timeout to ctx.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return context.WithCancel(ctx)
}

// runBounded runs fn and returns its error, or ctx's error as soon as ctx ends. Network I/O
// follows ctx (HTTP requests carry it; SSH connections are closed when it ends, see
// bindSSHDial), but go-git's local work — decoding a pack, checking out the worktree —
// does not check it; fn then finishes in the background, and callers make sure it can no
// longer write anywhere (see limitFS.close).
func runBounded(ctx context.Context, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// proxyFor returns the proxy options for go-git operations on rawURL: the context-bound
// dialer for SSH URLs, none for the others.
func (s *session) proxyFor(rawURL string) transport.ProxyOptions {
	ep, err := transport.NewEndpoint(rawURL)
	if err != nil || ep.Protocol != "ssh" {
		return transport.ProxyOptions{}
	}
	return s.sshDial
}

// fail turns an error from go-git into one for users: it names the operation and URL,
// wraps the matching sentinel error, and strips credentials from the text.
func (s *session) fail(ctx context.Context, op string, err error) error {
	msg := s.red.wrap(err)
	switch {
	case s.ssh != nil && s.ssh.hostKeyFailed.Load():
		return fmt.Errorf("%s %s: %w: %w", op, s.display, ErrHostKey, msg)
	case ctx.Err() != nil:
		if s.opts.Timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%s %s: timed out after %s: %w", op, s.display, s.opts.Timeout, ctx.Err())
		}
		return fmt.Errorf("%s %s: %w", op, s.display, ctx.Err())
	case errors.Is(err, ErrFetchTooLarge), errors.Is(err, ErrReferenceNotFound), errors.Is(err, ErrInvalidSecret),
		errors.Is(err, ErrCommitSignature), errors.Is(err, ErrTagSignature):
		return fmt.Errorf("%s %s: %w", op, s.display, msg)
	case errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrInvalidAuthMethod),
		strings.Contains(err.Error(), "unable to authenticate"):
		return fmt.Errorf("%s %s: %w: %w", op, s.display, ErrAuthentication, msg)
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("%s %s: %w", op, s.display, ErrRepositoryNotFound)
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return fmt.Errorf("%s %s: %w: the repository is empty", op, s.display, ErrReferenceNotFound)
	case strings.Contains(err.Error(), "couldn't find remote ref"):
		return fmt.Errorf("%s %s: %w: %w", op, s.display, ErrReferenceNotFound, msg)
	}
	return fmt.Errorf("%s %s: %w", op, s.display, msg)
}

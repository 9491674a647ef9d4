package git

import (
	"errors"
	"regexp"
	"strings"
)

// Sentinel errors callers can test with errors.Is to pick a condition reason (Flux reports
// AuthenticationFailed for ErrAuthentication and GitOperationFailed for the rest).
var (
	// ErrAuthentication means the server refused the credentials, or asked for some and
	// none were given.
	ErrAuthentication = errors.New("authentication failed")
	// ErrHostKey means the SSH server's host key is not in the known_hosts data, or differs
	// from the key recorded there.
	ErrHostKey = errors.New("ssh host key verification failed")
	// ErrRepositoryNotFound means the server has no repository at the URL.
	ErrRepositoryNotFound = errors.New("repository not found")
	// ErrReferenceNotFound means the branch, tag, semver range, ref name or commit does not
	// resolve to a commit in the repository.
	ErrReferenceNotFound = errors.New("reference not found")
	// ErrFetchTooLarge means the checkout wrote more than Options.MaxFetchSize bytes.
	ErrFetchTooLarge = errors.New("fetch exceeds the maximum size")
	// ErrInvalidSecret means the secret data is incomplete or malformed for the URL's scheme.
	ErrInvalidSecret = errors.New("invalid git credentials secret")
)

// urlUserinfo matches the userinfo part of URLs ("scheme://user:pass@"), so that URLs
// echoed by go-git or net/http never carry credentials into a message.
var urlUserinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@'"]*@`)

// redactor removes credentials from error text: userinfo in URLs, and literal secret values
// (passwords, tokens, key passphrases) wherever they appear.
type redactor struct {
	secrets []string
}

// newRedactor returns a redactor for the secrets of auth (which may be nil) and any extra
// values, such as a password embedded in the URL.
func newRedactor(auth *Auth, extra ...string) *redactor {
	r := &redactor{}
	if auth != nil {
		extra = append(extra, auth.Password, auth.BearerToken)
	}
	for _, s := range extra {
		if s != "" {
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

// redact returns s without userinfo in URLs and with every secret value replaced by "***".
func (r *redactor) redact(s string) string {
	s = urlUserinfo.ReplaceAllString(s, "$1")
	if r == nil {
		return s
	}
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}

// wrap returns err with its message redacted. The result still matches the original chain
// with errors.Is and errors.As, but its Error text never includes credentials.
func (r *redactor) wrap(err error) error {
	if err == nil {
		return nil
	}
	// go-git copies HTTP response bodies into messages, trailing newline included.
	return &redactedError{err: err, msg: strings.TrimSpace(r.redact(err.Error()))}
}

// redactedError carries a cause whose message may contain credentials. It deliberately has
// no Unwrap method, so nothing can print the raw cause by unwrapping; Is and As still see it.
type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }

// Is reports whether the original cause chain matches target.
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// As finds the first error in the original cause chain that matches target.
func (e *redactedError) As(target any) bool { return errors.As(e.err, target) }

// StripUserinfo returns s with the userinfo of every URL in it removed, e.g.
// "https://user:pass@host/repo" becomes "https://host/repo".
func StripUserinfo(s string) string {
	return urlUserinfo.ReplaceAllString(s, "$1")
}

package notify

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Commit status states, as Flux maps events to them; each provider type
// translates them to its API's words.
const (
	stateSuccess = "success"
	stateFailure = "failure"
	statePending = "pending"
)

// commitStatus is what a commit status provider sets on a commit.
type commitStatus struct {
	sha         string
	state       string
	id          string // context (GitHub, Gitea), name (GitLab), key source (Bitbucket), context name (Azure)
	name        string // "<kind>/<name>"
	description string
}

// statusBuilder turns events into commit statuses, the same way for every
// commit status type.
type statusBuilder struct {
	kind        string
	providerUID string
	expr        *statusExpr
	// pending maps Progressing events to the pending state (Gitea) instead
	// of skipping them (the other types).
	pending bool
	// maxDescription is the API's limit on the description, in runes.
	maxDescription int
}

func newStatusBuilder(o *Options, pending bool, maxDescription int) (*statusBuilder, error) {
	expr, err := compileStatusExpr(o)
	if err != nil {
		return nil, err
	}
	return &statusBuilder{kind: o.Type, providerUID: o.ProviderUID, expr: expr, pending: pending, maxDescription: maxDescription}, nil
}

// build returns the status for e, or ok false when e sets none: it has
// no revision, or it is a Progressing event the type skips.
func (b *statusBuilder) build(e *Event) (cs commitStatus, ok bool, err error) {
	rev, found := eventRevision(e)
	if !found {
		return cs, false, nil
	}
	switch {
	case e.Reason == reasonProgressing && b.pending:
		cs.state = statePending
	case e.Reason == reasonProgressing:
		return cs, false, nil
	case e.Severity == SeverityInfo:
		cs.state = stateSuccess
	case e.Severity == SeverityError:
		cs.state = stateFailure
	default:
		return cs, false, fmt.Errorf("notify: %s: no commit status for severity %q", b.kind, e.Severity)
	}
	if cs.sha, err = commitSHA(rev); err != nil {
		return cs, false, fmt.Errorf("notify: %s: %w", b.kind, err)
	}
	cs.id = defaultCommitStatusID(b.providerUID, e)
	if b.expr != nil {
		if cs.id, err = b.expr.eval(e); err != nil {
			return cs, false, fmt.Errorf("notify: %s: commitStatusExpr: %w", b.kind, err)
		}
	}
	cs.name = commitStatusName(e)
	cs.description = truncate(commitStatusDescription(e), b.maxDescription)
	return cs, true, nil
}

// scpLike matches scp-style Git addresses: "git@github.com:org/repo.git".
var scpLike = regexp.MustCompile(`^(?:[^@/\s]+@)?([^:/\s]+):([^/].*)$`)

// gitRepository is a repository address split into the web base URL
// ("https://host[:port]") and the path ("org/repo"), without credentials
// and without a ".git" suffix.
type gitRepository struct {
	base string
	path string
}

// parseGitAddress reads an http(s), ssh or scp-style repository address.
// The error never quotes the address.
func parseGitAddress(o *Options) (gitRepository, error) {
	if o.Address == "" {
		return gitRepository{}, missing(o, "address (the repository URL)")
	}
	var scheme, host, p string
	if m := scpLike.FindStringSubmatch(o.Address); m != nil && !strings.Contains(o.Address, "://") {
		scheme, host, p = "https", m[1], m[2]
	} else {
		u, err := url.Parse(o.Address)
		if err != nil || u.Host == "" {
			return gitRepository{}, invalid(o, "address", "not a repository URL")
		}
		switch u.Scheme {
		case "http", "https":
			scheme = u.Scheme
			host = u.Host
		case "ssh":
			// The API is on the same host over HTTPS, not on the SSH port.
			scheme, host = "https", u.Hostname()
		default:
			return gitRepository{}, invalid(o, "address", "the scheme must be http, https or ssh")
		}
		p = u.Path
	}
	p = strings.TrimSuffix(strings.Trim(p, "/"), ".git")
	if p == "" {
		return gitRepository{}, invalid(o, "address", "the URL has no repository path")
	}
	return gitRepository{base: scheme + "://" + host, path: p}, nil
}

// ownerRepo splits "owner/repo", the only path shape GitHub, Gitea and
// Bitbucket accept.
func ownerRepo(o *Options, r gitRepository) (owner, repo string, err error) {
	parts := strings.Split(r.path, "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", invalid(o, "address", fmt.Sprintf("the repository path must be <owner>/<repository>, got %d segments", len(parts)))
	}
	return parts[0], parts[1], nil
}

package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// githubDescriptionLimit is the longest description GitHub accepts.
const githubDescriptionLimit = 140

// github sets GitHub commit statuses
// (POST /repos/{owner}/{repo}/statuses/{sha}) with Flux's context
// ("<kind>/<name>/<provider UID prefix>" or commitStatusExpr), states
// success and failure, and the reason as description; Progressing events
// are skipped. A status identical to the latest one of its context is not
// posted again. The address is the repository URL; hosts other than
// github.com are GitHub Enterprise Server (API under /api/v3).
type github struct {
	s           *sender
	api         string
	owner, repo string
	token       string
	statuses    *statusBuilder
}

func newGitHub(o *Options) (Notifier, error) {
	api, owner, repo, err := githubRepository(o)
	if err != nil {
		return nil, err
	}
	b, err := newStatusBuilder(o, false, githubDescriptionLimit)
	if err != nil {
		return nil, err
	}
	return &github{s: newSender(o), api: api, owner: owner, repo: repo, token: o.Token, statuses: b}, nil
}

// githubRepository reads the repository address and token of github and
// githubdispatch.
func githubRepository(o *Options) (api, owner, repo string, err error) {
	if o.Token == "" {
		return "", "", "", missing(o, `token (a GitHub token, Secret key "token")`)
	}
	r, err := parseGitAddress(o)
	if err != nil {
		return "", "", "", err
	}
	owner, repo, err = ownerRepo(o, r)
	if err != nil {
		return "", "", "", err
	}
	return githubAPIBase(r.base), owner, repo, nil
}

// githubAPIBase is the REST API root for a repository host.
func githubAPIBase(base string) string {
	u, err := url.Parse(base)
	if err == nil && (strings.EqualFold(u.Host, "github.com") || strings.EqualFold(u.Host, "www.github.com")) {
		return "https://api.github.com"
	}
	return base + "/api/v3"
}

// githubHeader is the auth and media type of GitHub REST calls.
func githubHeader(token string) http.Header {
	h := bearer(token)
	h.Set("Accept", "application/vnd.github+json")
	h.Set("X-GitHub-Api-Version", "2022-11-28")
	return h
}

type githubStatus struct {
	State       string `json:"state"`
	Context     string `json:"context"`
	Description string `json:"description"`
}

func (n *github) Post(ctx context.Context, e Event) error {
	cs, ok, err := n.statuses.build(&e)
	if err != nil || !ok {
		return err
	}
	status := githubStatus{State: cs.state, Context: cs.id, Description: cs.description}
	repo := n.api + "/repos/" + url.PathEscape(n.owner) + "/" + url.PathEscape(n.repo)
	var latest []githubStatus
	found, err := n.s.getJSON(ctx, "list commit statuses",
		fmt.Sprintf("%s/commits/%s/statuses?per_page=50", repo, cs.sha), githubHeader(n.token), &latest)
	if err != nil {
		return err
	}
	if found {
		// GitHub lists newest first: the first of the context is current.
		for _, s := range latest {
			if s.Context == status.Context {
				if s == status {
					return nil
				}
				break
			}
		}
	}
	_, err = n.s.postJSON(ctx, "create commit status", repo+"/statuses/"+cs.sha, status, githubHeader(n.token))
	return err
}

package notify

import (
	"context"
	"net/http"
	"net/url"
)

// gitea sets Gitea (and Forgejo) commit statuses (POST
// /api/v1/repos/{owner}/{repo}/statuses/{sha}, "token" auth) with Flux's
// context, states success and failure, and pending for Progressing
// events, as Flux does for Gitea; a status identical to the latest one of
// its context is not posted again.
type gitea struct {
	s        *sender
	repo     string
	token    string
	statuses *statusBuilder
}

func newGitea(o *Options) (Notifier, error) {
	if o.Token == "" {
		return nil, missing(o, `token (a Gitea token, Secret key "token")`)
	}
	r, err := parseGitAddress(o)
	if err != nil {
		return nil, err
	}
	owner, repo, err := ownerRepo(o, r)
	if err != nil {
		return nil, err
	}
	b, err := newStatusBuilder(o, true, statusDescriptionLimit)
	if err != nil {
		return nil, err
	}
	return &gitea{s: newSender(o), repo: r.base + "/api/v1/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo),
		token: o.Token, statuses: b}, nil
}

// giteaStatus is a listed status; Gitea names the state "status" there.
type giteaStatus struct {
	Status      string `json:"status"`
	Context     string `json:"context"`
	Description string `json:"description"`
}

type giteaCreateStatus struct {
	State       string `json:"state"`
	Context     string `json:"context"`
	Description string `json:"description"`
	TargetURL   string `json:"target_url"`
}

func (n *gitea) Post(ctx context.Context, e Event) error {
	cs, ok, err := n.statuses.build(&e)
	if err != nil || !ok {
		return err
	}
	h := http.Header{}
	h.Set("Authorization", "token "+n.token)
	target := n.repo + "/statuses/" + cs.sha
	var latest []giteaStatus
	found, err := n.s.getJSON(ctx, "list commit statuses", target+"?limit=50", h, &latest)
	if err != nil {
		return err
	}
	if found {
		for _, s := range latest {
			if s.Context == cs.id {
				if s.Status == cs.state && s.Description == cs.description {
					return nil
				}
				break
			}
		}
	}
	_, err = n.s.postJSON(ctx, "create commit status", target,
		giteaCreateStatus{State: cs.state, Context: cs.id, Description: cs.description}, h)
	return err
}

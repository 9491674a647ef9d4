package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// statusDescriptionLimit bounds descriptions for the hosts without a
// documented, smaller limit.
const statusDescriptionLimit = 255

// gitlab sets GitLab commit statuses (POST
// /api/v4/projects/{id}/statuses/{sha}, PRIVATE-TOKEN auth): name is
// Flux's commit status ID, state success or failed, the reason as
// description; Progressing events are skipped, and so is a status equal
// to an existing one. The address is the project URL; its path (groups
// included) or a numeric project ID is the project.
type gitlab struct {
	s        *sender
	project  string
	token    string
	statuses *statusBuilder
}

func newGitLab(o *Options) (Notifier, error) {
	if o.Token == "" {
		return nil, missing(o, `token (a GitLab access token, Secret key "token")`)
	}
	r, err := parseGitAddress(o)
	if err != nil {
		return nil, err
	}
	b, err := newStatusBuilder(o, false, statusDescriptionLimit)
	if err != nil {
		return nil, err
	}
	// The project path is one URL-encoded path segment ("group%2Frepo").
	project := r.base + "/api/v4/projects/" + url.PathEscape(r.path)
	return &gitlab{s: newSender(o), project: project, token: o.Token, statuses: b}, nil
}

type gitlabStatus struct {
	Status      string `json:"status"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

type gitlabSetStatus struct {
	State       string `json:"state"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (n *gitlab) Post(ctx context.Context, e Event) error {
	cs, ok, err := n.statuses.build(&e)
	if err != nil || !ok {
		return err
	}
	state := map[string]string{stateSuccess: "success", stateFailure: "failed", statePending: "pending"}[cs.state]
	h := http.Header{}
	h.Set("PRIVATE-TOKEN", n.token)
	var existing []gitlabStatus
	found, err := n.s.getJSON(ctx, "list commit statuses", fmt.Sprintf("%s/repository/commits/%s/statuses?name=%s",
		n.project, cs.sha, url.QueryEscape(cs.id)), h, &existing)
	if err != nil {
		return err
	}
	if found {
		for _, s := range existing {
			if s.Name == cs.id && s.Status == state && s.Description == cs.description {
				return nil
			}
		}
	}
	_, err = n.s.postJSON(ctx, "set commit status", n.project+"/statuses/"+cs.sha,
		gitlabSetStatus{State: state, Name: cs.id, Description: cs.description}, h)
	return err
}

package notify

import (
	"context"
	"net/url"
)

// githubdispatch sends a repository_dispatch event to the repository in the
// address (POST /repos/{owner}/{repo}/dispatches), as Flux does: event_type
// "<Kind>/<name>.<namespace>" and the Event as client_payload. Commit
// status update events (metadata commit_status=update) are skipped.
type githubdispatch struct {
	s      *sender
	target string
	token  string
}

func newGitHubDispatch(o *Options) (Notifier, error) {
	api, owner, repo, err := githubRepository(o)
	if err != nil {
		return nil, err
	}
	target := api + "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/dispatches"
	return &githubdispatch{s: newSender(o), target: target, token: o.Token}, nil
}

type githubDispatch struct {
	EventType     string `json:"event_type"`
	ClientPayload Event  `json:"client_payload"`
}

func (n *githubdispatch) Post(ctx context.Context, e Event) error {
	if e.Metadata["commit_status"] == "update" {
		return nil
	}
	o := e.InvolvedObject
	payload := githubDispatch{EventType: o.Kind + "/" + o.Name + "." + o.Namespace, ClientPayload: e}
	_, err := n.s.postJSON(ctx, "create repository dispatch", n.target, payload, githubHeader(n.token))
	return err
}

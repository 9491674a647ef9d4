package notify

import (
	"context"
	"net/url"
	"strings"
)

// azureGenre is the genre of Flux's Azure DevOps status contexts.
const azureGenre = "fluxcd"

// azuredevops sets Azure DevOps Git commit statuses (POST
// {org}/{project}/_apis/git/repositories/{repo}/commits/{sha}/statuses,
// basic auth with a personal access token), as Flux does: context genre
// "fluxcd" and name Flux's commit status ID, states succeeded and error,
// the reason as description; Progressing events are skipped, and a status
// equal to the latest of its context is not posted again. The address is
// https://dev.azure.com/{org}/{project}/_git/{repo} (or
// https://{org}.visualstudio.com/{project}/_git/{repo}).
type azuredevops struct {
	s        *sender
	commits  string
	token    string
	statuses *statusBuilder
}

func newAzureDevOps(o *Options) (Notifier, error) {
	if o.Token == "" {
		return nil, missing(o, `token (a personal access token, Secret key "token")`)
	}
	r, err := parseGitAddress(o)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(r.path, "/")
	var prefix, project, repo string
	switch {
	case len(parts) == 4 && parts[2] == "_git":
		prefix, project, repo = "/"+url.PathEscape(parts[0]), parts[1], parts[3]
	case len(parts) == 3 && parts[1] == "_git":
		project, repo = parts[0], parts[2]
	default:
		return nil, invalid(o, "address", "it must be https://dev.azure.com/<organization>/<project>/_git/<repository>")
	}
	b, err := newStatusBuilder(o, false, statusDescriptionLimit)
	if err != nil {
		return nil, err
	}
	commits := r.base + prefix + "/" + url.PathEscape(project) + "/_apis/git/repositories/" + url.PathEscape(repo) + "/commits/"
	return &azuredevops{s: newSender(o), commits: commits, token: o.Token, statuses: b}, nil
}

type azureContext struct {
	Name  string `json:"name"`
	Genre string `json:"genre"`
}

type azureStatus struct {
	State       string       `json:"state"`
	Description string       `json:"description"`
	Context     azureContext `json:"context"`
}

var azureState = map[string]string{stateSuccess: "succeeded", stateFailure: "error", statePending: "pending"}

func (n *azuredevops) Post(ctx context.Context, e Event) error {
	cs, ok, err := n.statuses.build(&e)
	if err != nil || !ok {
		return err
	}
	status := azureStatus{State: azureState[cs.state], Description: cs.description,
		Context: azureContext{Name: cs.id, Genre: azureGenre}}
	target := n.commits + cs.sha + "/statuses?api-version=6.0"
	h := basicAuth("", n.token)
	var listed struct {
		Value []azureStatus `json:"value"`
	}
	found, err := n.s.getJSON(ctx, "list commit statuses", target, h, &listed)
	if err != nil {
		return err
	}
	if found {
		for _, s := range listed.Value {
			if s.Context == status.Context {
				if s.State == status.State && s.Description == status.Description {
					return nil
				}
				break
			}
		}
	}
	_, err = n.s.postJSON(ctx, "create commit status", target, status, h)
	return err
}

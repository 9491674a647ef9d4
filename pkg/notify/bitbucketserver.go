package notify

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// bitbucketserver sets Bitbucket Server / Data Center build statuses (POST
// <context>/rest/api/latest/projects/{project}/repos/{repo}/commits/{sha}/builds)
// with a bearer HTTP access token or basic auth, as Flux does: the key is
// the SHA-1 of Flux's commit status ID, the name "<kind>/<name>
// [<description>]", states SUCCESSFUL and FAILED, the repository as URL;
// Progressing events are skipped, and a status equal to the current one
// of its key is not posted again. The address must be the HTTP(S) clone
// URL (".../scm/<project>/<repo>.git").
type bitbucketserver struct {
	s        *sender
	commits  string
	web      string
	header   http.Header
	statuses *statusBuilder
}

func newBitbucketServer(o *Options) (Notifier, error) {
	var h http.Header
	switch {
	case o.Token != "":
		h = bearer(o.Token)
	case o.Username != "" && o.Password != "":
		h = basicAuth(o.Username, o.Password)
	default:
		return nil, missing(o, `a token, or a username and password (Secret keys "token", "username", "password"),`)
	}
	u, err := parseHTTPAddress(o, o.Address)
	if err != nil {
		return nil, err
	}
	p := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), ".git")
	i := strings.LastIndex(p, "/scm/")
	if i < 0 {
		return nil, invalid(o, "address", "it must be the HTTP(S) clone URL, with /scm/<project>/<repository>")
	}
	parts := strings.Split(p[i+len("/scm/"):], "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return nil, invalid(o, "address", "the path after /scm/ must be <project>/<repository>")
	}
	b, err := newStatusBuilder(o, false, statusDescriptionLimit)
	if err != nil {
		return nil, err
	}
	h.Set("X-Atlassian-Token", "no-check")
	h.Set("X-Requested-With", "XMLHttpRequest")
	base := u.Scheme + "://" + u.Host + p[:i]
	return &bitbucketserver{
		s:       newSender(o),
		commits: base + "/rest/api/latest/projects/" + url.PathEscape(parts[0]) + "/repos/" + url.PathEscape(parts[1]) + "/commits",
		web:     u.Scheme + "://" + u.Host + u.Path,
		header:  h, statuses: b,
	}, nil
}

type bbServerStatus struct {
	Key         string `json:"key"`
	State       string `json:"state"`
	Name        string `json:"name"`
	Description string `json:"description"`
	URL         string `json:"url"`
}

func (n *bitbucketserver) Post(ctx context.Context, e Event) error {
	cs, ok, err := n.statuses.build(&e)
	if err != nil || !ok {
		return err
	}
	status := bbServerStatus{Key: sha1Hex(cs.id), State: bitbucketState[cs.state],
		Name: cs.name + " [" + cs.description + "]", Description: cs.description, URL: n.web}
	builds := n.commits + "/" + cs.sha + "/builds"
	var current bbServerStatus
	found, err := n.s.getJSON(ctx, "get build status", builds+"?key="+url.QueryEscape(status.Key), n.header, &current)
	if err != nil {
		return err
	}
	if found && current.Key == status.Key && current.State == status.State &&
		current.Name == status.Name && current.Description == status.Description {
		return nil
	}
	_, err = n.s.postJSON(ctx, "create build status", builds, status, n.header)
	return err
}

package notify

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"net/url"
	"strings"
)

// bitbucket sets Bitbucket Cloud build statuses (POST
// /2.0/repositories/{workspace}/{repo}/commit/{sha}/statuses/build) with
// basic auth from a "<username>:<app password>" token, as Flux does: the
// key is the SHA-1 of Flux's commit status ID (Bitbucket keys hold at
// most 40 characters), the name "<kind>/<name>", states SUCCESSFUL and
// FAILED; Progressing events are skipped, and a status equal to the
// current one of its key is not posted again. The API of bitbucket.org is
// api.bitbucket.org; another host is taken as serving /2.0 itself.
type bitbucket struct {
	s                  *sender
	repo               string
	web                string
	username, password string
	statuses           *statusBuilder
}

func newBitbucket(o *Options) (Notifier, error) {
	user, password, ok := strings.Cut(o.Token, ":")
	if o.Token == "" || !ok || user == "" || password == "" {
		return nil, missing(o, `token in the form <username>:<app password> (Secret key "token")`)
	}
	r, err := parseGitAddress(o)
	if err != nil {
		return nil, err
	}
	owner, repo, err := ownerRepo(o, r)
	if err != nil {
		return nil, err
	}
	b, err := newStatusBuilder(o, false, statusDescriptionLimit)
	if err != nil {
		return nil, err
	}
	api := r.base + "/2.0"
	if u, err := url.Parse(r.base); err == nil && strings.EqualFold(u.Host, "bitbucket.org") {
		api = "https://api.bitbucket.org/2.0"
	}
	return &bitbucket{
		s:        newSender(o),
		repo:     api + "/repositories/" + url.PathEscape(owner) + "/" + url.PathEscape(repo),
		web:      r.base + "/" + r.path,
		username: user, password: password,
		statuses: b,
	}, nil
}

type bitbucketStatus struct {
	State       string `json:"state"`
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	URL         string `json:"url"`
}

// bitbucketState maps Flux's states to Bitbucket's (Cloud and Server).
var bitbucketState = map[string]string{stateSuccess: "SUCCESSFUL", stateFailure: "FAILED", statePending: "INPROGRESS"}

// sha1Hex is the 40-character key Bitbucket takes for a commit status ID.
func sha1Hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (n *bitbucket) Post(ctx context.Context, e Event) error {
	cs, ok, err := n.statuses.build(&e)
	if err != nil || !ok {
		return err
	}
	status := bitbucketStatus{State: bitbucketState[cs.state], Key: sha1Hex(cs.id), Name: cs.name,
		Description: cs.description, URL: n.web}
	h := basicAuth(n.username, n.password)
	builds := n.repo + "/commit/" + cs.sha + "/statuses/build"
	var current bitbucketStatus
	found, err := n.s.getJSON(ctx, "get commit status", builds+"/"+status.Key, h, &current)
	if err != nil {
		return err
	}
	if found && current.State == status.State && current.Description == status.Description {
		return nil
	}
	_, err = n.s.postJSON(ctx, "create commit status", builds, status, h)
	return err
}

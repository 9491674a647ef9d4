package notify

import (
	"context"
	"path"
	"strings"
)

// discord posts Flux's Slack message to the Slack-compatible endpoint of a
// Discord webhook (the address with "/slack" appended). The channel is
// fixed by the webhook.
type discord struct {
	s        *sender
	url      string
	username string
}

func newDiscord(o *Options) (Notifier, error) {
	u, err := parseHTTPAddress(o, o.Address)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(u.Path, "/slack") {
		u.Path = path.Join(u.Path, "slack")
		u.RawPath = ""
	}
	return &discord{s: newSender(o), url: u.String(), username: o.Username}, nil
}

func (n *discord) Post(ctx context.Context, e Event) error {
	username := n.username
	if username == "" {
		username = e.ReportingController
	}
	_, err := n.s.postJSON(ctx, "post message", n.url, slackMessage(&e, "", username, "good", "danger"), nil)
	return err
}

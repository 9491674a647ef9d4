package notify

import "context"

// rocket posts Flux's Slack message to a Rocket.Chat incoming webhook, with
// Flux's Rocket colors; channel and username are sent only when set.
type rocket struct {
	s                 *sender
	url               string
	channel, username string
}

func newRocket(o *Options) (Notifier, error) {
	u, err := parseHTTPAddress(o, o.Address)
	if err != nil {
		return nil, err
	}
	return &rocket{s: newSender(o), url: u.String(), channel: o.Channel, username: o.Username}, nil
}

func (n *rocket) Post(ctx context.Context, e Event) error {
	payload := slackMessage(&e, n.channel, n.username, "#0076D7", "#FF0000")
	_, err := n.s.postJSON(ctx, "post message", n.url, payload, nil)
	return err
}

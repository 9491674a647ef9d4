package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// slackPayload is Flux's Slack message: one attachment per event, with the
// involved object as author, the message as text, the metadata as fields
// and the severity as color. Discord (through its /slack endpoint) and
// Rocket.Chat take the same shape.
type slackPayload struct {
	Channel     string            `json:"channel,omitempty"`
	Username    string            `json:"username,omitempty"`
	IconURL     string            `json:"icon_url,omitempty"`
	IconEmoji   string            `json:"icon_emoji,omitempty"`
	Text        string            `json:"text,omitempty"`
	Attachments []slackAttachment `json:"attachments"`
}

type slackAttachment struct {
	Color      string       `json:"color"`
	AuthorName string       `json:"author_name"`
	Text       string       `json:"text"`
	MrkdwnIn   []string     `json:"mrkdwn_in"`
	Fields     []slackField `json:"fields"`
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

// slackMessage builds the payload with the given attachment colors.
func slackMessage(e *Event, channel, username, infoColor, errorColor string) slackPayload {
	color := infoColor
	if isError(e) {
		color = errorColor
	}
	fields := make([]slackField, 0, len(e.Metadata))
	for _, k := range sortedKeys(e.Metadata) {
		fields = append(fields, slackField{Title: k, Value: e.Metadata[k]})
	}
	return slackPayload{
		Channel:  channel,
		Username: username,
		Attachments: []slackAttachment{{
			Color:      color,
			AuthorName: objectName(e),
			Text:       e.Message,
			MrkdwnIn:   []string{"text"},
			Fields:     fields,
		}},
	}
}

// slackAPIPath is the Web API method Flux recognises in the address; any
// other address is an incoming webhook.
const slackAPIPath = "/api/chat.postMessage"

// slack sends to an incoming webhook, or to the chat.postMessage Web API
// with a bot token (which answers 200 with {"ok": false} on failure).
type slack struct {
	s                 *sender
	url               string
	token             string
	channel, username string
	api               bool
}

func newSlack(o *Options) (Notifier, error) {
	u, err := parseHTTPAddress(o, o.Address)
	if err != nil {
		return nil, err
	}
	n := &slack{s: newSender(o), url: u.String(), token: o.Token, channel: o.Channel, username: o.Username,
		api: strings.HasSuffix(u.Path, slackAPIPath)}
	if n.api && o.Token == "" {
		return nil, missing(o, `token (a bot token in Secret key "token", for chat.postMessage)`)
	}
	if n.api && o.Channel == "" {
		return nil, missing(o, "channel (for chat.postMessage)")
	}
	return n, nil
}

func (n *slack) Post(ctx context.Context, e Event) error {
	username := n.username
	if username == "" {
		username = e.ReportingController
	}
	payload := slackMessage(&e, n.channel, username, "good", "danger")
	var h http.Header
	if n.token != "" {
		h = bearer(n.token)
	}
	resp, err := n.s.postJSON(ctx, "post message", n.url, payload, h)
	if err != nil || !n.api {
		return err
	}
	var answer struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(resp.body, &answer); err != nil {
		return n.s.errorf("post message", n.url, "the answer is not Slack API JSON%s", n.s.snippet(resp.body))
	}
	if !answer.OK {
		return n.s.errorf("post message", n.url, "Slack answered error %q", answer.Error)
	}
	return nil
}

package notify

import (
	"context"
	"fmt"
	"strings"
)

// webexDefaultAddress is Webex's create-message endpoint.
const webexDefaultAddress = "https://webexapis.com/v1/messages"

// webex creates a Webex message in the room named by the channel, with a
// bot token, as markdown: Flux's heading, message and quoted metadata.
type webex struct {
	s      *sender
	url    string
	token  string
	roomID string
}

func newWebex(o *Options) (Notifier, error) {
	address := o.Address
	if address == "" {
		address = webexDefaultAddress
	}
	u, err := parseHTTPAddress(o, address)
	if err != nil {
		return nil, err
	}
	if o.Channel == "" {
		return nil, missing(o, "channel (the Webex room ID)")
	}
	if o.Token == "" {
		return nil, missing(o, `token (a bot access token, Secret key "token")`)
	}
	return &webex{s: newSender(o), url: u.String(), token: o.Token, roomID: o.Channel}, nil
}

type webexPayload struct {
	RoomID   string `json:"roomId"`
	Markdown string `json:"markdown"`
}

func (n *webex) Post(ctx context.Context, e Event) error {
	var b strings.Builder
	mark := "✅"
	if isError(&e) {
		mark = "💣"
	}
	fmt.Fprintf(&b, "%s **%s**\n%s\n", mark, objectName(&e), e.Message)
	for _, k := range sortedKeys(e.Metadata) {
		fmt.Fprintf(&b, ">**%s**: %s\n", k, e.Metadata[k])
	}
	_, err := n.s.postJSON(ctx, "create message", n.url, webexPayload{RoomID: n.roomID, Markdown: b.String()}, bearer(n.token))
	return err
}

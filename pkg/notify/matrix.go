package notify

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// matrix sends an m.room.message text event to the room named by the
// channel, with an access token, as Flux does: PUT
// <address>/_matrix/client/r0/rooms/<room>/send/m.room.message/<txn>, the
// transaction ID being the SHA-1 of the event JSON (so a resent event is
// deduplicated by the homeserver).
type matrix struct {
	s     *sender
	base  *url.URL
	token string
	room  string
}

func newMatrix(o *Options) (Notifier, error) {
	u, err := parseHTTPAddress(o, o.Address)
	if err != nil {
		return nil, err
	}
	if o.Channel == "" {
		return nil, missing(o, "channel (the room ID)")
	}
	if o.Token == "" {
		return nil, missing(o, `token (an access token, Secret key "token")`)
	}
	return &matrix{s: newSender(o), base: u, token: o.Token, room: o.Channel}, nil
}

type matrixPayload struct {
	MsgType string `json:"msgtype"`
	Body    string `json:"body"`
}

func (n *matrix) Post(ctx context.Context, e Event) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("notify: matrix: encoding event: %w", err)
	}
	sum := sha1.Sum(raw)
	target := n.base.JoinPath("_matrix/client/r0/rooms", url.PathEscape(n.room),
		"send/m.room.message", hex.EncodeToString(sum[:])).String()
	text := fmt.Sprintf("%s %s\n%s\n%s", emoji(&e), objectName(&e), e.Message, metadataLines(e.Metadata, "- "))
	body, err := json.Marshal(matrixPayload{MsgType: "m.text", Body: text})
	if err != nil {
		return fmt.Errorf("notify: matrix: encoding message: %w", err)
	}
	_, err = n.s.do(ctx, call{op: "send message", method: http.MethodPut, url: target, body: body,
		header: jsonHeader(bearer(n.token))})
	return err
}

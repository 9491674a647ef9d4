package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// lark posts Flux's Lark (Feishu) interactive card to a custom bot webhook:
// a colored header with the object name, and the message in bold followed
// by the metadata. Lark answers 200 with a non-zero "code" on failure.
type lark struct {
	s   *sender
	url string
}

func newLark(o *Options) (Notifier, error) {
	u, err := parseHTTPAddress(o, o.Address)
	if err != nil {
		return nil, err
	}
	return &lark{s: newSender(o), url: u.String()}, nil
}

type larkPayload struct {
	MsgType string   `json:"msg_type"`
	Card    larkCard `json:"card"`
}

type larkCard struct {
	Config   larkConfig    `json:"config"`
	Header   larkHeader    `json:"header"`
	Elements []larkElement `json:"elements"`
}

type larkConfig struct {
	WideScreenMode bool `json:"wide_screen_mode"`
}

type larkHeader struct {
	Title    larkText `json:"title"`
	Template string   `json:"template"`
}

type larkElement struct {
	Tag  string   `json:"tag"`
	Text larkText `json:"text"`
}

type larkText struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

func (n *lark) Post(ctx context.Context, e Event) error {
	color := "turquoise"
	if isError(&e) {
		color = "red"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n\n", e.Message)
	b.WriteString(metadataLines(e.Metadata, ""))
	payload := larkPayload{
		MsgType: "interactive",
		Card: larkCard{
			Config: larkConfig{WideScreenMode: true},
			Header: larkHeader{
				Title:    larkText{Tag: "plain_text", Content: emoji(&e) + " " + objectName(&e)},
				Template: color,
			},
			Elements: []larkElement{{Tag: "div", Text: larkText{Tag: "lark_md", Content: b.String()}}},
		},
	}
	resp, err := n.s.postJSON(ctx, "post message", n.url, payload, nil)
	if err != nil {
		return err
	}
	var answer struct {
		Code *int   `json:"code"`
		Msg  string `json:"msg"`
	}
	if json.Unmarshal(resp.body, &answer) == nil && answer.Code != nil && *answer.Code != 0 {
		return n.s.errorf("post message", n.url, "Lark answered code %d: %q", *answer.Code, n.s.redact.apply(answer.Msg))
	}
	return nil
}

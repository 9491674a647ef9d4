package notify

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// telegramDefaultAddress is the Bot API server.
const telegramDefaultAddress = "https://api.telegram.org"

// telegram calls the Bot API's sendMessage (<address>/bot<token>/sendMessage)
// with the channel as chat_id ("<chat>:<thread>" also sets
// message_thread_id) and Flux's MarkdownV2 text.
type telegram struct {
	s            *sender
	url          string
	chat, thread string
}

func newTelegram(o *Options) (Notifier, error) {
	address := o.Address
	if address == "" {
		address = telegramDefaultAddress
	}
	u, err := parseHTTPAddress(o, address)
	if err != nil {
		return nil, err
	}
	if o.Channel == "" {
		return nil, missing(o, "channel (the chat ID or @channel)")
	}
	if o.Token == "" {
		return nil, missing(o, `token (the bot token, Secret key "token")`)
	}
	chat, thread, _ := strings.Cut(o.Channel, ":")
	target := u.JoinPath(url.PathEscape("bot"+o.Token), "sendMessage")
	return &telegram{s: newSender(o), url: target.String(), chat: chat, thread: thread}, nil
}

type telegramPayload struct {
	ChatID          string `json:"chat_id"`
	MessageThreadID string `json:"message_thread_id,omitempty"`
	Text            string `json:"text"`
	ParseMode       string `json:"parse_mode"`
}

func (n *telegram) Post(ctx context.Context, e Event) error {
	o := e.InvolvedObject
	heading := fmt.Sprintf("%s %s/%s/%s", emoji(&e), strings.ToLower(o.Kind), o.Name, o.Namespace)
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*\n%s\n", escapeMarkdownV2(heading), escapeMarkdownV2(e.Message))
	for _, k := range sortedKeys(e.Metadata) {
		fmt.Fprintf(&b, "\\- *%s*: %s\n", escapeMarkdownV2(k), escapeMarkdownV2(e.Metadata[k]))
	}
	payload := telegramPayload{ChatID: n.chat, MessageThreadID: n.thread, Text: b.String(), ParseMode: "MarkdownV2"}
	_, err := n.s.postJSON(ctx, "send message", n.url, payload, nil)
	return err
}

// escapeMarkdownV2 escapes the characters MarkdownV2 reserves
// (https://core.telegram.org/bots/api#markdownv2-style).
func escapeMarkdownV2(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\_*[]()~`>#+-=|{}.!", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

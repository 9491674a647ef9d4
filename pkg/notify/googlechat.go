package notify

import (
	"context"
	"fmt"
)

// googlechat posts Flux's Google Chat card (cards v1): the object name and
// reporting controller as header, the message (red for errors) as a text
// paragraph, and the metadata as key-value widgets.
type googlechat struct {
	s   *sender
	url string
}

func newGoogleChat(o *Options) (Notifier, error) {
	u, err := parseHTTPAddress(o, o.Address)
	if err != nil {
		return nil, err
	}
	return &googlechat{s: newSender(o), url: u.String()}, nil
}

type chatPayload struct {
	Cards []chatCard `json:"cards"`
}

type chatCard struct {
	Header   chatHeader    `json:"header"`
	Sections []chatSection `json:"sections"`
}

type chatHeader struct {
	Title    string `json:"title"`
	Subtitle string `json:"subtitle"`
}

type chatSection struct {
	Widgets []chatWidget `json:"widgets"`
}

type chatWidget struct {
	TextParagraph *chatText     `json:"textParagraph,omitempty"`
	KeyValue      *chatKeyValue `json:"keyValue,omitempty"`
}

type chatText struct {
	Text string `json:"text"`
}

type chatKeyValue struct {
	TopLabel         string `json:"topLabel"`
	Content          string `json:"content"`
	ContentMultiline bool   `json:"contentMultiline"`
}

func (n *googlechat) Post(ctx context.Context, e Event) error {
	text := e.Message
	if isError(&e) {
		text = fmt.Sprintf(`<font color="#ff0000">%s</font>`, e.Message)
	}
	sections := []chatSection{{Widgets: []chatWidget{{TextParagraph: &chatText{Text: text}}}}}
	if len(e.Metadata) > 0 {
		var kv []chatWidget
		for _, k := range sortedKeys(e.Metadata) {
			kv = append(kv, chatWidget{KeyValue: &chatKeyValue{TopLabel: k, Content: e.Metadata[k]}})
		}
		sections = append(sections, chatSection{Widgets: kv})
	}
	payload := chatPayload{Cards: []chatCard{{
		Header:   chatHeader{Title: objectName(&e), Subtitle: e.ReportingController},
		Sections: sections,
	}}}
	_, err := n.s.postJSON(ctx, "post message", n.url, payload, nil)
	return err
}

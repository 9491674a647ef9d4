package notify

import (
	"context"
	"strings"
)

// msteams posts to a Teams workflow (Power Automate) webhook as an
// Adaptive Card (version 1.4, the highest Teams renders), or, when the
// host ends in ".webhook.office.com", to a retired Office 365 connector as
// a legacy MessageCard: Flux's two formats.
type msteams struct {
	s           *sender
	url         string
	messageCard bool
}

func newMSTeams(o *Options) (Notifier, error) {
	u, err := parseHTTPAddress(o, o.Address)
	if err != nil {
		return nil, err
	}
	return &msteams{s: newSender(o), url: u.String(),
		messageCard: strings.HasSuffix(u.Hostname(), ".webhook.office.com")}, nil
}

func (n *msteams) Post(ctx context.Context, e Event) error {
	var payload any = adaptiveCardMessage(&e)
	if n.messageCard {
		payload = messageCard(&e)
	}
	_, err := n.s.postJSON(ctx, "post message", n.url, payload, nil)
	return err
}

// Adaptive Card message, as Teams incoming webhooks take it.
type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	Content     teamsCard `json:"content"`
}

type teamsCard struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	Body    []teamsElement `json:"body"`
	MSTeams teamsWidth     `json:"msteams"`
}

type teamsWidth struct {
	Width string `json:"width"`
}

// teamsElement is a Container, TextBlock or FactSet.
type teamsElement struct {
	Type   string         `json:"type"`
	Items  []teamsElement `json:"items,omitempty"`
	Text   string         `json:"text,omitempty"`
	Size   string         `json:"size,omitempty"`
	Weight string         `json:"weight,omitempty"`
	Color  string         `json:"color,omitempty"`
	Wrap   bool           `json:"wrap,omitempty"`
	Facts  []teamsFact    `json:"facts,omitempty"`
}

type teamsFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// adaptiveCardMessage puts the object name as a large title, the message
// (red for errors), then the metadata as facts with "summary" first.
func adaptiveCardMessage(e *Event) teamsMessage {
	text := teamsElement{Type: "TextBlock", Text: e.Message, Wrap: true}
	if isError(e) {
		text.Color = "attention"
	}
	var facts []teamsFact
	if s, ok := e.Metadata["summary"]; ok {
		facts = append(facts, teamsFact{Title: "summary", Value: s})
	}
	for _, k := range sortedKeys(e.Metadata) {
		if k != "summary" {
			facts = append(facts, teamsFact{Title: k, Value: e.Metadata[k]})
		}
	}
	items := []teamsElement{
		{Type: "TextBlock", Text: objectName(e), Size: "large", Weight: "bolder", Wrap: true},
		text,
	}
	if len(facts) > 0 {
		items = append(items, teamsElement{Type: "FactSet", Facts: facts})
	}
	return teamsMessage{
		Type: "message",
		Attachments: []teamsAttachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content: teamsCard{
				Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
				Type:    "AdaptiveCard",
				Version: "1.4",
				Body:    []teamsElement{{Type: "Container", Items: items}},
				MSTeams: teamsWidth{Width: "Full"},
			},
		}},
	}
}

// Legacy Office 365 connector card.
type teamsMessageCard struct {
	Type       string         `json:"@type"`
	Context    string         `json:"@context"`
	ThemeColor string         `json:"themeColor"`
	Summary    string         `json:"summary"`
	Sections   []teamsSection `json:"sections"`
}

type teamsSection struct {
	ActivityTitle    string      `json:"activityTitle"`
	ActivitySubtitle string      `json:"activitySubtitle"`
	Facts            []teamsName `json:"facts"`
}

type teamsName struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func messageCard(e *Event) teamsMessageCard {
	color := "0076D7"
	if isError(e) {
		color = "FF0000"
	}
	facts := make([]teamsName, 0, len(e.Metadata))
	for _, k := range sortedKeys(e.Metadata) {
		facts = append(facts, teamsName{Name: k, Value: e.Metadata[k]})
	}
	return teamsMessageCard{
		Type:       "MessageCard",
		Context:    "http://schema.org/extensions",
		ThemeColor: color,
		Summary:    objectName(e),
		Sections: []teamsSection{{
			ActivityTitle:    e.Message,
			ActivitySubtitle: objectName(e),
			Facts:            facts,
		}},
	}
}

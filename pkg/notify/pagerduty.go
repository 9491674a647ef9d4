package notify

import (
	"context"
	"time"
)

// pagerdutyDefaultAddress is PagerDuty's Events API server.
const pagerdutyDefaultAddress = "https://events.pagerduty.com"

// pagerduty sends Events API v2 events with the channel as routing key, as
// Flux does: an error triggers an incident, an info event resolves it
// (dedup key: the involved object's UID) and is also sent as a change
// event. Progressing events are skipped.
type pagerduty struct {
	s          *sender
	base       string
	routingKey string
}

func newPagerDuty(o *Options) (Notifier, error) {
	address := o.Address
	if address == "" {
		address = pagerdutyDefaultAddress
	}
	u, err := parseHTTPAddress(o, address)
	if err != nil {
		return nil, err
	}
	if o.Channel == "" {
		return nil, missing(o, "channel (the integration routing key)")
	}
	// Flux keeps only the scheme and host of the address.
	return &pagerduty{s: newSender(o), base: u.Scheme + "://" + u.Host, routingKey: o.Channel}, nil
}

type pdEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Payload     *pdPayload `json:"payload,omitempty"`
}

type pdPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity,omitempty"`
	Timestamp     string         `json:"timestamp"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	CustomDetails map[string]any `json:"custom_details"`
}

type pdChangeEvent struct {
	RoutingKey string    `json:"routing_key"`
	Payload    pdPayload `json:"payload"`
}

func (n *pagerduty) Post(ctx context.Context, e Event) error {
	if e.Reason == reasonProgressing {
		return nil
	}
	p := pdPayload{
		Summary:   commitStatusDescription(&e) + ": " + commitStatusName(&e),
		Source:    "Flux " + e.ReportingController,
		Timestamp: e.Timestamp.UTC().Format(time.RFC3339),
		CustomDetails: map[string]any{
			"message":  e.Message,
			"metadata": e.Metadata,
		},
	}
	ev := pdEvent{RoutingKey: n.routingKey, EventAction: "resolve", DedupKey: string(e.InvolvedObject.UID)}
	if isError(&e) {
		trigger := p
		trigger.Severity = "error"
		trigger.Component = e.InvolvedObject.Name
		trigger.Group = e.InvolvedObject.Kind
		ev.EventAction, ev.Payload = "trigger", &trigger
	}
	if _, err := n.s.postJSON(ctx, "send event", n.base+"/v2/enqueue", ev, nil); err != nil {
		return err
	}
	if e.Severity != SeverityInfo {
		return nil
	}
	_, err := n.s.postJSON(ctx, "send change event", n.base+"/v2/change/enqueue",
		pdChangeEvent{RoutingKey: n.routingKey, Payload: p}, nil)
	return err
}

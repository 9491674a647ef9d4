package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// grafana creates an annotation through Grafana's HTTP API (the address is
// e.g. https://grafana/api/annotations), tagged as Flux does: "flux", the
// reporting controller, "<key>: <value>" per metadata pair (":" in keys
// and values replaced by "|"), and the object's kind, name and namespace.
// A token is sent as a bearer token, else username and password as basic
// auth.
type grafana struct {
	s                  *sender
	url                string
	token              string
	username, password string
}

func newGrafana(o *Options) (Notifier, error) {
	u, err := parseHTTPAddress(o, o.Address)
	if err != nil {
		return nil, err
	}
	return &grafana{s: newSender(o), url: u.String(), token: o.Token, username: o.Username, password: o.Password}, nil
}

type grafanaAnnotation struct {
	// Time is in milliseconds, as /api/annotations takes it.
	Time int64 `json:"time"`
	// When is in seconds: Flux's field, read by /api/annotations/graphite.
	When int64    `json:"when"`
	Text string   `json:"text"`
	Tags []string `json:"tags"`
}

func (n *grafana) Post(ctx context.Context, e Event) error {
	tags := []string{"flux", e.ReportingController}
	for _, k := range sortedKeys(e.Metadata) {
		tags = append(tags, fmt.Sprintf("%s: %s",
			strings.ReplaceAll(k, ":", "|"), strings.ReplaceAll(e.Metadata[k], ":", "|")))
	}
	o := e.InvolvedObject
	tags = append(tags, "kind: "+o.Kind, "name: "+o.Name, "namespace: "+o.Namespace)
	payload := grafanaAnnotation{
		Time: e.Timestamp.UnixMilli(),
		When: e.Timestamp.Unix(),
		Text: objectName(&e),
		Tags: tags,
	}
	h := http.Header{}
	switch {
	case n.token != "":
		h = bearer(n.token)
	case n.username != "" && n.password != "":
		h = basicAuth(n.username, n.password)
	}
	_, err := n.s.postJSON(ctx, "create annotation", n.url, payload, h)
	return err
}

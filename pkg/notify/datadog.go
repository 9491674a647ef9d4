package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// datadogDefaultAddress is the US1 site's API.
const datadogDefaultAddress = "https://api.datadoghq.com"

// datadog posts a Datadog event (v1 events API, DD-API-KEY auth) as Flux
// does: source type "fluxcd", the object as title, the message as text,
// alert type from the severity, and lower-cased tags for the reporting
// controller, reason, object (kube_kind, kube_name, kube_namespace) and
// every metadata pair.
type datadog struct {
	s     *sender
	url   string
	token string
}

func newDataDog(o *Options) (Notifier, error) {
	address := o.Address
	if address == "" {
		address = datadogDefaultAddress
	}
	u, err := parseHTTPAddress(o, address)
	if err != nil {
		return nil, err
	}
	if o.Token == "" {
		return nil, missing(o, `token (a Datadog API key, Secret key "token")`)
	}
	return &datadog{s: newSender(o), url: u.Scheme + "://" + u.Host + "/api/v1/events", token: o.Token}, nil
}

type datadogEvent struct {
	Title          string   `json:"title"`
	Text           string   `json:"text"`
	Tags           []string `json:"tags"`
	SourceTypeName string   `json:"source_type_name"`
	DateHappened   int64    `json:"date_happened"`
	AlertType      string   `json:"alert_type"`
}

func (n *datadog) Post(ctx context.Context, e Event) error {
	o := e.InvolvedObject
	tags := []string{
		"flux_reporting_controller:" + e.ReportingController,
		"flux_reason:" + e.Reason,
		"kube_kind:" + o.Kind,
		"kube_name:" + o.Name,
		"kube_namespace:" + o.Namespace,
	}
	for _, k := range sortedKeys(e.Metadata) {
		tags = append(tags, k+":"+e.Metadata[k])
	}
	for i := range tags {
		tags[i] = strings.ToLower(tags[i])
	}
	alert := "info"
	if isError(&e) {
		alert = "error"
	}
	payload := datadogEvent{
		Title:          fmt.Sprintf("Events from the %s %s/%s", o.Kind, o.Name, o.Namespace),
		Text:           e.Message,
		Tags:           tags,
		SourceTypeName: "fluxcd",
		DateHappened:   e.Timestamp.Unix(),
		AlertType:      alert,
	}
	h := http.Header{}
	h.Set("DD-API-KEY", n.token)
	_, err := n.s.postJSON(ctx, "post event", n.url, payload, h)
	return err
}

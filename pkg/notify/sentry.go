package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// sentry sends Flux's Sentry events to the envelope endpoint of the DSN in
// the address, over plain HTTP as Sentry's SDKs do: an error event becomes
// a Sentry error event (metadata as extra), an info event a transaction
// with one span (metadata as tags). The channel is the environment. Other
// severities are skipped.
type sentry struct {
	s           *sender
	url         string
	auth        string
	environment string
}

func newSentry(o *Options) (Notifier, error) {
	u, err := parseHTTPAddress(o, o.Address)
	if err != nil {
		return nil, err
	}
	if u.User == nil || u.User.Username() == "" {
		return nil, invalid(o, "address", "a Sentry DSN holds the public key: https://<key>@<host>/<project ID>")
	}
	prefix, project := "", strings.Trim(u.Path, "/")
	if i := strings.LastIndex(project, "/"); i >= 0 {
		prefix, project = "/"+project[:i], project[i+1:]
	}
	if project == "" {
		return nil, invalid(o, "address", "the Sentry DSN has no project ID")
	}
	auth := "Sentry sentry_version=7, sentry_client=" + o.UserAgent + ", sentry_key=" + u.User.Username()
	if secret, ok := u.User.Password(); ok && secret != "" {
		auth += ", sentry_secret=" + secret
	}
	target := u.Scheme + "://" + u.Host + prefix + "/api/" + url.PathEscape(project) + "/envelope/"
	return &sentry{s: newSender(o), url: target, auth: auth, environment: o.Channel}, nil
}

// sentryEvent is an error event or a transaction.
type sentryEvent struct {
	EventID        string            `json:"event_id"`
	Type           string            `json:"type,omitempty"`
	Timestamp      string            `json:"timestamp"`
	StartTimestamp string            `json:"start_timestamp,omitempty"`
	Level          string            `json:"level,omitempty"`
	Platform       string            `json:"platform"`
	ServerName     string            `json:"server_name,omitempty"`
	Environment    string            `json:"environment,omitempty"`
	Transaction    string            `json:"transaction"`
	Message        string            `json:"message,omitempty"`
	Extra          map[string]string `json:"extra,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
	Contexts       map[string]any    `json:"contexts,omitempty"`
	Spans          []sentrySpan      `json:"spans,omitempty"`
	SDK            map[string]string `json:"sdk"`
}

type sentrySpan struct {
	TraceID        string            `json:"trace_id"`
	SpanID         string            `json:"span_id"`
	ParentSpanID   string            `json:"parent_span_id"`
	Op             string            `json:"op"`
	Description    string            `json:"description"`
	StartTimestamp string            `json:"start_timestamp"`
	Timestamp      string            `json:"timestamp"`
	Tags           map[string]string `json:"tags,omitempty"`
}

func (n *sentry) Post(ctx context.Context, e Event) error {
	o := e.InvolvedObject
	at := e.Timestamp.UTC().Format(time.RFC3339Nano)
	ev := sentryEvent{
		EventID:     randomHex(16),
		Timestamp:   at,
		Platform:    "go",
		Environment: n.environment,
		Transaction: fmt.Sprintf("%s: %s/%s", o.Kind, o.Namespace, o.Name),
		Message:     e.Message,
		SDK:         map[string]string{"name": "gitops-apiserver.notify", "version": "1"},
	}
	switch e.Severity {
	case SeverityError:
		ev.Level, ev.ServerName, ev.Extra = "error", e.ReportingController, e.Metadata
	case SeverityInfo:
		tags := map[string]string{
			"flux_involved_object_kind":      o.Kind,
			"flux_involved_object_namespace": o.Namespace,
			"flux_involved_object_name":      o.Name,
			"flux_reporting_controller":      e.ReportingController,
			"flux_reporting_instance":        e.ReportingInstance,
			"flux_reason":                    e.Reason,
		}
		for k, v := range e.Metadata {
			tags[k] = v
		}
		trace, root := randomHex(16), randomHex(8)
		ev.Type, ev.StartTimestamp, ev.Tags = "transaction", at, tags
		ev.Contexts = map[string]any{"trace": map[string]string{"trace_id": trace, "span_id": root, "op": "event"}}
		ev.Spans = []sentrySpan{{TraceID: trace, SpanID: randomHex(8), ParentSpanID: root, Op: "event",
			Description: ev.Transaction, StartTimestamp: at, Timestamp: at, Tags: tags}}
	default:
		return nil
	}
	item, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("notify: sentry: encoding event: %w", err)
	}
	itemType := "event"
	if ev.Type != "" {
		itemType = ev.Type
	}
	var body bytes.Buffer
	fmt.Fprintf(&body, `{"event_id":%q,"sent_at":%q}`+"\n", ev.EventID, time.Now().UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(&body, `{"type":%q,"length":%d,"content_type":"application/json"}`+"\n", itemType, len(item))
	body.Write(item)
	body.WriteByte('\n')
	h := http.Header{}
	h.Set("Content-Type", "application/x-sentry-envelope")
	h.Set("X-Sentry-Auth", n.auth)
	_, err = n.s.do(ctx, call{op: "send envelope", method: http.MethodPost, url: n.url, body: body.Bytes(), header: h})
	return err
}

// randomHex returns n random bytes in hex (Sentry event, trace and span IDs).
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

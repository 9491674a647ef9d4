package notify_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

// envelope splits a Sentry envelope into its header, item header and item.
func envelope(t *testing.T, body []byte) (header, itemHeader, item map[string]any) {
	t.Helper()
	lines := bytes.SplitN(bytes.TrimSuffix(body, []byte("\n")), []byte("\n"), 3)
	if len(lines) != 3 {
		t.Fatalf("envelope has %d lines: %s", len(lines), body)
	}
	for i, v := range []*map[string]any{&header, &itemHeader, &item} {
		if err := json.Unmarshal(lines[i], v); err != nil {
			t.Fatalf("envelope line %d: %v", i, err)
		}
	}
	if int(itemHeader["length"].(float64)) != len(lines[2]) {
		t.Errorf("item length %v, item has %d bytes", itemHeader["length"], len(lines[2]))
	}
	return header, itemHeader, item
}

func TestSentry_SendsErrorEventAndInfoTransactionToEnvelopeEndpoint(t *testing.T) {
	ep := newEndpoint(t, nil)
	dsn := strings.Replace(ep.URL, "http://", "http://publickey@", 1) + "/42"
	n := mustNew(t, notify.Options{Type: "sentry", Address: dsn, Channel: "staging"})

	post(t, n, errorEvent())
	post(t, n, testEvent(notify.SeverityInfo))
	reqs := ep.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want 2", len(reqs))
	}
	for _, r := range reqs {
		wantRequest(t, r, http.MethodPost, "/api/42/envelope/")
		wantHeader(t, r.Header, map[string]string{"Content-Type": "application/x-sentry-envelope"})
		if auth := r.Header.Get("X-Sentry-Auth"); !strings.Contains(auth, "sentry_key=publickey") || !strings.Contains(auth, "sentry_version=7") {
			t.Errorf("X-Sentry-Auth = %q", auth)
		}
	}

	header, itemHeader, ev := envelope(t, reqs[0].Body)
	if header["event_id"] != ev["event_id"] || len(ev["event_id"].(string)) != 32 || itemHeader["type"] != "event" {
		t.Errorf("envelope headers %v %v, event_id %v", header, itemHeader, ev["event_id"])
	}
	for k, want := range map[string]any{
		"level": "error", "message": "health check failed after 30s", "environment": "staging",
		"server_name": "kustomize-controller", "transaction": "Kustomization: apps/webapp",
		"timestamp": "2022-10-28T07:26:19Z",
	} {
		if ev[k] != want {
			t.Errorf("error event %s = %v, want %v", k, ev[k], want)
		}
	}
	if extra := ev["extra"].(map[string]any); extra["summary"] != "cluster eu-1" {
		t.Errorf("extra = %v", extra)
	}

	_, itemHeader, tx := envelope(t, reqs[1].Body)
	if itemHeader["type"] != "transaction" || tx["type"] != "transaction" || tx["start_timestamp"] != "2022-10-28T07:26:19Z" {
		t.Errorf("transaction: %v %v", itemHeader, tx)
	}
	trace := tx["contexts"].(map[string]any)["trace"].(map[string]any)
	spans := tx["spans"].([]any)
	span := spans[0].(map[string]any)
	if len(spans) != 1 || span["trace_id"] != trace["trace_id"] || span["parent_span_id"] != trace["span_id"] {
		t.Errorf("span %v does not belong to trace %v", span, trace)
	}
	if tags := span["tags"].(map[string]any); tags["flux_reason"] != "ReconciliationSucceeded" || tags["summary"] != "cluster eu-1" {
		t.Errorf("span tags = %v", tags)
	}
}

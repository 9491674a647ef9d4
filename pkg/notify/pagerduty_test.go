package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestPagerDuty_TriggersOnErrorResolvesAndRecordsChangeOnInfo(t *testing.T) {
	ep := newEndpoint(t, func(*http.Request) (int, string) { return http.StatusAccepted, `{"status": "success"}` })
	n := mustNew(t, notify.Options{Type: "pagerduty", Address: ep.URL + "/ignored/path", Channel: "routing-key"})

	post(t, n, errorEvent())
	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/v2/enqueue")
	wantJSON(t, r.Body, `{"routing_key": "routing-key", "event_action": "trigger",
		"dedup_key": "7d0cdc51-ddcf-4743-b223-83ca5c699632",
		"payload": {"summary": "health check failed: kustomization/webapp", "source": "Flux kustomize-controller",
			"severity": "error", "timestamp": "2022-10-28T07:26:19Z", "component": "webapp", "group": "Kustomization",
			"custom_details": {"message": "health check failed after 30s",
				"metadata": {"revision": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1", "summary": "cluster eu-1"}}}}`)

	post(t, n, testEvent(notify.SeverityInfo))
	reqs := ep.requests()
	if len(reqs) != 3 {
		t.Fatalf("got %d requests, want 3", len(reqs))
	}
	wantRequest(t, reqs[1], http.MethodPost, "/v2/enqueue")
	wantJSON(t, reqs[1].Body, `{"routing_key": "routing-key", "event_action": "resolve",
		"dedup_key": "7d0cdc51-ddcf-4743-b223-83ca5c699632"}`)
	wantRequest(t, reqs[2], http.MethodPost, "/v2/change/enqueue")
	wantJSON(t, reqs[2].Body, `{"routing_key": "routing-key",
		"payload": {"summary": "reconciliation succeeded: kustomization/webapp", "source": "Flux kustomize-controller",
			"timestamp": "2022-10-28T07:26:19Z",
			"custom_details": {"message": "Applied revision: main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1",
				"metadata": {"revision": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1", "summary": "cluster eu-1"}}}}`)

	progressing := testEvent(notify.SeverityInfo)
	progressing.Reason = "Progressing"
	post(t, n, progressing)
	if got := len(ep.requests()); got != 3 {
		t.Errorf("Progressing event sent %d requests", got-3)
	}
}

package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestOpsgenie_CreatesAlertWithGenieKey(t *testing.T) {
	ep := newEndpoint(t, func(*http.Request) (int, string) {
		return http.StatusAccepted, `{"result": "Request will be processed"}`
	})
	n := mustNew(t, notify.Options{Type: "opsgenie", Address: ep.URL + "/v2/alerts", Token: "genie"})
	post(t, n, errorEvent())

	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/v2/alerts")
	wantHeader(t, r.Header, map[string]string{"Authorization": "GenieKey genie"})
	wantJSON(t, r.Body, `{"message": "Kustomization/webapp", "description": "health check failed after 30s",
		"details": {"revision": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1", "summary": "cluster eu-1", "severity": "error"}}`)
}

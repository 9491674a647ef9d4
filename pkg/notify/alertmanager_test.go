package notify_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestAlertmanager_PostsFiringAlert(t *testing.T) {
	ep := newEndpoint(t, nil)
	n := mustNew(t, notify.Options{Type: "alertmanager", Address: ep.URL + "/api/v2/alerts", Token: "am-token"})
	post(t, n, errorEvent())

	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/api/v2/alerts")
	wantHeader(t, r.Header, map[string]string{"Authorization": "Bearer am-token"})
	wantJSON(t, r.Body, `[{"status": "firing", "startsAt": "2022-10-28T07:26:19Z",
		"labels": {"alertname": "FluxKustomizationHealthcheckfailed", "severity": "error", "reason": "HealthCheckFailed",
			"kind": "Kustomization", "name": "webapp", "namespace": "apps", "reportingcontroller": "kustomize-controller",
			"revision": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"},
		"annotations": {"message": "health check failed after 30s", "summary": "cluster eu-1"}}]`)
}

func TestAlertmanager_BasicAuthFromAddressUserinfo(t *testing.T) {
	ep := newEndpoint(t, nil)
	address := strings.Replace(ep.URL, "http://", "http://am:secret@", 1) + "/api/v2/alerts"
	n := mustNew(t, notify.Options{Type: "alertmanager", Address: address})
	post(t, n, testEvent(notify.SeverityInfo))
	wantHeader(t, ep.only(t).Header, map[string]string{"Authorization": "Basic YW06c2VjcmV0"})
}

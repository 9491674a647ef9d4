package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestDataDog_PostsEventWithAPIKeyAndTags(t *testing.T) {
	ep := newEndpoint(t, func(*http.Request) (int, string) { return http.StatusAccepted, `{"status": "ok"}` })
	n := mustNew(t, notify.Options{Type: "datadog", Address: ep.URL, Token: "dd-key"})
	post(t, n, errorEvent())

	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/api/v1/events")
	wantHeader(t, r.Header, map[string]string{"DD-API-KEY": "dd-key"})
	wantJSON(t, r.Body, `{"title": "Events from the Kustomization webapp/apps", "text": "health check failed after 30s",
		"source_type_name": "fluxcd", "date_happened": 1666941979, "alert_type": "error",
		"tags": ["flux_reporting_controller:kustomize-controller", "flux_reason:healthcheckfailed",
			"kube_kind:kustomization", "kube_name:webapp", "kube_namespace:apps",
			"revision:main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1", "summary:cluster eu-1"]}`)
}

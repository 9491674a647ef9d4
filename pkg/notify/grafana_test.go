package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestGrafana_CreatesTaggedAnnotation(t *testing.T) {
	ep := newEndpoint(t, nil)
	n := mustNew(t, notify.Options{Type: "grafana", Address: ep.URL + "/api/annotations", Token: "glsa_x",
		Username: "ignored", Password: "ignored-too"})
	post(t, n, testEvent(notify.SeverityInfo))

	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/api/annotations")
	wantHeader(t, r.Header, map[string]string{"Authorization": "Bearer glsa_x"})
	wantJSON(t, r.Body, `{"time": 1666941979000, "when": 1666941979, "text": "kustomization/webapp.apps",
		"tags": ["flux", "kustomize-controller", "revision: main@sha1|731f7eaddfb6af01cb2173e18f0f75b0ba780ef1",
			"summary: cluster eu-1", "kind: Kustomization", "name: webapp", "namespace: apps"]}`)
}

func TestGrafana_UsesBasicAuthWithoutToken(t *testing.T) {
	ep := newEndpoint(t, nil)
	n := mustNew(t, notify.Options{Type: "grafana", Address: ep.URL + "/api/annotations", Username: "admin", Password: "pw"})
	post(t, n, testEvent(notify.SeverityInfo))
	wantHeader(t, ep.only(t).Header, map[string]string{"Authorization": "Basic YWRtaW46cHc="})
}

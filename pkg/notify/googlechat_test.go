package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestGoogleChat_PostsCardWithMetadataWidgets(t *testing.T) {
	ep := newEndpoint(t, nil)
	n := mustNew(t, notify.Options{Type: "googlechat", Address: ep.URL + "/v1/spaces/AAA/messages?key=k&token=t"})
	post(t, n, errorEvent())

	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/v1/spaces/AAA/messages")
	wantJSON(t, r.Body, `{"cards": [{
		"header": {"title": "kustomization/webapp.apps", "subtitle": "kustomize-controller"},
		"sections": [
			{"widgets": [{"textParagraph": {"text": "<font color=\"#ff0000\">health check failed after 30s</font>"}}]},
			{"widgets": [
				{"keyValue": {"topLabel": "revision", "content": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1", "contentMultiline": false}},
				{"keyValue": {"topLabel": "summary", "content": "cluster eu-1", "contentMultiline": false}}]}]}]}`)
}

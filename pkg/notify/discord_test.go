package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestDiscord_PostsSlackPayloadToSlackEndpoint(t *testing.T) {
	for _, address := range []string{"/api/webhooks/1/abc", "/api/webhooks/1/abc/slack"} {
		ep := newEndpoint(t, nil)
		n := mustNew(t, notify.Options{Type: "discord", Address: ep.URL + address, Channel: "ignored"})
		post(t, n, testEvent(notify.SeverityInfo))

		r := ep.only(t)
		wantRequest(t, r, http.MethodPost, "/api/webhooks/1/abc/slack")
		wantJSON(t, r.Body, `{
			"username": "kustomize-controller",
			"attachments": [{
				"color": "good", "author_name": "kustomization/webapp.apps",
				"text": "Applied revision: main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1", "mrkdwn_in": ["text"],
				"fields": [
					{"title": "revision", "value": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1", "short": false},
					{"title": "summary", "value": "cluster eu-1", "short": false}]}]}`)
	}
}

package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestRocket_PostsSlackPayloadWithRocketColors(t *testing.T) {
	ep := newEndpoint(t, nil)
	n := mustNew(t, notify.Options{Type: "rocket", Address: ep.URL + "/hooks/abc", Channel: "#flux", Username: "bot"})
	e := errorEvent()
	e.Metadata = nil
	post(t, n, e)

	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/hooks/abc")
	wantJSON(t, r.Body, `{
		"channel": "#flux", "username": "bot",
		"attachments": [{"color": "#FF0000", "author_name": "kustomization/webapp.apps",
			"text": "health check failed after 30s", "mrkdwn_in": ["text"], "fields": []}]}`)
}

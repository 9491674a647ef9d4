package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestWebex_CreatesMarkdownMessageInRoom(t *testing.T) {
	ep := newEndpoint(t, nil)
	n := mustNew(t, notify.Options{Type: "webex", Address: ep.URL + "/v1/messages", Channel: "room-1", Token: "bot-token"})
	post(t, n, testEvent(notify.SeverityInfo))

	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/v1/messages")
	wantHeader(t, r.Header, map[string]string{"Authorization": "Bearer bot-token"})
	wantJSON(t, r.Body, `{"roomId": "room-1", "markdown":
		"✅ **kustomization/webapp.apps**\nApplied revision: main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1\n>**revision**: main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1\n>**summary**: cluster eu-1\n"}`)
}

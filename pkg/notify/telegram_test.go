package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestTelegram_SendsMarkdownV2MessageToChatAndThread(t *testing.T) {
	ep := newEndpoint(t, nil)
	n := mustNew(t, notify.Options{Type: "telegram", Address: ep.URL, Channel: "-100123:7", Token: "123456:ABC-def"})
	e := testEvent(notify.SeverityInfo)
	e.Metadata = map[string]string{"summary": "eu-1 (prod)"}
	post(t, n, e)

	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/bot123456:ABC-def/sendMessage")
	wantJSON(t, r.Body, `{"chat_id": "-100123", "message_thread_id": "7", "parse_mode": "MarkdownV2",
		"text": "*💫 kustomization/webapp/apps*\nApplied revision: main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1\n\\- *summary*: eu\\-1 \\(prod\\)\n"}`)
}

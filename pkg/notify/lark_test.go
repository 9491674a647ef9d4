package notify_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestLark_PostsInteractiveCardAndReadsCode(t *testing.T) {
	answer := `{"code": 0, "msg": "success"}`
	ep := newEndpoint(t, func(*http.Request) (int, string) { return http.StatusOK, answer })
	n := mustNew(t, notify.Options{Type: "lark", Address: ep.URL + "/open-apis/bot/v2/hook/abcdef"})
	post(t, n, errorEvent())

	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/open-apis/bot/v2/hook/abcdef")
	wantJSON(t, r.Body, `{"msg_type": "interactive", "card": {
		"config": {"wide_screen_mode": true},
		"header": {"title": {"tag": "plain_text", "content": "🚨 kustomization/webapp.apps"}, "template": "red"},
		"elements": [{"tag": "div", "text": {"tag": "lark_md",
			"content": "**health check failed after 30s**\n\nrevision: main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1\nsummary: cluster eu-1\n"}}]}}`)

	answer = `{"code": 19021, "msg": "sign match fail"}`
	if err := n.Post(context.Background(), errorEvent()); err == nil || !strings.Contains(err.Error(), "19021") {
		t.Errorf("non-zero code: err = %v", err)
	}
}

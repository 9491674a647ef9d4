package notify_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestSlack_IncomingWebhookGetsFluxAttachment(t *testing.T) {
	ep := newEndpoint(t, func(*http.Request) (int, string) { return http.StatusOK, "ok" })
	n := mustNew(t, notify.Options{Type: "slack", Address: ep.URL + "/services/T0/B0/xyz", Channel: "general"})
	post(t, n, errorEvent())

	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/services/T0/B0/xyz")
	if r.Header.Get("Authorization") != "" {
		t.Error("webhook call carries an Authorization header")
	}
	wantJSON(t, r.Body, `{
		"channel": "general", "username": "kustomize-controller",
		"attachments": [{
			"color": "danger", "author_name": "kustomization/webapp.apps",
			"text": "health check failed after 30s", "mrkdwn_in": ["text"],
			"fields": [
				{"title": "revision", "value": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1", "short": false},
				{"title": "summary", "value": "cluster eu-1", "short": false}]}]}`)
}

func TestSlack_ChatPostMessageUsesBotTokenAndReadsOK(t *testing.T) {
	ok := true
	ep := newEndpoint(t, func(*http.Request) (int, string) {
		if ok {
			return http.StatusOK, `{"ok": true}`
		}
		return http.StatusOK, `{"ok": false, "error": "channel_not_found"}`
	})
	n := mustNew(t, notify.Options{Type: "slack", Address: ep.URL + "/api/chat.postMessage",
		Channel: "general", Username: "flux", Token: "xoxb-123"})
	post(t, n, testEvent(notify.SeverityInfo))

	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/api/chat.postMessage")
	wantHeader(t, r.Header, map[string]string{"Authorization": "Bearer xoxb-123", "Content-Type": "application/json"})
	if !strings.Contains(string(r.Body), `"username":"flux"`) || !strings.Contains(string(r.Body), `"color":"good"`) {
		t.Errorf("payload: %s", r.Body)
	}

	ok = false
	err := n.Post(context.Background(), testEvent(notify.SeverityInfo))
	if err == nil || !strings.Contains(err.Error(), "channel_not_found") {
		t.Errorf("ok=false answer: err = %v, want channel_not_found", err)
	}

	if _, err := notify.New(notify.Options{Type: "slack", Address: ep.URL + "/api/chat.postMessage", Channel: "c"}); err == nil ||
		!strings.Contains(err.Error(), "token") {
		t.Errorf("chat.postMessage without a token: err = %v", err)
	}
}

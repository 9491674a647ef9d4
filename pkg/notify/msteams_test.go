package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestMSTeams_WorkflowGetsAdaptiveCard(t *testing.T) {
	ep := newEndpoint(t, nil)
	n := mustNew(t, notify.Options{Type: "msteams", Address: ep.URL + "/workflows/1/triggers/manual/paths/invoke?sig=s3cr3t"})
	post(t, n, errorEvent())

	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/workflows/1/triggers/manual/paths/invoke")
	if r.Query != "sig=s3cr3t" {
		t.Errorf("query = %q", r.Query)
	}
	wantJSON(t, r.Body, `{
		"type": "message",
		"attachments": [{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"content": {
				"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
				"type": "AdaptiveCard", "version": "1.4", "msteams": {"width": "Full"},
				"body": [{"type": "Container", "items": [
					{"type": "TextBlock", "text": "kustomization/webapp.apps", "size": "large", "weight": "bolder", "wrap": true},
					{"type": "TextBlock", "text": "health check failed after 30s", "color": "attention", "wrap": true},
					{"type": "FactSet", "facts": [
						{"title": "summary", "value": "cluster eu-1"},
						{"title": "revision", "value": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"}]}]}]}}]}`)
}

func TestMSTeams_OfficeConnectorGetsMessageCard(t *testing.T) {
	ep := newEndpoint(t, nil)
	// The connector is recognised by its host name; the dialer reaches the test server.
	n := mustNew(t, notify.Options{Type: "msteams", Address: "http://acme.webhook.office.com/webhookb2/x",
		DialContext: dialTo(ep)})
	post(t, n, testEvent(notify.SeverityInfo))

	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/webhookb2/x")
	wantJSON(t, r.Body, `{
		"@type": "MessageCard", "@context": "http://schema.org/extensions", "themeColor": "0076D7",
		"summary": "kustomization/webapp.apps",
		"sections": [{
			"activityTitle": "Applied revision: main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1",
			"activitySubtitle": "kustomization/webapp.apps",
			"facts": [
				{"name": "revision", "value": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"},
				{"name": "summary", "value": "cluster eu-1"}]}]}`)
}

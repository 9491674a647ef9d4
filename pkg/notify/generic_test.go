package notify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestGeneric_PostsEventJSONWithSecretHeaders(t *testing.T) {
	ep := newEndpoint(t, nil)
	n := mustNew(t, notify.Options{Type: "generic", Address: ep.URL + "/hook",
		Headers: map[string]string{"Authorization": "my-api-token", "X-Forwarded-Proto": "https"}})
	e := testEvent(notify.SeverityInfo)
	post(t, n, e)

	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/hook")
	wantHeader(t, r.Header, map[string]string{
		"Content-Type": "application/json", "Gotk-Component": "kustomize-controller",
		"Authorization": "my-api-token", "X-Forwarded-Proto": "https", "User-Agent": notify.DefaultUserAgent,
	})
	if r.Header.Get("X-Signature") != "" {
		t.Error("generic sent an X-Signature")
	}
	wantJSON(t, r.Body, `{
		"involvedObject": {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
			"name": "webapp", "namespace": "apps", "uid": "7d0cdc51-ddcf-4743-b223-83ca5c699632"},
		"severity": "info", "timestamp": "2022-10-28T07:26:19Z",
		"message": "Applied revision: main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1",
		"reason": "ReconciliationSucceeded",
		"metadata": {"revision": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1", "summary": "cluster eu-1"},
		"reportingController": "kustomize-controller",
		"reportingInstance": "kustomize-controller-7c7b47f5f-8bhrp"}`)
}

func TestGenericHMAC_SignsBodyWithToken(t *testing.T) {
	ep := newEndpoint(t, nil)
	n := mustNew(t, notify.Options{Type: "generic-hmac", Address: ep.URL, Token: "hmac-key"})
	post(t, n, testEvent(notify.SeverityError))

	r := ep.only(t)
	mac := hmac.New(sha256.New, []byte("hmac-key"))
	mac.Write(r.Body)
	wantHeader(t, r.Header, map[string]string{"X-Signature": "sha256=" + hex.EncodeToString(mac.Sum(nil))})
	wantJSON(t, r.Body, eventJSON(t, testEvent(notify.SeverityError)))

	if _, err := notify.New(notify.Options{Type: "generic-hmac", Address: ep.URL}); err == nil {
		t.Error("generic-hmac without a token: no error")
	}
}

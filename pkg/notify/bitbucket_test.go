package notify_test

import (
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func sha1Of(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestBitbucket_SetsBuildStatusWithHashedKey(t *testing.T) {
	ep := newTLSEndpoint(t, func(r *http.Request) (int, string) {
		if r.Method == http.MethodGet {
			return http.StatusNotFound, `{"type": "error"}`
		}
		return http.StatusCreated, `{}`
	})
	n := mustNew(t, notify.Options{Type: "bitbucket", Address: "https://bitbucket.org/ws/repo.git", Token: "user:app-pass",
		ProviderUID: providerUID, DialContext: dialTo(ep), TLSConfig: insecureTLS()})
	post(t, n, errorEvent())

	reqs := ep.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want get + create", len(reqs))
	}
	key := sha1Of("kustomization/webapp/0c9c2e41")
	builds := "/2.0/repositories/ws/repo/commit/" + testSHA + "/statuses/build"
	wantRequest(t, reqs[0], http.MethodGet, builds+"/"+key)
	wantRequest(t, reqs[1], http.MethodPost, builds)
	if reqs[1].Host != "api.bitbucket.org" {
		t.Errorf("Host = %q, want api.bitbucket.org", reqs[1].Host)
	}
	wantHeader(t, reqs[1].Header, map[string]string{"Authorization": "Basic dXNlcjphcHAtcGFzcw=="})
	wantJSON(t, reqs[1].Body, `{"state": "FAILED", "key": "`+key+`", "name": "kustomization/webapp",
		"description": "health check failed", "url": "https://bitbucket.org/ws/repo"}`)

	if _, err := notify.New(notify.Options{Type: "bitbucket", Address: "https://bitbucket.org/ws/repo", Token: "no-colon"}); err == nil {
		t.Error("a token without <username>: gave no error")
	}
}

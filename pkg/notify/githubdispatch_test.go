package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestGitHubDispatch_SendsRepositoryDispatch(t *testing.T) {
	ep := newEndpoint(t, func(*http.Request) (int, string) { return http.StatusNoContent, "" })
	n := mustNew(t, notify.Options{Type: "githubdispatch", Address: ep.URL + "/org/podinfo.git", Token: "ghp_x"})
	e := testEvent(notify.SeverityInfo)
	post(t, n, e)

	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/api/v3/repos/org/podinfo/dispatches")
	wantHeader(t, r.Header, map[string]string{"Authorization": "Bearer ghp_x", "Accept": "application/vnd.github+json"})
	wantJSON(t, r.Body, `{"event_type": "Kustomization/webapp.apps", "client_payload": `+eventJSON(t, e)+`}`)

	e.Metadata["commit_status"] = "update"
	post(t, n, e)
	if len(ep.requests()) != 1 {
		t.Error("a commit status update event was dispatched")
	}
}

func TestGitHubDispatch_GitHubComUsesAPIHost(t *testing.T) {
	ep := newTLSEndpoint(t, func(*http.Request) (int, string) { return http.StatusNoContent, "" })
	n := mustNew(t, notify.Options{Type: "githubdispatch", Address: "https://github.com/org/podinfo", Token: "ghp_x",
		DialContext: dialTo(ep), TLSConfig: insecureTLS()})
	post(t, n, testEvent(notify.SeverityInfo))
	r := ep.only(t)
	wantRequest(t, r, http.MethodPost, "/repos/org/podinfo/dispatches")
	if r.Host != "api.github.com" {
		t.Errorf("Host = %q, want api.github.com", r.Host)
	}
}

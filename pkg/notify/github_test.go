package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

const providerUID = "0c9c2e41-d2f9-4f9b-9c41-2a6e1b5d3a54"

// statusAPI answers GET with listed and other methods with created.
func statusAPI(listed *string, created int) func(r *http.Request) (int, string) {
	return func(r *http.Request) (int, string) {
		if r.Method == http.MethodGet {
			return http.StatusOK, *listed
		}
		return created, `{}`
	}
}

func TestGitHub_SetsCommitStatusOnEnterpriseServer(t *testing.T) {
	listed := `[]`
	ep := newEndpoint(t, statusAPI(&listed, http.StatusCreated))
	n := mustNew(t, notify.Options{Type: "github", Address: ep.URL + "/org/repo.git", Token: "ghp_x", ProviderUID: providerUID})
	post(t, n, errorEvent())

	reqs := ep.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want list + create", len(reqs))
	}
	wantRequest(t, reqs[0], http.MethodGet, "/api/v3/repos/org/repo/commits/"+testSHA+"/statuses")
	wantRequest(t, reqs[1], http.MethodPost, "/api/v3/repos/org/repo/statuses/"+testSHA)
	wantHeader(t, reqs[1].Header, map[string]string{"Authorization": "Bearer ghp_x", "Accept": "application/vnd.github+json"})
	wantJSON(t, reqs[1].Body, `{"state": "failure", "context": "kustomization/webapp/0c9c2e41", "description": "health check failed"}`)

	// The same status again is not posted; a different one is.
	listed = `[{"state": "failure", "context": "kustomization/webapp/0c9c2e41", "description": "health check failed"},
		{"state": "success", "context": "kustomization/webapp/0c9c2e41", "description": "reconciliation succeeded"}]`
	post(t, n, errorEvent())
	if got := len(ep.requests()); got != 3 {
		t.Fatalf("duplicate status: %d requests, want only the listing", got-2)
	}
	post(t, n, testEvent(notify.SeverityInfo))
	reqs = ep.requests()
	if len(reqs) != 5 {
		t.Fatalf("new state: got %d requests in all, want 5", len(reqs))
	}
	wantJSON(t, reqs[4].Body, `{"state": "success", "context": "kustomization/webapp/0c9c2e41", "description": "reconciliation succeeded"}`)
}

func TestGitHub_GitHubComUsesAPIHost(t *testing.T) {
	listed := `[]`
	ep := newTLSEndpoint(t, statusAPI(&listed, http.StatusCreated))
	n := mustNew(t, notify.Options{Type: "github", Address: "git@github.com:org/repo.git", Token: "ghp_x",
		ProviderUID: providerUID, DialContext: dialTo(ep), TLSConfig: insecureTLS()})
	post(t, n, testEvent(notify.SeverityInfo))

	reqs := ep.requests()
	if len(reqs) != 2 || reqs[1].Host != "api.github.com" {
		t.Fatalf("requests = %+v, want two to api.github.com", reqs)
	}
	wantRequest(t, reqs[1], http.MethodPost, "/repos/org/repo/statuses/"+testSHA)
}

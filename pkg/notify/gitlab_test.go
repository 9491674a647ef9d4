package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestGitLab_SetsCommitStatusOnNestedProject(t *testing.T) {
	listed := `[]`
	ep := newEndpoint(t, statusAPI(&listed, http.StatusCreated))
	n := mustNew(t, notify.Options{Type: "gitlab", Address: ep.URL + "/group/sub/repo", Token: "glpat", ProviderUID: providerUID})
	post(t, n, testEvent(notify.SeverityInfo))

	reqs := ep.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want list + set", len(reqs))
	}
	wantRequest(t, reqs[0], http.MethodGet, "/api/v4/projects/group%2Fsub%2Frepo/repository/commits/"+testSHA+"/statuses")
	if reqs[0].Query != "name=kustomization%2Fwebapp%2F0c9c2e41" {
		t.Errorf("list query = %q", reqs[0].Query)
	}
	wantRequest(t, reqs[1], http.MethodPost, "/api/v4/projects/group%2Fsub%2Frepo/statuses/"+testSHA)
	wantHeader(t, reqs[1].Header, map[string]string{"PRIVATE-TOKEN": "glpat"})
	wantJSON(t, reqs[1].Body, `{"state": "success", "name": "kustomization/webapp/0c9c2e41", "description": "reconciliation succeeded"}`)

	listed = `[{"status": "failed", "name": "kustomization/webapp/0c9c2e41", "description": "health check failed"}]`
	post(t, n, errorEvent())
	if got := len(ep.requests()); got != 3 {
		t.Errorf("duplicate status posted (%d requests)", got)
	}
}

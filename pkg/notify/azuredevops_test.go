package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestAzureDevOps_SetsCommitStatusWithFluxGenre(t *testing.T) {
	listed := `{"count": 0, "value": []}`
	ep := newEndpoint(t, statusAPI(&listed, http.StatusCreated))
	n := mustNew(t, notify.Options{Type: "azuredevops", Address: ep.URL + "/org/project/_git/repo", Token: "pat",
		ProviderUID: providerUID})
	post(t, n, errorEvent())

	reqs := ep.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want list + create", len(reqs))
	}
	path := "/org/project/_apis/git/repositories/repo/commits/" + testSHA + "/statuses"
	wantRequest(t, reqs[0], http.MethodGet, path)
	wantRequest(t, reqs[1], http.MethodPost, path)
	if reqs[1].Query != "api-version=6.0" {
		t.Errorf("query = %q", reqs[1].Query)
	}
	wantHeader(t, reqs[1].Header, map[string]string{"Authorization": "Basic OnBhdA=="})
	wantJSON(t, reqs[1].Body, `{"state": "error", "description": "health check failed",
		"context": {"genre": "fluxcd", "name": "kustomization/webapp/0c9c2e41"}}`)

	listed = `{"count": 1, "value": [{"state": "error", "description": "health check failed",
		"context": {"genre": "fluxcd", "name": "kustomization/webapp/0c9c2e41"}}]}`
	post(t, n, errorEvent())
	if got := len(ep.requests()); got != 3 {
		t.Errorf("duplicate status posted (%d requests)", got)
	}
}

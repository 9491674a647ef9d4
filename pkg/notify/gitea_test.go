package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestGitea_SetsPendingForProgressingAndFailureForErrors(t *testing.T) {
	listed := `[]`
	ep := newEndpoint(t, statusAPI(&listed, http.StatusCreated))
	n := mustNew(t, notify.Options{Type: "gitea", Address: ep.URL + "/org/repo", Token: "gitea-tok", ProviderUID: providerUID})

	progressing := testEvent(notify.SeverityInfo)
	progressing.Reason = "Progressing"
	post(t, n, progressing)
	reqs := ep.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want list + create", len(reqs))
	}
	wantRequest(t, reqs[0], http.MethodGet, "/api/v1/repos/org/repo/statuses/"+testSHA)
	wantRequest(t, reqs[1], http.MethodPost, "/api/v1/repos/org/repo/statuses/"+testSHA)
	wantHeader(t, reqs[1].Header, map[string]string{"Authorization": "token gitea-tok"})
	wantJSON(t, reqs[1].Body, `{"state": "pending", "context": "kustomization/webapp/0c9c2e41", "description": "progressing", "target_url": ""}`)

	post(t, n, errorEvent())
	reqs = ep.requests()
	wantJSON(t, reqs[len(reqs)-1].Body, `{"state": "failure", "context": "kustomization/webapp/0c9c2e41", "description": "health check failed", "target_url": ""}`)
}

package notify_test

import (
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestBitbucketServer_SetsBuildStatusUnderContextPath(t *testing.T) {
	ep := newEndpoint(t, func(r *http.Request) (int, string) {
		if r.Method == http.MethodGet {
			return http.StatusNotFound, `{}`
		}
		return http.StatusNoContent, ``
	})
	address := ep.URL + "/bitbucket/scm/proj/repo.git"
	n := mustNew(t, notify.Options{Type: "bitbucketserver", Address: address, Token: "bbs-token", ProviderUID: providerUID})
	post(t, n, testEvent(notify.SeverityInfo))

	reqs := ep.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want get + create", len(reqs))
	}
	key := sha1Of("kustomization/webapp/0c9c2e41")
	builds := "/bitbucket/rest/api/latest/projects/proj/repos/repo/commits/" + testSHA + "/builds"
	wantRequest(t, reqs[0], http.MethodGet, builds)
	if reqs[0].Query != "key="+key {
		t.Errorf("get query = %q", reqs[0].Query)
	}
	wantRequest(t, reqs[1], http.MethodPost, builds)
	wantHeader(t, reqs[1].Header, map[string]string{"Authorization": "Bearer bbs-token", "X-Atlassian-Token": "no-check"})
	wantJSON(t, reqs[1].Body, `{"key": "`+key+`", "state": "SUCCESSFUL", "name": "kustomization/webapp [reconciliation succeeded]",
		"description": "reconciliation succeeded", "url": "`+address+`"}`)

	if _, err := notify.New(notify.Options{Type: "bitbucketserver", Address: ep.URL + "/proj/repo.git", Token: "t"}); err == nil {
		t.Error("an address without /scm/ gave no error")
	}
}

package notify_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

// commitStatusOptions configures each commit status type against ep.
func commitStatusOptions(ep *endpoint) map[string]notify.Options {
	return map[string]notify.Options{
		"github":          {Address: ep.URL + "/org/repo", Token: "t"},
		"gitlab":          {Address: ep.URL + "/org/repo", Token: "t"},
		"gitea":           {Address: ep.URL + "/org/repo", Token: "t"},
		"bitbucket":       {Address: ep.URL + "/org/repo", Token: "u:p"},
		"bitbucketserver": {Address: ep.URL + "/scm/org/repo.git", Token: "t"},
		"azuredevops":     {Address: ep.URL + "/org/project/_git/repo", Token: "t"},
	}
}

func TestCommitStatus_SkipsEventsWithoutRevisionAndProgressingEvents(t *testing.T) {
	ep := newEndpoint(t, func(r *http.Request) (int, string) {
		t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		return http.StatusInternalServerError, ""
	})
	for typ, o := range commitStatusOptions(ep) {
		t.Run(typ, func(t *testing.T) {
			o.Type, o.ProviderUID = typ, providerUID
			n := mustNew(t, o)
			noRevision := testEvent(notify.SeverityInfo)
			delete(noRevision.Metadata, "revision")
			post(t, n, noRevision)
			if typ != "gitea" {
				progressing := testEvent(notify.SeverityInfo)
				progressing.Reason = "Progressing"
				post(t, n, progressing)
			}
		})
	}
}

func TestCommitStatus_ReadsOriginRevisionFirst(t *testing.T) {
	const origin = "0123456789abcdef0123456789abcdef01234567"
	listed := `[]`
	ep := newEndpoint(t, statusAPI(&listed, http.StatusCreated))
	n := mustNew(t, notify.Options{Type: "github", Address: ep.URL + "/org/repo", Token: "t"})
	e := testEvent(notify.SeverityInfo)
	e.Metadata["revision"] = "latest@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	e.Metadata["originRevision"] = "main@sha1:" + origin
	post(t, n, e)
	reqs := ep.requests()
	wantRequest(t, reqs[len(reqs)-1], http.MethodPost, "/api/v3/repos/org/repo/statuses/"+origin)
}

func TestCommitStatus_CommitStatusExprComputesID(t *testing.T) {
	listed := `[]`
	ep := newEndpoint(t, statusAPI(&listed, http.StatusCreated))
	n := mustNew(t, notify.Options{Type: "github", Address: ep.URL + "/org/repo", Token: "t", ProviderUID: providerUID,
		CommitStatusExpr: "(event.involvedObject.kind + '/' + event.involvedObject.name).lowerAscii() + '/' + event.metadata.summary.replace(' ', '-') + '/' + provider.metadata.uid.split('-')[0]"})
	post(t, n, testEvent(notify.SeverityInfo))
	reqs := ep.requests()
	wantJSON(t, reqs[len(reqs)-1].Body, `{"state": "success", "context": "kustomization/webapp/cluster-eu-1/0c9c2e41",
		"description": "reconciliation succeeded"}`)

	// An expression failing on an event is that event's error.
	n = mustNew(t, notify.Options{Type: "gitea", Address: ep.URL + "/org/repo", Token: "t", CommitStatusExpr: "event.metadata.missing"})
	if err := n.Post(context.Background(), testEvent(notify.SeverityInfo)); err == nil || !strings.Contains(err.Error(), "commitStatusExpr") {
		t.Errorf("failing expression: err = %v", err)
	}
}

func TestCommitStatus_NewRejectsBadExpressions(t *testing.T) {
	for expr, want := range map[string]string{
		"event.involvedObject.name +": "invalid commitStatusExpr",
		"1 + 2":                       "not a string",
		"'a'":                         "",
	} {
		_, err := notify.New(notify.Options{Type: "gitlab", Address: "https://gitlab.com/org/repo", Token: "t", CommitStatusExpr: expr})
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: err = %v, want %q", expr, err, want)
		}
	}
	if _, err := notify.New(notify.Options{Type: "slack", Address: "https://hooks.slack.com/x", CommitStatusExpr: "'a'"}); err == nil {
		t.Error("commitStatusExpr on slack accepted")
	}
}

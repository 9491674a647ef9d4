package notification

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func event(kind, ns, name, severity, msg string) notify.Event {
	return notify.Event{InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name},
		Severity: severity, Message: msg, Reason: "Test"}
}

func TestAlertRule_MatchesSourcesSeverityAndLists(t *testing.T) {
	labels := func(kind, ns, name string) map[string]string {
		if name == "labelled" {
			return map[string]string{"team": "a"}
		}
		return nil
	}
	rule := &AlertRule{Namespace: "apps", Severity: SeverityInfo, Sources: []Source{
		{Kind: "Kustomization", Name: "*"},
		{Kind: "GitRepository", Name: "app-*", Namespace: "flux-system"},
		{Kind: "HelmRelease", Name: "*", MatchLabels: map[string]string{"team": "a"}},
	}, Exclusion: []*regexp.Regexp{regexp.MustCompile("^skip")}}
	for _, tc := range []struct {
		e    notify.Event
		want bool
	}{
		{event("Kustomization", "apps", "x", SeverityInfo, "applied"), true},
		{event("Kustomization", "other", "x", SeverityInfo, "applied"), false}, // the Alert's namespace by default
		{event("GitRepository", "flux-system", "app-1", SeverityError, "failed"), true},
		{event("GitRepository", "flux-system", "infra", SeverityError, "failed"), false},
		{event("HelmRelease", "apps", "labelled", SeverityInfo, "installed"), true},
		{event("HelmRelease", "apps", "plain", SeverityInfo, "installed"), false},
		{event("Kustomization", "apps", "x", SeverityInfo, "skip this"), false},
		{event("Bucket", "apps", "x", SeverityError, "failed"), false},
	} {
		if got := rule.Matches(&tc.e, labels); got != tc.want {
			t.Errorf("%s %s/%s %q: %v, want %v", tc.e.InvolvedObject.Kind, tc.e.InvolvedObject.Namespace, tc.e.InvolvedObject.Name, tc.e.Message, got, tc.want)
		}
	}
	// With --no-cross-namespace-refs an Alert hears only its own namespace,
	// whatever its sources say.
	rule.OwnNamespaceOnly = true
	if rule.Matches(ptr(event("GitRepository", "flux-system", "app-1", SeverityError, "failed")), labels) {
		t.Error("lockdown: an Alert received another namespace's event")
	}
	if !rule.Matches(ptr(event("Kustomization", "apps", "x", SeverityInfo, "applied")), labels) {
		t.Error("lockdown: an Alert lost its own namespace's event")
	}
	rule.OwnNamespaceOnly = false

	errorsOnly := &AlertRule{Namespace: "apps", Severity: SeverityError, Sources: []Source{{Kind: "Kustomization", Name: "*"}},
		Inclusion: []*regexp.Regexp{regexp.MustCompile("health")}}
	if errorsOnly.Matches(ptr(event("Kustomization", "apps", "x", SeverityInfo, "health ok")), nil) {
		t.Error("an info event passed an error-only Alert")
	}
	if errorsOnly.Matches(ptr(event("Kustomization", "apps", "x", SeverityError, "build failed")), nil) {
		t.Error("an event outside the inclusionList passed")
	}
	if !errorsOnly.Matches(ptr(event("Kustomization", "apps", "x", SeverityError, "health check failed")), nil) {
		t.Error("an included error was dropped")
	}
}

func ptr[T any](v T) *T { return &v }

func TestEnrich_SummaryAndMetadataEventWins(t *testing.T) {
	e := event("Kustomization", "apps", "x", SeverityInfo, "m")
	e.Metadata = map[string]string{"revision": "main@sha1:abc", "env": "event"}
	got := Enrich(e, "cluster A", map[string]string{"env": "alert", "region": "eu"})
	if got.Metadata["summary"] != "cluster A" || got.Metadata["env"] != "event" || got.Metadata["region"] != "eu" || got.Metadata["revision"] != "main@sha1:abc" {
		t.Errorf("metadata = %v", got.Metadata)
	}
	if _, ok := e.Metadata["summary"]; ok {
		t.Error("the input event was changed")
	}
}

func TestDispatcher_DedupsRetriesAndReportsFailures(t *testing.T) {
	var sent, attempts atomic.Int32
	failures := make(chan error, 1)
	d := NewDispatcher(nil)
	d.backoff = time.Millisecond
	ok := func(context.Context, notify.Event) error { sent.Add(1); return nil }
	flaky := func(context.Context, notify.Event) error {
		if attempts.Add(1) < 3 {
			return errors.New("503")
		}
		sent.Add(1)
		return nil
	}
	broken := func(context.Context, notify.Event) error { return errors.New("provider down") }
	e := event("Kustomization", "apps", "x", SeverityError, "boom")
	d.deliver(context.Background(), Delivery{Alert: "apps/a", Provider: "apps/p", Event: e, Send: ok})
	d.deliver(context.Background(), Delivery{Alert: "apps/a", Provider: "apps/p", Event: e, Send: ok})
	if sent.Load() != 1 {
		t.Errorf("a duplicate was sent: %d sends", sent.Load())
	}
	d.deliver(context.Background(), Delivery{Alert: "apps/b", Provider: "apps/p", Event: e, Send: flaky})
	if sent.Load() != 2 || attempts.Load() != 3 {
		t.Errorf("retries: %d sends after %d attempts", sent.Load(), attempts.Load())
	}
	d.deliver(context.Background(), Delivery{Alert: "apps/c", Provider: "apps/p", Event: e, Send: broken, Failed: func(err error) { failures <- err }})
	select {
	case err := <-failures:
		if !strings.Contains(err.Error(), "provider down") {
			t.Errorf("failure %v", err)
		}
	default:
		t.Error("a failed delivery was not reported")
	}
	// Later the same event is news again.
	d.now = func() time.Time { return time.Now().Add(dedupWindow + time.Second) }
	d.deliver(context.Background(), Delivery{Alert: "apps/a", Provider: "apps/p", Event: e, Send: ok})
	if sent.Load() != 3 {
		t.Errorf("after the window: %d sends", sent.Load())
	}
}

func TestDispatcher_NeverBlocks(t *testing.T) {
	d := NewDispatcher(nil)
	done := make(chan struct{})
	go func() {
		for i := 0; i < queueSize+10; i++ {
			d.Dispatch(event("Kustomization", "apps", "x", SeverityInfo, "m"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Dispatch blocked on a full queue")
	}
}

func TestIngest_AcceptsFluxEventsOnly(t *testing.T) {
	got := make(chan notify.Event, 1)
	srv := httptest.NewServer(&IngestHandler{Dispatch: func(e notify.Event) { got <- e }})
	t.Cleanup(srv.Close)
	post := func(body string) int {
		resp, err := http.Post(srv.URL+"/", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	valid := `{"involvedObject":{"kind":"Canary","namespace":"apps","name":"web"},"severity":"info","message":"promoted","reason":"Synced","reportingController":"flagger"}`
	if code := post(valid); code != http.StatusAccepted {
		t.Fatalf("valid event: %d", code)
	}
	if e := <-got; e.InvolvedObject.Kind != "Canary" || e.ReportingController != "flagger" {
		t.Errorf("event %+v", e)
	}
	for _, bad := range []string{`not json`, `{"severity":"info","message":"m","reason":"r"}`,
		`{"involvedObject":{"kind":"K","namespace":"n","name":"x"},"severity":"debug","message":"m","reason":"r"}`} {
		if code := post(bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, code)
		}
	}
	if code := post(`{"message":"` + strings.Repeat("x", maxEventBytes) + `"}`); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: %d", code)
	}
	resp, _ := http.Get(srv.URL + "/")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestResourceFilter_CELOverResourceAndRequest(t *testing.T) {
	p, err := compileFilter(`res.metadata.name == "app" && req.tag.startsWith("v1.")`)
	if err != nil {
		t.Fatal(err)
	}
	app := Object{Content: map[string]any{"metadata": map[string]any{"name": "app"}}}
	other := Object{Content: map[string]any{"metadata": map[string]any{"name": "other"}}}
	if !accepts(p, app, map[string]any{"tag": "v1.2"}) || accepts(p, other, map[string]any{"tag": "v1.2"}) || accepts(p, app, map[string]any{"tag": "v2"}) {
		t.Error("the filter does not select as written")
	}
	if accepts(p, app, nil) {
		t.Error("a request without the field passed")
	}
	if _, err := compileFilter(`"a" + "b"`); err == nil {
		t.Error("a non-bool filter compiled")
	}
}

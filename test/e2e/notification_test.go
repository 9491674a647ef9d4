package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// recorder is a loopback HTTP endpoint that keeps what it receives.
type recorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
}

type recorded struct {
	Path    string
	Header  http.Header
	Body    []byte
	Decoded map[string]any
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var decoded map[string]any
		_ = json.Unmarshal(body, &decoded)
		r.mu.Lock()
		r.requests = append(r.requests, recorded{Path: req.URL.Path, Header: req.Header.Clone(), Body: body, Decoded: decoded})
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.requests...)
}

// find returns the first request whose body mentions every string.
func (r *recorder) find(subs ...string) *recorded {
	for _, req := range r.all() {
		ok := true
		for _, s := range subs {
			if !bytes.Contains(req.Body, []byte(s)) {
				ok = false
				break
			}
		}
		if ok {
			return &req
		}
	}
	return nil
}

// TestAlert_KustomizationFailureReachesAGenericProvider: a failing
// Kustomization's event reaches a generic Provider as Flux's event JSON,
// with the attempted revision in its metadata; an Alert's exclusionList
// drops a matching event.
func TestAlert_KustomizationFailureReachesAGenericProvider(t *testing.T) {
	ns := namespace(t, "alert-generic")
	hook := newRecorder(t)
	_, rev := gitSource(t, ns, map[string]string{
		"broken/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken}\ndata: [not, a, map]\n",
	})
	apply(t, fmt.Sprintf(`apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata: {name: hook, namespace: %[1]s}
spec:
  type: generic
  address: %[2]s/flux-events
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata: {name: failures, namespace: %[1]s}
spec:
  providerRef: {name: hook}
  eventSeverity: error
  summary: "cluster: local"
  eventSources:
  - kind: Kustomization
    name: '*'
  exclusionList: ["excluded-path"]
`, ns, hook.URL))
	// First a failure the Alert excludes, then one it sends.
	apply(t, kustomizationAt(ns, "excluded", "./excluded-path", ""))
	waitForObject(t, "kustomizations", ns, "excluded", 60*time.Second, "failed", func(o map[string]interface{}) bool {
		s, _, _ := condition(o, "Ready")
		return s == "False"
	})
	apply(t, kustomizationAt(ns, "broken", "./broken", ""))
	var got *recorded
	waitFor(t, 60*time.Second, "the failure at the provider", func() bool {
		got = hook.find(`"name":"broken"`)
		return got != nil
	})
	if got.Path != "/flux-events" || got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("POST %s with Content-Type %q", got.Path, got.Header.Get("Content-Type"))
	}
	e := got.Decoded
	obj, _ := e["involvedObject"].(map[string]any)
	md, _ := e["metadata"].(map[string]any)
	if obj["kind"] != "Kustomization" || obj["namespace"] != ns || obj["apiVersion"] != "kustomize.toolkit.fluxcd.io/v1" {
		t.Errorf("involvedObject = %v", obj)
	}
	if e["severity"] != "error" || e["reportingController"] != "kustomize-controller" || e["reason"] == "" || e["message"] == "" {
		t.Errorf("event = %s", got.Body)
	}
	if md["revision"] != "main@sha1:"+rev || md["summary"] != "cluster: local" {
		t.Errorf("metadata = %v", md)
	}
	time.Sleep(2 * time.Second) // both events were emitted; give the excluded one every chance
	if hook.find(`"name":"excluded"`) != nil {
		t.Error("the Alert's exclusionList did not drop the excluded event")
	}
}

// TestReceiver_GitHubWebhookTriggersAFetch: a github Receiver with a valid
// signature makes a GitRepository fetch a new commit at once; a wrong
// signature is refused and triggers nothing.
func TestReceiver_GitHubWebhookTriggersAFetch(t *testing.T) {
	const token = "receiver-token-do-not-leak"
	ns := namespace(t, "receiver-github")
	repo, first := gitSource(t, ns, map[string]string{"a.yaml": "a: 1\n"})
	kubectl(t, "create", "secret", "generic", "webhook-token", "-n", ns, "--from-literal=token="+token)
	apply(t, fmt.Sprintf(`apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata: {name: github, namespace: %s}
spec:
  type: github
  events: ["push"]
  secretRef: {name: webhook-token}
  resources:
  - kind: GitRepository
    name: app
`, ns))
	obj := waitForObject(t, "receivers", ns, "github", 60*time.Second, "ready", readyAt)
	path := nested(obj, "status", "webhookPath")
	if !strings.HasPrefix(path, "/hook/") {
		t.Fatalf("webhookPath %q", path)
	}
	second := repo.Commit(t, map[string]string{"a.yaml": "a: 2\n"}, "second")
	body := []byte(`{"ref":"refs/heads/main","after":"` + second + `"}`)
	post := func(signature string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+cp.ReceiverAddress()+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-Hub-Signature-256", signature)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("sha256=" + strings.Repeat("0", 64)); code != http.StatusUnauthorized {
		t.Errorf("a wrong signature answered %d", code)
	}
	time.Sleep(2 * time.Second)
	if got := nested(getObject(t, "gitrepositories", ns, "app"), "status", "artifact", "revision"); got != "main@sha1:"+first {
		t.Fatalf("a refused webhook triggered a fetch: revision %s", got)
	}
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write(body)
	if code := post("sha256=" + hex.EncodeToString(mac.Sum(nil))); code != http.StatusOK {
		t.Fatalf("a valid webhook answered %d", code)
	}
	waitForObject(t, "gitrepositories", ns, "app", 30*time.Second, "the pushed commit", revisionIs("main@sha1:"+second))
	if strings.Contains(kubectl(t, "get", "receiver", "github", "-n", ns, "-o", "yaml")+events(t, ns), token) {
		t.Error("the token appears in the Receiver or events")
	}
}

// githubAPI is a loopback server speaking the part of GitHub's REST API
// that commit statuses use (a GitHub Enterprise host: API under /api/v3).
type githubAPI struct {
	*httptest.Server
	mu       sync.Mutex
	statuses map[string][]map[string]any // sha → statuses, newest first
	auth     []string
}

func newGitHubAPI(t *testing.T) *githubAPI {
	g := &githubAPI{statuses: map[string][]map[string]any{}}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.auth = append(g.auth, r.Header.Get("Authorization"))
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v3/repos/"), "/")
		switch {
		case r.Method == http.MethodGet && len(parts) == 5 && parts[2] == "commits" && parts[4] == "statuses":
			_ = json.NewEncoder(w).Encode(append([]map[string]any{}, g.statuses[parts[3]]...))
		case r.Method == http.MethodPost && len(parts) == 4 && parts[2] == "statuses":
			var s map[string]any
			_ = json.NewDecoder(r.Body).Decode(&s)
			g.statuses[parts[3]] = append([]map[string]any{s}, g.statuses[parts[3]]...)
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(s)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *githubAPI) latest(sha string) map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s := g.statuses[sha]; len(s) > 0 {
		return s[0]
	}
	return nil
}

// TestAlert_GitHubCommitStatusOnTheAppliedCommit: a github Provider sets
// a commit status on the commit a Kustomization applied, through GitHub's
// API shape, with the token from the Provider's Secret.
func TestAlert_GitHubCommitStatusOnTheAppliedCommit(t *testing.T) {
	const token = "ghp-commit-status-token"
	ns := namespace(t, "alert-github")
	gh := newGitHubAPI(t)
	kubectl(t, "create", "secret", "generic", "github-token", "-n", ns, "--from-literal=token="+token)
	apply(t, fmt.Sprintf(`apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata: {name: github, namespace: %[1]s}
spec:
  type: github
  address: %[2]s/org/app
  secretRef: {name: github-token}
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata: {name: status, namespace: %[1]s}
spec:
  providerRef: {name: github}
  eventSources:
  - kind: Kustomization
    name: app
`, ns, gh.URL))
	_, rev := gitSource(t, ns, map[string]string{"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: status}\ndata: {a: b}\n"})
	apply(t, kustomizationAt(ns, "app", "./app", ""))
	waitForObject(t, "kustomizations", ns, "app", 90*time.Second, "applied", appliedAt("main@sha1:"+rev))
	var status map[string]any
	waitFor(t, 60*time.Second, "a commit status on "+rev, func() bool {
		status = gh.latest(rev)
		return status != nil
	})
	if status["state"] != "success" || !strings.HasPrefix(fmt.Sprint(status["context"]), "kustomization/app/") {
		t.Errorf("status = %v", status)
	}
	gh.mu.Lock()
	defer gh.mu.Unlock()
	for _, a := range gh.auth {
		if a != "Bearer "+token {
			t.Errorf("Authorization %q", a)
		}
	}
}

// TestAlert_NATSProviderPublishes sends GitRepository events to a real
// nats-server on loopback.
func TestAlert_NATSProviderPublishes(t *testing.T) {
	ns := namespace(t, "alert-nats")
	opts := &natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true}
	srv, err := natsserver.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	msgs := make(chan *nats.Msg, 16)
	if _, err := nc.ChanSubscribe("flux.events", msgs); err != nil {
		t.Fatal(err)
	}
	apply(t, fmt.Sprintf(`apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata: {name: nats, namespace: %[1]s}
spec:
  type: nats
  address: %[2]s
  channel: flux.events
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata: {name: sources, namespace: %[1]s}
spec:
  providerRef: {name: nats}
  eventSources:
  - kind: GitRepository
    name: '*'
`, ns, srv.ClientURL()))
	_, rev := gitSource(t, ns, map[string]string{"a.yaml": "a: 1\n"})
	deadline := time.After(60 * time.Second)
	for {
		select {
		case m := <-msgs:
			var e map[string]any
			if err := json.Unmarshal(m.Data, &e); err != nil {
				t.Fatalf("not JSON: %s", m.Data)
			}
			obj, _ := e["involvedObject"].(map[string]any)
			md, _ := e["metadata"].(map[string]any)
			if obj["kind"] == "GitRepository" && obj["name"] == "app" && md["revision"] == "main@sha1:"+rev {
				return
			}
		case <-deadline:
			t.Fatal("no event of the GitRepository reached nats-server")
		}
	}
}

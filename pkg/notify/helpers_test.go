package notify_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

// request is what a provider endpoint received.
type request struct {
	Method string
	Host   string
	// Path is the escaped path, as sent ("%2F" kept).
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// endpoint is a loopback server recording requests and answering with
// answer (200 "{}" when nil).
type endpoint struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []request
	answer func(r *http.Request) (int, string)
}

func newEndpoint(t *testing.T, answer func(r *http.Request) (int, string)) *endpoint {
	t.Helper()
	ep := &endpoint{answer: answer}
	ep.Server = httptest.NewServer(http.HandlerFunc(ep.serve))
	t.Cleanup(ep.Close)
	return ep
}

// newTLSEndpoint is newEndpoint over TLS.
func newTLSEndpoint(t *testing.T, answer func(r *http.Request) (int, string)) *endpoint {
	t.Helper()
	ep := &endpoint{answer: answer}
	ep.Server = httptest.NewTLSServer(http.HandlerFunc(ep.serve))
	t.Cleanup(ep.Close)
	return ep
}

func (ep *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ep.mu.Lock()
	ep.reqs = append(ep.reqs, request{Method: r.Method, Host: r.Host, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body})
	ep.mu.Unlock()
	status, answer := http.StatusOK, "{}"
	if ep.answer != nil {
		status, answer = ep.answer(r)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func (ep *endpoint) requests() []request {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return append([]request(nil), ep.reqs...)
}

// only returns the single request the endpoint received.
func (ep *endpoint) only(t *testing.T) request {
	t.Helper()
	reqs := ep.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1: %+v", len(reqs), reqs)
	}
	return reqs[0]
}

// dialTo returns a DialContext sending every connection to ep, so that
// tests can use real provider host names.
func dialTo(ep *endpoint) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, ep.Listener.Addr().String())
	}
}

// insecureTLS trusts any server: with dialTo, the test server stands in
// for a real host name.
func insecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} } //nolint:gosec // test

var eventTime = time.Date(2022, 10, 28, 7, 26, 19, 0, time.UTC)

const testSHA = "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"

// testEvent is a Kustomization event with a revision and a summary.
func testEvent(severity string) notify.Event {
	return notify.Event{
		InvolvedObject: corev1.ObjectReference{
			APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization",
			Namespace: "apps", Name: "webapp", UID: "7d0cdc51-ddcf-4743-b223-83ca5c699632",
		},
		Severity:            severity,
		Timestamp:           metav1.NewTime(eventTime),
		Message:             "Applied revision: main@sha1:" + testSHA,
		Reason:              "ReconciliationSucceeded",
		Metadata:            map[string]string{"revision": "main@sha1:" + testSHA, "summary": "cluster eu-1"},
		ReportingController: "kustomize-controller",
		ReportingInstance:   "kustomize-controller-7c7b47f5f-8bhrp",
	}
}

func errorEvent() notify.Event {
	e := testEvent(notify.SeverityError)
	e.Reason = "HealthCheckFailed"
	e.Message = "health check failed after 30s"
	return e
}

func mustNew(t *testing.T, o notify.Options) notify.Notifier {
	t.Helper()
	n, err := notify.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

func post(t *testing.T, n notify.Notifier, e notify.Event) {
	t.Helper()
	if err := n.Post(context.Background(), e); err != nil {
		t.Fatalf("Post: %v", err)
	}
}

// wantJSON compares a JSON body with the expected JSON text.
func wantJSON(t *testing.T, body []byte, want string) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad expected JSON: %v", err)
	}
	if d := cmp.Diff(exp, got); d != "" {
		t.Errorf("payload (-want +got):\n%s", d)
	}
}

// wantHeader checks header values.
func wantHeader(t *testing.T, h http.Header, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
}

// wantRequest checks method and escaped path.
func wantRequest(t *testing.T, r request, method, path string) {
	t.Helper()
	if r.Method != method || r.Path != path {
		t.Errorf("request = %s %s, want %s %s", r.Method, r.Path, method, path)
	}
}

// eventJSON is the Event as providers forwarding it must send it.
func eventJSON(t *testing.T, e notify.Event) string {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

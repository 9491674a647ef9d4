package receiver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/klog/v2/textlogger"
)

// testToken is distinctive so a leak into logs or errors is easy to find.
const testToken = "s3cr3t-T0ken-never-logged"

// payloadMarker is in every test body, so a body leaking into logs is found.
const payloadMarker = "PAYLOAD-MARKER-7f3a"

// bodies holds a valid payload per type.
var bodies = map[string]string{
	TypeGeneric:     `{"note":"` + payloadMarker + `"}`,
	TypeGenericHMAC: `{"note":"` + payloadMarker + `"}`,
	TypeGitHub:      `{"ref":"refs/heads/main","note":"` + payloadMarker + `"}`,
	TypeGitLab:      `{"object_kind":"push","note":"` + payloadMarker + `"}`,
	TypeBitbucket:   `{"eventKey":"repo:refs_changed","note":"` + payloadMarker + `"}`,
	TypeHarbor:      `{"type":"PUSH_ARTIFACT","note":"` + payloadMarker + `"}`,
	TypeDockerHub:   `{"push_data":{"tag":"v1"},"repository":{"repo_url":"https://hub.docker.com/r/a/b"},"note":"` + payloadMarker + `"}`,
	TypeQuay:        `{"docker_url":"quay.io/a/b","updated_tags":["v1"],"note":"` + payloadMarker + `"}`,
	TypeACR:         `{"action":"push","target":{"repository":"a/b","tag":"v1"},"note":"` + payloadMarker + `"}`,
	TypeNexus:       `{"action":"CREATED","repositoryName":"docker-hosted","note":"` + payloadMarker + `"}`,
	TypeCDEvents: `{"context":{"specversion":"0.4.1","id":"1","source":"ci","type":"dev.cdevents.artifact.published.0.1.1",` +
		`"timestamp":"2024-01-01T00:00:00Z"},"subject":{"id":"pkg:oci/app","content":{}},"note":"` + payloadMarker + `"}`,
	TypeGCR: `{"message":{"data":"e30="},"note":"` + payloadMarker + `"}`,
}

// hmacHex is the hex HMAC of body keyed with token.
func hmacHex(newHash func() hash.Hash, token string, body []byte) string {
	mac := hmac.New(newHash, []byte(token))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// validDelivery is a request of typ that verifies against testToken.
func validDelivery(typ string) (http.Header, []byte) {
	body := []byte(bodies[typ])
	h := http.Header{"Content-Type": {"application/json"}}
	switch typ {
	case TypeGenericHMAC:
		h.Set("X-Signature", "sha256="+hmacHex(sha256.New, testToken, body))
	case TypeGitHub:
		h.Set("X-Hub-Signature-256", "sha256="+hmacHex(sha256.New, testToken, body))
		h.Set("X-GitHub-Event", "push")
	case TypeGitLab:
		h.Set("X-Gitlab-Token", testToken)
		h.Set("X-Gitlab-Event", "Push Hook")
	case TypeBitbucket:
		h.Set("X-Hub-Signature", "sha256="+hmacHex(sha256.New, testToken, body))
		h.Set("X-Event-Key", "repo:refs_changed")
	case TypeHarbor:
		h.Set("Authorization", testToken)
	case TypeNexus:
		h.Set("X-Nexus-Webhook-Signature", hmacHex(sha1.New, testToken, body))
	case TypeCDEvents:
		h.Set("Ce-Type", "dev.cdevents.artifact.published.0.1.1")
	}
	return h, body
}

// fixture is a Handler on a loopback server with recorded triggers and logs.
type fixture struct {
	srv      *httptest.Server
	handler  *Handler
	clock    *fakeClock
	logs     *lockedBuffer
	mu       sync.Mutex
	triggers []triggered
}

type triggered struct {
	rc      Receiver
	payload string
}

func newFixture(t *testing.T, receivers []Receiver, mod func(*Handler)) *fixture {
	t.Helper()
	f := &fixture{clock: &fakeClock{t: time.Unix(1_700_000_000, 0)}, logs: &lockedBuffer{}}
	byPath := map[string]Receiver{}
	for _, rc := range receivers {
		byPath[WebhookPath(rc.Token, rc.Name, rc.Namespace)] = rc
	}
	f.handler = &Handler{
		Lookup: func(p string) (Receiver, bool) { rc, ok := byPath[p]; return rc, ok },
		Trigger: func(_ context.Context, rc Receiver, payload []byte) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.triggers = append(f.triggers, triggered{rc, string(payload)})
			return nil
		},
		Log: textlogger.NewLogger(textlogger.NewConfig(textlogger.Output(f.logs), textlogger.Verbosity(10))),
		Now: f.clock.Now,
	}
	if mod != nil {
		mod(f.handler)
	}
	f.srv = httptest.NewServer(f.handler)
	t.Cleanup(f.srv.Close)
	return f
}

// post sends body with headers to the Receiver's path and returns the answer.
func (f *fixture) post(t *testing.T, rc Receiver, h http.Header, body []byte) *http.Response {
	t.Helper()
	return f.do(t, http.MethodPost, WebhookPath(rc.Token, rc.Name, rc.Namespace), h, bytes.NewReader(body))
}

func (f *fixture) do(t *testing.T, method, path string, h http.Header, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}

func (f *fixture) triggered() []triggered {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]triggered(nil), f.triggers...)
}

func receiverOf(typ string, events ...string) Receiver {
	return Receiver{Namespace: "apps", Name: typ + "-receiver", Type: typ, Token: testToken, Events: events}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Step(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// lockedBuffer collects log output from server goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

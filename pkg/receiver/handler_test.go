package receiver

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// servedTypes are the types a valid delivery triggers.
var servedTypes = []string{TypeGeneric, TypeGenericHMAC, TypeGitHub, TypeGitLab, TypeBitbucket, TypeHarbor,
	TypeDockerHub, TypeQuay, TypeACR, TypeNexus, TypeCDEvents}

func TestHandler_ValidDeliveryTriggersOnce(t *testing.T) {
	for _, typ := range servedTypes {
		t.Run(typ, func(t *testing.T) {
			rc := receiverOf(typ)
			f := newFixture(t, []Receiver{rc}, nil)
			h, body := validDelivery(typ)
			if resp := f.post(t, rc, h, body); resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			got := f.triggered()
			if len(got) != 1 || got[0].rc.Name != rc.Name || got[0].payload != string(body) {
				t.Fatalf("triggers = %+v, want one for %s with the body", got, rc.Name)
			}
		})
	}
}

func TestHandler_RefusedRequestsTriggerNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		typ   string
		edits []edit
		want  int
	}{
		{"generic-hmac bad signature", TypeGenericHMAC, []edit{set("X-Signature", "sha256=00")}, http.StatusUnauthorized},
		{"github bad signature", TypeGitHub, []edit{set("X-Hub-Signature-256", "sha256=00")}, http.StatusUnauthorized},
		{"github unsigned ping", TypeGitHub, []edit{set("X-GitHub-Event", "ping"), del("X-Hub-Signature-256")}, http.StatusUnauthorized},
		{"gitlab wrong token", TypeGitLab, []edit{set("X-Gitlab-Token", "wrong")}, http.StatusUnauthorized},
		{"bitbucket bad signature", TypeBitbucket, []edit{del("X-Hub-Signature")}, http.StatusUnauthorized},
		{"harbor wrong token", TypeHarbor, []edit{set("Authorization", "wrong")}, http.StatusUnauthorized},
		{"nexus bad signature", TypeNexus, []edit{set("X-Nexus-Webhook-Signature", "00")}, http.StatusUnauthorized},
		{"dockerhub not json", TypeDockerHub, []edit{body("nope")}, http.StatusBadRequest},
		{"quay not json", TypeQuay, []edit{body("nope")}, http.StatusBadRequest},
		{"acr not json", TypeACR, []edit{body("nope")}, http.StatusBadRequest},
		{"cdevents not a cdevent", TypeCDEvents, []edit{body("{}")}, http.StatusBadRequest},
		{"gcr cannot be verified", TypeGCR, nil, http.StatusNotImplemented},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := receiverOf(tc.typ)
			f := newFixture(t, []Receiver{rc}, nil)
			h, b := validDelivery(tc.typ)
			for _, e := range tc.edits {
				e(h, &b)
			}
			if resp := f.post(t, rc, h, b); resp.StatusCode != tc.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.want)
			}
			if got := f.triggered(); len(got) != 0 {
				t.Fatalf("triggered %d times, want none", len(got))
			}
		})
	}
}

func TestHandler_FilteredEventsAnswer200WithoutTrigger(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rc    Receiver
		edits []edit
	}{
		{"github event not in events", receiverOf(TypeGitHub, "push"), []edit{set("X-GitHub-Event", "issues")}},
		{"github ping even when listed", receiverOf(TypeGitHub, "ping"), []edit{set("X-GitHub-Event", "ping")}},
		{"gitlab event not in events", receiverOf(TypeGitLab, "Tag Push Hook"), nil},
		{"bitbucket event not in events", receiverOf(TypeBitbucket, "pr:merged"), nil},
		{"cdevents type not in events", receiverOf(TypeCDEvents, "dev.cdevents.service.deployed.0.1.1"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, []Receiver{tc.rc}, nil)
			h, b := validDelivery(tc.rc.Type)
			for _, e := range tc.edits {
				e(h, &b)
			}
			if resp := f.post(t, tc.rc, h, b); resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			if got := f.triggered(); len(got) != 0 {
				t.Fatalf("triggered %d times, want none", len(got))
			}
		})
	}
}

func TestHandler_UnknownPathIs404(t *testing.T) {
	f := newFixture(t, []Receiver{receiverOf(TypeGeneric)}, nil)
	other := receiverOf(TypeGeneric)
	other.Token = "another-token"
	if resp := f.post(t, other, nil, []byte("{}")); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status = %d, want 404", resp.StatusCode)
	}
	if resp := f.do(t, http.MethodPost, "/hook/", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status = %d, want 404", resp.StatusCode)
	}
	if len(f.triggered()) != 0 {
		t.Fatal("an unknown path triggered")
	}
}

func TestHandler_OnlyPostIsAllowed(t *testing.T) {
	rc := receiverOf(TypeGeneric)
	f := newFixture(t, []Receiver{rc}, nil)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		resp := f.do(t, m, WebhookPath(rc.Token, rc.Name, rc.Namespace), nil, nil)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
			t.Errorf("%s: status = %d, Allow = %q; want 405 and POST", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	if len(f.triggered()) != 0 {
		t.Fatal("a non-POST request triggered")
	}
}

func TestHandler_BodyOverCapIs413(t *testing.T) {
	rc := receiverOf(TypeGeneric)
	f := newFixture(t, []Receiver{rc}, func(h *Handler) { h.MaxBodyBytes = 64 })
	big := strings.Repeat("x", 65)
	if resp := f.post(t, rc, nil, []byte(big)); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("with Content-Length: status = %d, want 413", resp.StatusCode)
	}
	// Without a Content-Length (chunked), the cap applies while reading.
	chunked := struct{ *strings.Reader }{strings.NewReader(big)}
	path := WebhookPath(rc.Token, rc.Name, rc.Namespace)
	if resp := f.do(t, http.MethodPost, path, nil, chunked); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked: status = %d, want 413", resp.StatusCode)
	}
	if resp := f.post(t, rc, nil, []byte(big[:64])); resp.StatusCode != http.StatusOK {
		t.Errorf("at the cap: status = %d, want 200", resp.StatusCode)
	}
	if got := len(f.triggered()); got != 1 {
		t.Fatalf("triggered %d times, want only the request at the cap", got)
	}
}

func TestHandler_RateLimitsVerifiedRequestsPerReceiver(t *testing.T) {
	a, b := receiverOf(TypeGitLab), receiverOf(TypeGitLab)
	b.Name = "other"
	f := newFixture(t, []Receiver{a, b}, func(h *Handler) { h.RatePerMinute, h.Burst = 6, 2 })
	h, body := validDelivery(TypeGitLab)
	bad := h.Clone()
	bad.Set("X-Gitlab-Token", "wrong")
	for i := 0; i < 5; i++ { // refused requests do not use the bucket
		f.post(t, a, bad, body)
	}
	for i, want := range []int{200, 200, 429} {
		if resp := f.post(t, a, h, body); resp.StatusCode != want {
			t.Fatalf("request %d: status = %d, want %d", i, resp.StatusCode, want)
		} else if want == 429 && resp.Header.Get("Retry-After") != "10" {
			t.Errorf("Retry-After = %q, want 10 (6 per minute)", resp.Header.Get("Retry-After"))
		}
	}
	if resp := f.post(t, b, h, body); resp.StatusCode != http.StatusOK {
		t.Fatalf("other receiver: status = %d, want 200", resp.StatusCode)
	}
	f.clock.Step(10 * time.Second)
	if resp := f.post(t, a, h, body); resp.StatusCode != http.StatusOK {
		t.Fatalf("after refill: status = %d, want 200", resp.StatusCode)
	}
	if got := len(f.triggered()); got != 4 {
		t.Fatalf("triggered %d times, want 4", got)
	}
}

func TestHandler_TriggerFailureIs500(t *testing.T) {
	rc := receiverOf(TypeGeneric)
	f := newFixture(t, []Receiver{rc}, func(h *Handler) {
		h.Trigger = func(context.Context, Receiver, []byte) error { return errors.New("apiserver down") }
	})
	if resp := f.post(t, rc, nil, []byte("{}")); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", resp.StatusCode)
	}
}

func TestHandler_FormEncodedGitHubDeliveryTriggersWithItsJSON(t *testing.T) {
	rc := receiverOf(TypeGitHub)
	f := newFixture(t, []Receiver{rc}, nil)
	json := bodies[TypeGitHub]
	form := []byte(url.Values{"payload": {json}}.Encode())
	h, _ := validDelivery(TypeGitHub)
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("X-Hub-Signature-256", "sha256="+hmacHex(sha256.New, testToken, form))
	if resp := f.post(t, rc, h, form); resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if got := f.triggered(); len(got) != 1 || got[0].payload != json {
		t.Fatalf("triggers = %+v, want the JSON of the payload field", got)
	}
}

func TestHandler_LogsNeverHoldTokenOrPayload(t *testing.T) {
	var rcs []Receiver
	for _, typ := range append(servedTypes, TypeGCR) {
		rcs = append(rcs, receiverOf(typ, "push", "Push Hook", "repo:refs_changed", "dev.cdevents.artifact.published.0.1.1"))
	}
	f := newFixture(t, rcs, func(h *Handler) { h.Burst = 1 })
	for _, rc := range rcs {
		h, b := validDelivery(rc.Type)
		f.post(t, rc, h, b) // verified (or unsupported)
		f.post(t, rc, h, b) // rate limited
		wrong := h.Clone()
		for k := range wrong {
			wrong.Set(k, testToken+"-tampered")
		}
		f.post(t, rc, wrong, b) // refused
	}
	f.do(t, http.MethodGet, "/hook/"+testToken, nil, nil)
	logs := f.logs.String()
	for _, secret := range []string{testToken, payloadMarker, "sha256="} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "apps/github-receiver") || !strings.Contains(logs, "status=429") {
		t.Errorf("logs do not name the receiver and the outcome:\n%s", logs)
	}
}

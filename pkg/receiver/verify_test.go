package receiver

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWebhookPath_IsFluxDigest(t *testing.T) {
	// Expected values from: printf '<token><name><namespace>' | sha256sum
	for _, tc := range []struct{ token, name, namespace, want string }{
		{"token", "name", "ns", "/hook/9f3f1bb97bc2396f3fa58dc72a9c08a57c02e524af1250535429cdb90db6028e"},
		{"abc", "github-receiver", "flux-system", "/hook/e357707455b4293b60dd1fcaa78132ba2589beef4f96bbfc75f869a23148d180"},
	} {
		if got := WebhookPath(tc.token, tc.name, tc.namespace); got != tc.want {
			t.Errorf("WebhookPath(%q, %q, %q) = %s, want %s", tc.token, tc.name, tc.namespace, got, tc.want)
		}
	}
}

func TestCheckType_StallsOnlyUnverifiableTypes(t *testing.T) {
	for typ := range bodies {
		err := CheckType(typ)
		if wantUnsupported := typ == TypeGCR; errors.Is(err, ErrUnsupported) != wantUnsupported {
			t.Errorf("CheckType(%q) = %v, want ErrUnsupported: %v", typ, err, wantUnsupported)
		}
	}
	if err := CheckType("gitea"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("CheckType(unknown) = %v, want ErrUnsupported", err)
	}
}

// edit changes a valid delivery of its type into the case under test.
type edit func(h http.Header, body *[]byte)

func set(k, v string) edit { return func(h http.Header, _ *[]byte) { h.Set(k, v) } }
func del(k string) edit    { return func(h http.Header, _ *[]byte) { h.Del(k) } }
func body(s string) edit   { return func(_ http.Header, b *[]byte) { *b = []byte(s) } }

func TestVerify_PerType(t *testing.T) {
	wrong := "sha256=" + hmacHex(sha256.New, "wrong-token", []byte(bodies[TypeGitHub]))
	hmacBody := []byte(bodies[TypeGenericHMAC])
	nexusJunk := "not json"
	for _, tc := range []struct {
		name   string
		rc     Receiver
		edits  []edit
		wantIs error // nil: must trigger
	}{
		{"generic/any request", receiverOf(TypeGeneric), nil, nil},
		{"generic/events do not filter", receiverOf(TypeGeneric, "push"), nil, nil},

		{"generic-hmac/sha256", receiverOf(TypeGenericHMAC), nil, nil},
		{"generic-hmac/sha1", receiverOf(TypeGenericHMAC), []edit{set("X-Signature", "sha1="+hmacHex(sha1.New, testToken, hmacBody))}, nil},
		{"generic-hmac/sha512", receiverOf(TypeGenericHMAC), []edit{set("X-Signature", "sha512="+hmacHex(sha512.New, testToken, hmacBody))}, nil},
		{"generic-hmac/wrong token", receiverOf(TypeGenericHMAC), []edit{set("X-Signature", wrong)}, ErrUnauthorized},
		{"generic-hmac/body changed", receiverOf(TypeGenericHMAC), []edit{body(`{"note":"tampered"}`)}, ErrUnauthorized},
		{"generic-hmac/missing", receiverOf(TypeGenericHMAC), []edit{del("X-Signature")}, ErrUnauthorized},
		{"generic-hmac/md5 refused", receiverOf(TypeGenericHMAC), []edit{set("X-Signature", "md5=00")}, ErrUnauthorized},
		{"generic-hmac/no algorithm", receiverOf(TypeGenericHMAC), []edit{set("X-Signature", hmacHex(sha256.New, testToken, hmacBody))}, ErrUnauthorized},
		{"generic-hmac/not hex", receiverOf(TypeGenericHMAC), []edit{set("X-Signature", "sha256=zz")}, ErrUnauthorized},

		{"github/push", receiverOf(TypeGitHub, "push"), nil, nil},
		{"github/event case-insensitive", receiverOf(TypeGitHub, "PUSH"), nil, nil},
		{"github/no events accepts all", receiverOf(TypeGitHub), []edit{set("X-GitHub-Event", "release")}, nil},
		{"github/legacy sha1 header", receiverOf(TypeGitHub), []edit{del("X-Hub-Signature-256"),
			set("X-Hub-Signature", "sha1="+hmacHex(sha1.New, testToken, []byte(bodies[TypeGitHub])))}, nil},
		{"github/wrong signature", receiverOf(TypeGitHub), []edit{set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))}, ErrUnauthorized},
		{"github/missing signature", receiverOf(TypeGitHub), []edit{del("X-Hub-Signature-256")}, ErrUnauthorized},
		{"github/event filtered", receiverOf(TypeGitHub, "push"), []edit{set("X-GitHub-Event", "issues")}, ErrIgnoredEvent},
		{"github/ping acknowledged", receiverOf(TypeGitHub, "ping", "push"), []edit{set("X-GitHub-Event", "ping")}, ErrIgnoredEvent},
		{"github/ping needs signature", receiverOf(TypeGitHub), []edit{set("X-GitHub-Event", "ping"), del("X-Hub-Signature-256")}, ErrUnauthorized},

		{"gitlab/push", receiverOf(TypeGitLab, "Push Hook"), nil, nil},
		{"gitlab/wrong token", receiverOf(TypeGitLab), []edit{set("X-Gitlab-Token", "nope")}, ErrUnauthorized},
		{"gitlab/missing token", receiverOf(TypeGitLab), []edit{del("X-Gitlab-Token")}, ErrUnauthorized},
		{"gitlab/event filtered", receiverOf(TypeGitLab, "Tag Push Hook"), nil, ErrIgnoredEvent},

		{"bitbucket/refs changed", receiverOf(TypeBitbucket, "repo:refs_changed"), nil, nil},
		{"bitbucket/wrong signature", receiverOf(TypeBitbucket), []edit{set("X-Hub-Signature", wrong)}, ErrUnauthorized},
		{"bitbucket/event filtered", receiverOf(TypeBitbucket, "pr:opened"), nil, ErrIgnoredEvent},

		{"harbor/token", receiverOf(TypeHarbor), nil, nil},
		{"harbor/wrong token", receiverOf(TypeHarbor), []edit{set("Authorization", "Bearer "+testToken)}, ErrUnauthorized},
		{"harbor/missing", receiverOf(TypeHarbor), []edit{del("Authorization")}, ErrUnauthorized},

		{"dockerhub/payload", receiverOf(TypeDockerHub), nil, nil},
		{"dockerhub/not json", receiverOf(TypeDockerHub), []edit{body("<html>")}, ErrInvalidPayload},
		{"dockerhub/wrong shape", receiverOf(TypeDockerHub), []edit{body(`{"push_data":{"tag":1}}`)}, ErrInvalidPayload},
		{"quay/payload", receiverOf(TypeQuay), nil, nil},
		{"quay/wrong shape", receiverOf(TypeQuay), []edit{body(`{"updated_tags":"v1"}`)}, ErrInvalidPayload},
		{"acr/payload", receiverOf(TypeACR), nil, nil},
		{"acr/wrong shape", receiverOf(TypeACR), []edit{body(`{"target":[]}`)}, ErrInvalidPayload},

		{"nexus/signed", receiverOf(TypeNexus), nil, nil},
		{"nexus/wrong signature", receiverOf(TypeNexus), []edit{set("X-Nexus-Webhook-Signature", hmacHex(sha1.New, "wrong", []byte(bodies[TypeNexus])))}, ErrUnauthorized},
		{"nexus/missing signature", receiverOf(TypeNexus), []edit{del("X-Nexus-Webhook-Signature")}, ErrUnauthorized},
		{"nexus/signed junk", receiverOf(TypeNexus), []edit{body(nexusJunk),
			set("X-Nexus-Webhook-Signature", hmacHex(sha1.New, testToken, []byte(nexusJunk)))}, ErrInvalidPayload},

		{"cdevents/event", receiverOf(TypeCDEvents, "dev.cdevents.artifact.published.0.1.1"), nil, nil},
		{"cdevents/filtered on ce-type", receiverOf(TypeCDEvents, "dev.cdevents.service.deployed.0.1.1"), nil, ErrIgnoredEvent},
		{"cdevents/structured mode uses context.type", receiverOf(TypeCDEvents, "dev.cdevents.service.deployed.0.1.1"), []edit{del("Ce-Type")}, ErrIgnoredEvent},
		{"cdevents/not a cdevent", receiverOf(TypeCDEvents), []edit{body(`{"context":{"type":"x"}}`)}, ErrInvalidPayload},

		{"gcr/unsupported offline", receiverOf(TypeGCR), []edit{set("Authorization", "Bearer x.y.z")}, ErrUnsupported},
		{"unknown type", receiverOf("gitea"), nil, ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, b := validDelivery(tc.rc.Type)
			for _, e := range tc.edits {
				e(h, &b)
			}
			req := httptest.NewRequest(http.MethodPost, WebhookPath(tc.rc.Token, tc.rc.Name, tc.rc.Namespace), nil)
			req.Header = h
			err := Verify(tc.rc, req, b)
			if tc.wantIs == nil && err != nil || tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Fatalf("Verify = %v, want %v", err, tc.wantIs)
			}
			if err != nil && (strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), payloadMarker)) {
				t.Errorf("error reveals the token or the body: %v", err)
			}
		})
	}
}

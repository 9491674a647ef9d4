package receiver

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"slices"
	"strings"
)

// hashes are the functions a "<algo>=<hex>" signature may name, as Flux
// (through go-github's ValidateSignature) accepts them.
var hashes = map[string]func() hash.Hash{
	"sha1":   sha1.New,
	"sha256": sha256.New,
	"sha512": sha512.New,
}

// checkSignature verifies a "<algo>=<hex HMAC of body keyed with token>" header.
func checkSignature(header, value string, body []byte, token string) error {
	if value == "" {
		return fmt.Errorf("%w: the %s header is missing", ErrUnauthorized, header)
	}
	algo, sig, ok := strings.Cut(value, "=")
	newHash := hashes[strings.ToLower(algo)]
	if !ok || newHash == nil {
		return fmt.Errorf("%w: the %s header is not \"<sha1|sha256|sha512>=<hex>\"", ErrUnauthorized, header)
	}
	if !equalHMAC(newHash, token, body, sig) {
		return fmt.Errorf("%w: the %s header is not the %s HMAC of the body keyed with the Secret's token",
			ErrUnauthorized, header, strings.ToLower(algo))
	}
	return nil
}

// equalHMAC compares a hex signature with the HMAC of body in constant time.
func equalHMAC(newHash func() hash.Hash, token string, body []byte, hexSig string) bool {
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(newHash, []byte(token))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// checkToken compares a header carrying the token itself in constant time.
func checkToken(header, value, token string) error {
	if value == "" {
		return fmt.Errorf("%w: the %s header is missing", ErrUnauthorized, header)
	}
	if subtle.ConstantTimeCompare([]byte(value), []byte(token)) != 1 {
		return fmt.Errorf("%w: the %s header does not match the Secret's token", ErrUnauthorized, header)
	}
	return nil
}

// verifyGitHub checks X-Hub-Signature-256 (or the legacy SHA-1 X-Hub-Signature
// when it is absent, as go-github does for Flux), then answers pings without
// triggering and filters on X-GitHub-Event. Gitea sends both headers too.
func verifyGitHub(rc Receiver, h http.Header, body []byte) error {
	header := "X-Hub-Signature-256"
	if h.Get(header) == "" && h.Get("X-Hub-Signature") != "" {
		header = "X-Hub-Signature"
	}
	if err := checkSignature(header, h.Get(header), body, rc.Token); err != nil {
		return err
	}
	event := h.Get("X-GitHub-Event")
	if strings.EqualFold(event, "ping") {
		return fmt.Errorf("%w: GitHub ping acknowledged", ErrIgnoredEvent)
	}
	return filterEvent(rc, "X-GitHub-Event", event)
}

// verifyNexus checks X-Nexus-Webhook-Signature, the plain hex HMAC-SHA1 of the
// body keyed with the token, then that the body is a Nexus payload.
func verifyNexus(h http.Header, body []byte, token string) error {
	sig := h.Get("X-Nexus-Webhook-Signature")
	if sig == "" {
		return fmt.Errorf("%w: the X-Nexus-Webhook-Signature header is missing", ErrUnauthorized)
	}
	if !equalHMAC(sha1.New, token, body, sig) {
		return fmt.Errorf("%w: the X-Nexus-Webhook-Signature header is not the SHA-1 HMAC of the body "+
			"keyed with the Secret's token", ErrUnauthorized)
	}
	return decodePayload(TypeNexus, body, &nexusPayload{})
}

// verifyCDEvent checks that the body is a CDEvent and filters on the
// CloudEvents ce-type header, or on the event's context.type when the event
// arrives in structured mode without that header.
func verifyCDEvent(rc Receiver, h http.Header, body []byte) error {
	var ev cdEvent
	if err := decodePayload(TypeCDEvents, body, &ev); err != nil {
		return err
	}
	c := ev.Context
	var missing []string
	for name, v := range map[string]string{"context.specversion": c.SpecVersion, "context.id": c.ID,
		"context.source": c.Source, "context.type": c.Type, "context.timestamp": c.Timestamp} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if ev.Subject == nil || ev.Subject.ID == "" {
		missing = append(missing, "subject.id")
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("%w: the CDEvent lacks %s", ErrInvalidPayload, strings.Join(missing, ", "))
	}
	event := h.Get("Ce-Type")
	if event == "" {
		event = c.Type
	}
	return filterEvent(rc, "ce-type", event)
}

// decodePayload is Flux's "minimal validation": the body must unmarshal into
// the payload shape of the type.
func decodePayload(typ string, body []byte, into any) error {
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("%w: the body is not a %s webhook payload: %s", ErrInvalidPayload, typ, jsonProblem(err))
	}
	return nil
}

// jsonProblem describes a decoding error without quoting the body.
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("invalid JSON at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("field %q is not a %s", e.Field, e.Type)
	}
	return "invalid JSON"
}

// Payload shapes Flux decodes for the registry types.
type (
	dockerHubPayload struct {
		PushData struct {
			Tag string `json:"tag"`
		} `json:"push_data"`
		Repository struct {
			URL string `json:"repo_url"`
		} `json:"repository"`
	}
	quayPayload struct {
		DockerURL   string   `json:"docker_url"`
		UpdatedTags []string `json:"updated_tags"`
	}
	acrPayload struct {
		Action string `json:"action"`
		Target struct {
			Repository string `json:"repository"`
			Tag        string `json:"tag"`
		} `json:"target"`
	}
	nexusPayload struct {
		Action         string `json:"action"`
		RepositoryName string `json:"repositoryName"`
	}
	cdEvent struct {
		Context struct {
			SpecVersion string `json:"specversion"`
			ID          string `json:"id"`
			Source      string `json:"source"`
			Type        string `json:"type"`
			Timestamp   string `json:"timestamp"`
		} `json:"context"`
		Subject *struct {
			ID string `json:"id"`
		} `json:"subject"`
	}
)

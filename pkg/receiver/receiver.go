package receiver

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Receiver types, as Flux's spec.type spells them.
const (
	TypeGeneric     = "generic"
	TypeGenericHMAC = "generic-hmac"
	TypeGitHub      = "github"
	TypeGitLab      = "gitlab"
	TypeBitbucket   = "bitbucket"
	TypeHarbor      = "harbor"
	TypeDockerHub   = "dockerhub"
	TypeQuay        = "quay"
	TypeGCR         = "gcr"
	TypeNexus       = "nexus"
	TypeACR         = "acr"
	TypeCDEvents    = "cdevents"
)

// PathPrefix is where every webhook path starts.
const PathPrefix = "/hook/"

// Sentinel errors that Verify wraps; Handler maps them to HTTP answers.
var (
	// ErrUnauthorized: the token or signature is missing or wrong.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrIgnoredEvent: the request is authentic but must trigger nothing
	// (an event type not in spec.events, or a GitHub ping).
	ErrIgnoredEvent = errors.New("event ignored")
	// ErrInvalidPayload: the body is not the payload the type expects.
	ErrInvalidPayload = errors.New("invalid payload")
	// ErrUnsupported: requests of this type cannot be verified here.
	ErrUnsupported = errors.New("receiver type not supported")
)

// Receiver is what the handler needs to know of one Receiver object.
type Receiver struct {
	Namespace, Name string
	// Type is Flux's spec.type, one of the Type constants.
	Type string
	// Token is the "token" of the Secret in spec.secretRef.
	Token string
	// Events are spec.events: the accepted event types (GitHub X-GitHub-Event,
	// GitLab X-Gitlab-Event, Bitbucket X-Event-Key, CDEvents ce-type),
	// compared case-insensitively; empty accepts all.
	Events []string
}

// WebhookPath is Flux's webhook path of a Receiver:
// "/hook/" + hex(sha256(token + name + namespace)).
func WebhookPath(token, name, namespace string) string {
	sum := sha256.Sum256([]byte(token + name + namespace))
	return PathPrefix + hex.EncodeToString(sum[:])
}

// CheckType returns nil when requests for typ can be verified by this
// package, and an error wrapping ErrUnsupported (saying what to do) otherwise,
// so a reconciler can stall such a Receiver before any request arrives.
func CheckType(typ string) error {
	switch typ {
	case TypeGeneric, TypeGenericHMAC, TypeGitHub, TypeGitLab, TypeBitbucket, TypeHarbor,
		TypeDockerHub, TypeQuay, TypeNexus, TypeACR, TypeCDEvents:
		return nil
	case TypeGCR:
		return fmt.Errorf("%w: spec.type %q needs the Google-signed JWT of the Pub/Sub push subscription "+
			"verified online, which this server does not do; use spec.type \"generic-hmac\" behind a relay",
			ErrUnsupported, typ)
	}
	return fmt.Errorf("%w: spec.type %q is unknown", ErrUnsupported, typ)
}

// Verify checks one request, whose body was already read, against one
// Receiver according to its type. It returns nil when the request must
// trigger, or an error wrapping ErrUnauthorized, ErrIgnoredEvent,
// ErrInvalidPayload or ErrUnsupported. Errors never contain the token, a
// signature or the body.
func Verify(rc Receiver, req *http.Request, body []byte) error {
	if err := CheckType(rc.Type); err != nil {
		return err
	}
	h := req.Header
	switch rc.Type {
	case TypeGeneric:
		return nil
	case TypeGenericHMAC:
		return checkSignature("X-Signature", h.Get("X-Signature"), body, rc.Token)
	case TypeGitHub:
		return verifyGitHub(rc, h, body)
	case TypeGitLab:
		if err := checkToken("X-Gitlab-Token", h.Get("X-Gitlab-Token"), rc.Token); err != nil {
			return err
		}
		return filterEvent(rc, "X-Gitlab-Event", h.Get("X-Gitlab-Event"))
	case TypeBitbucket:
		if err := checkSignature("X-Hub-Signature", h.Get("X-Hub-Signature"), body, rc.Token); err != nil {
			return err
		}
		return filterEvent(rc, "X-Event-Key", h.Get("X-Event-Key"))
	case TypeHarbor:
		return checkToken("Authorization", h.Get("Authorization"), rc.Token)
	case TypeDockerHub:
		return decodePayload(rc.Type, body, &dockerHubPayload{})
	case TypeQuay:
		return decodePayload(rc.Type, body, &quayPayload{})
	case TypeACR:
		return decodePayload(rc.Type, body, &acrPayload{})
	case TypeNexus:
		return verifyNexus(h, body, rc.Token)
	case TypeCDEvents:
		return verifyCDEvent(rc, h, body)
	}
	return fmt.Errorf("%w: spec.type %q", ErrUnsupported, rc.Type)
}

// EventType is the event type a request announces for typ ("" when the type
// has none or the header is absent); Handler logs it.
func EventType(typ string, h http.Header) string {
	switch typ {
	case TypeGitHub:
		return h.Get("X-GitHub-Event")
	case TypeGitLab:
		return h.Get("X-Gitlab-Event")
	case TypeBitbucket:
		return h.Get("X-Event-Key")
	case TypeCDEvents:
		return h.Get("Ce-Type")
	}
	return ""
}

// filterEvent accepts event when rc.Events is empty or lists it (ignoring case).
func filterEvent(rc Receiver, header, event string) error {
	if len(rc.Events) == 0 {
		return nil
	}
	for _, e := range rc.Events {
		if strings.EqualFold(e, event) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s %q is not in spec.events", ErrIgnoredEvent, header, event)
}

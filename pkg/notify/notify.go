package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Event is Flux's event JSON, as notification-controller receives it
// (github.com/fluxcd/pkg/apis/event/v1beta1).
type Event struct {
	// InvolvedObject is the object the event is about.
	InvolvedObject corev1.ObjectReference `json:"involvedObject"`
	// Severity is "info" or "error" ("trace" events are not forwarded by Flux).
	Severity string `json:"severity"`
	// Timestamp is when the event was recorded.
	Timestamp metav1.Time `json:"timestamp"`
	// Message is the human-readable text.
	Message string `json:"message"`
	// Reason is the machine-readable reason, e.g. "ReconciliationSucceeded".
	Reason string `json:"reason"`
	// Metadata holds e.g. "revision" ("main@sha1:<sha>"), "summary", "token".
	Metadata map[string]string `json:"metadata,omitempty"`
	// ReportingController is the emitting controller, e.g. "kustomize-controller".
	ReportingController string `json:"reportingController"`
	// ReportingInstance identifies the controller instance.
	ReportingInstance string `json:"reportingInstance,omitempty"`
}

// Severities of an Event.
const (
	SeverityInfo  = "info"
	SeverityError = "error"
)

// Options configure a Notifier: the fields of a Flux Provider, its Secret
// and its certSecretRef, already resolved by the caller.
type Options struct {
	// Type is the provider type, as in Flux's Provider spec.type.
	Type string
	// Address is spec.address or the Secret's "address": a URL, the NATS
	// server URL, or the repository URL for commit status types.
	Address string
	// Channel is spec.channel (Slack channel, Matrix room, Telegram chat,
	// PagerDuty routing key, NATS subject, ...).
	Channel string
	// Username is spec.username or the Secret's "username".
	Username string
	// Token is the Secret's "token" (also the HMAC key of generic-hmac).
	Token string
	// Password is the Secret's "password" (grafana, alertmanager,
	// bitbucketserver basic auth; nats).
	Password string
	// Headers is the Secret's "headers", sent by generic and generic-hmac.
	Headers map[string]string
	// ProxyURL is the HTTP(S) proxy; when nil, the environment's proxy
	// settings apply, as for net/http's default transport.
	ProxyURL *url.URL
	// TLSConfig is built by the caller from certSecretRef.
	TLSConfig *tls.Config
	// Timeout bounds one Post; 15s when zero.
	Timeout time.Duration
	// ProviderUID is the Provider's metadata.uid: Flux keys commit statuses
	// by kind/name plus its first segment.
	ProviderUID string
	// CommitStatusExpr is Flux's spec.commitStatusExpr: a CEL expression,
	// over the variables event, provider and alert, computing the commit
	// status ID. It is compiled by New.
	CommitStatusExpr string
	// CommitStatusProvider and CommitStatusAlert are the Provider and Alert
	// objects (as unstructured maps) seen by CommitStatusExpr as provider
	// and alert. When CommitStatusProvider is nil, provider.metadata.uid is
	// ProviderUID.
	CommitStatusProvider map[string]any
	CommitStatusAlert    map[string]any
	// DialContext, when set, dials every HTTP connection (the server's
	// network guard).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// UserAgent is sent on every HTTP request; DefaultUserAgent when empty.
	UserAgent string
}

// DefaultTimeout bounds one Post when Options.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// DefaultUserAgent is the User-Agent of HTTP requests when Options.UserAgent is empty.
const DefaultUserAgent = "gitops-apiserver-notify"

// Notifier sends one event to one provider.
type Notifier interface {
	// Post sends e. Events a provider does not take (a commit status event
	// without a revision, a Progressing event where Flux skips it) return
	// nil without sending anything.
	Post(ctx context.Context, e Event) error
}

// ErrUnsupported is wrapped by New for provider types this server cannot
// send to.
var ErrUnsupported = errors.New("provider type is not supported by this server")

// builder makes the Notifier of one provider type from defaulted options.
type builder func(o *Options) (Notifier, error)

// builders lists every provider type New implements.
var builders = map[string]builder{
	"generic":         newGeneric,
	"generic-hmac":    newGenericHMAC,
	"slack":           newSlack,
	"discord":         newDiscord,
	"rocket":          newRocket,
	"msteams":         newMSTeams,
	"googlechat":      newGoogleChat,
	"webex":           newWebex,
	"sentry":          newSentry,
	"telegram":        newTelegram,
	"lark":            newLark,
	"matrix":          newMatrix,
	"opsgenie":        newOpsgenie,
	"pagerduty":       newPagerDuty,
	"datadog":         newDataDog,
	"grafana":         newGrafana,
	"alertmanager":    newAlertmanager,
	"githubdispatch":  newGitHubDispatch,
	"nats":            newNATS,
	"github":          newGitHub,
	"gitlab":          newGitLab,
	"gitea":           newGitea,
	"bitbucket":       newBitbucket,
	"bitbucketserver": newBitbucketServer,
	"azuredevops":     newAzureDevOps,
}

// unsupported names the Flux provider types New refuses, and why.
var unsupported = map[string]string{
	"googlepubsub":             "publishing to Google Pub/Sub needs Google Cloud credentials and its gRPC API",
	"azureeventhub":            "Azure Event Hubs speaks AMQP and needs Azure credentials",
	"otel":                     "OpenTelemetry trace export is not implemented",
	"githubpullrequestcomment": "pull request comments are not implemented",
	"zulip":                    "Zulip is not implemented",
}

// commitStatusTypes are the types that set Git commit statuses.
var commitStatusTypes = []string{"github", "gitlab", "gitea", "bitbucket", "bitbucketserver", "azuredevops"}

// Types returns the provider types New implements, sorted.
func Types() []string {
	out := make([]string, 0, len(builders))
	for t := range builders {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// IsCommitStatusType reports whether t sets Git commit statuses (and so
// takes CommitStatusExpr).
func IsCommitStatusType(t string) bool { return slices.Contains(commitStatusTypes, t) }

// New validates o and returns the Notifier of o.Type. Errors name the
// missing or invalid option, never a secret value.
func New(o Options) (Notifier, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if why, ok := unsupported[o.Type]; ok {
		return nil, fmt.Errorf("notify: %s: %s: %w", o.Type, why, ErrUnsupported)
	}
	b, ok := builders[o.Type]
	if !ok {
		return nil, fmt.Errorf("notify: unknown provider type %q", o.Type)
	}
	if o.CommitStatusExpr != "" && !IsCommitStatusType(o.Type) {
		return nil, fmt.Errorf("notify: %s: commitStatusExpr applies only to commit status types (%v)", o.Type, commitStatusTypes)
	}
	return b(&o)
}

// missing is the error for an option a provider type needs.
func missing(o *Options, what string) error {
	return fmt.Errorf("notify: %s: %s is required", o.Type, what)
}

// invalid is the error for an option of the wrong shape; why must not
// quote a secret.
func invalid(o *Options, what, why string) error {
	return fmt.Errorf("notify: %s: invalid %s: %s", o.Type, what, why)
}

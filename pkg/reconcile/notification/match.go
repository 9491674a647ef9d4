// Package notification runs Flux's notification-controller in-process:
// events of every worker (and of other controllers, through the event
// ingest endpoint) are matched against Alerts and sent to their Providers
// with pkg/notify; Receivers (pkg/receiver) turn verified webhooks into
// reconcile requests.
package notification

import (
	"path"
	"regexp"
	"strings"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

// Severities of Flux events and of Alert.spec.eventSeverity.
const (
	SeverityInfo  = "info"
	SeverityError = "error"
)

// Source is one of an Alert's spec.eventSources.
type Source struct {
	Kind, Name, Namespace string
	MatchLabels           map[string]string
}

// AlertRule is what matching needs of an Alert.
type AlertRule struct {
	Namespace string
	Sources   []Source
	// Severity is spec.eventSeverity: info (every event) or error.
	Severity string
	// Inclusion and Exclusion are compiled spec.inclusionList and
	// spec.exclusionList.
	Inclusion, Exclusion []*regexp.Regexp
	// OwnNamespaceOnly drops events of objects in other namespaces
	// (--no-cross-namespace-refs), as Flux does.
	OwnNamespaceOnly bool
}

// Matches reports whether e concerns a source of the rule, at a severity
// it wants, and passes its inclusion and exclusion lists, as Flux decides:
// a source without a namespace means the Alert's; a name may be "*" (or a
// glob) and then matchLabels, when set, must all be on the object
// (labelsOf reads them; nil when the object cannot be read).
func (a *AlertRule) Matches(e *notify.Event, labelsOf func(kind, namespace, name string) map[string]string) bool {
	if a.Severity == SeverityError && e.Severity != SeverityError {
		return false
	}
	if !a.matchesSource(e, labelsOf) {
		return false
	}
	if len(a.Inclusion) > 0 && !anyMatch(a.Inclusion, e.Message) {
		return false
	}
	return !anyMatch(a.Exclusion, e.Message)
}

func (a *AlertRule) matchesSource(e *notify.Event, labelsOf func(kind, namespace, name string) map[string]string) bool {
	obj := e.InvolvedObject
	for _, s := range a.Sources {
		ns := s.Namespace
		if ns == "" {
			ns = a.Namespace
		}
		if s.Kind != obj.Kind || (ns != "*" && ns != obj.Namespace) {
			continue
		}
		if a.OwnNamespaceOnly && obj.Namespace != a.Namespace {
			continue
		}
		if s.Name != "*" && !globMatch(s.Name, obj.Name) {
			continue
		}
		if len(s.MatchLabels) > 0 {
			if labelsOf == nil {
				continue
			}
			labels := labelsOf(obj.Kind, obj.Namespace, obj.Name)
			if !containsAll(labels, s.MatchLabels) {
				continue
			}
		}
		return true
	}
	return false
}

func globMatch(pattern, name string) bool {
	if !strings.ContainsAny(pattern, "*?[") {
		return pattern == name
	}
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func containsAll(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// Enrich returns e as an Alert sends it: spec.summary in metadata
// "summary", and spec.eventMetadata added where the event has no value of
// its own.
func Enrich(e notify.Event, summary string, extra map[string]string) notify.Event {
	if summary == "" && len(extra) == 0 {
		return e
	}
	md := make(map[string]string, len(e.Metadata)+len(extra)+1)
	for k, v := range extra {
		md[k] = v
	}
	for k, v := range e.Metadata {
		md[k] = v
	}
	if summary != "" {
		md["summary"] = summary
	}
	e.Metadata = md
	return e
}

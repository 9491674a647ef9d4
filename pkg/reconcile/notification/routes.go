package notification

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"

	notificationv1beta3 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/v1beta3"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/tlsconfig"
)

// Reason of the Warning events about notifications that could not be sent.
const notificationFailedReason = "NotificationFailed"

// Routes matches events against Alerts and prepares their Providers.
type Routes struct {
	// ListAlerts lists every Alert (from the cache).
	ListAlerts func() ([]*notificationv1beta3.Alert, error)
	// GetProvider reads a Provider (from the cache).
	GetProvider func(namespace, name string) (*notificationv1beta3.Provider, error)
	// Secret reads a Secret of the host cluster.
	Secret func(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	// LabelsOf returns an event source's labels, for matchLabels.
	LabelsOf func(kind, namespace, name string) map[string]string
	// Events records Warning events on Alerts whose Provider fails; it
	// must not feed the dispatcher back.
	Events record.EventRecorder
	// Guard refuses provider addresses in refused networks.
	Guard *netguard.Guard
	// Lockdown (--no-cross-namespace-refs) limits Alerts to the events of
	// their own namespace.
	Lockdown bool

	mu        sync.Mutex
	rules     map[types.UID]compiled
	notifiers map[string]notify.Notifier
}

// maxNotifiers bounds the cached notifiers (one per Provider and version of
// its settings); past it the cache starts over.
const maxNotifiers = 1024

// compiled is an Alert's rule, compiled once per generation.
type compiled struct {
	generation int64
	rule       *AlertRule
	err        error
}

// Route implements Router.
func (r *Routes) Route(ctx context.Context, e notify.Event) []Delivery {
	alerts, err := r.ListAlerts()
	if err != nil {
		klog.FromContext(ctx).Error(err, "Listing Alerts")
		return nil
	}
	var out []Delivery
	for _, a := range alerts {
		if a.Spec.Suspend {
			continue
		}
		rule, err := r.rule(a)
		if err != nil {
			continue // refused by validation; nothing to match with
		}
		if !rule.Matches(&e, r.LabelsOf) {
			continue
		}
		out = append(out, r.delivery(ctx, a, e))
	}
	return out
}

func (r *Routes) rule(a *notificationv1beta3.Alert) (*AlertRule, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.rules[a.UID]; ok && c.generation == a.Generation {
		return c.rule, c.err
	}
	rule, err := compileAlert(a, r.Lockdown)
	if r.rules == nil {
		r.rules = map[types.UID]compiled{}
	}
	r.rules[a.UID] = compiled{generation: a.Generation, rule: rule, err: err}
	return rule, err
}

func compileAlert(a *notificationv1beta3.Alert, lockdown bool) (*AlertRule, error) {
	rule := &AlertRule{Namespace: a.Namespace, Severity: a.Spec.EventSeverity, OwnNamespaceOnly: lockdown}
	if rule.Severity == "" {
		rule.Severity = SeverityInfo
	}
	for _, s := range a.Spec.EventSources {
		rule.Sources = append(rule.Sources, Source{Kind: s.Kind, Name: s.Name, Namespace: s.Namespace, MatchLabels: s.MatchLabels})
	}
	for _, list := range []struct {
		exprs []string
		into  *[]*regexp.Regexp
	}{{a.Spec.InclusionList, &rule.Inclusion}, {a.Spec.ExclusionList, &rule.Exclusion}} {
		for _, expr := range list.exprs {
			re, err := regexp.Compile(expr)
			if err != nil {
				return nil, err
			}
			*list.into = append(*list.into, re)
		}
	}
	return rule, nil
}

// delivery is e sent through a's Provider.
func (r *Routes) delivery(ctx context.Context, a *notificationv1beta3.Alert, e notify.Event) Delivery {
	ref := a.Namespace + "/" + a.Spec.ProviderRef.Name
	alert := a.DeepCopy()
	fail := func(err error) {
		r.Events.Eventf(alert, corev1.EventTypeWarning, notificationFailedReason,
			"failed to send the %s event of %s/%s/%s to Provider %s: %v", e.Reason, e.InvolvedObject.Kind,
			e.InvolvedObject.Namespace, e.InvolvedObject.Name, ref, err)
	}
	return Delivery{
		Alert: a.Namespace + "/" + a.Name, Provider: ref,
		Event: Enrich(e, a.Spec.Summary, a.Spec.EventMetadata),
		Send: func(ctx context.Context, ev notify.Event) error {
			n, err := r.notifier(ctx, a.Namespace, a.Spec.ProviderRef.Name)
			if err != nil {
				return err
			}
			if n == nil {
				return nil // suspended
			}
			return n.Post(netguard.WithContext(ctx, r.Guard), ev)
		},
		Failed: fail,
	}
}

// notifier builds the Notifier of a Provider from its spec and Secrets
// (nil when the Provider is suspended). Errors name what is wrong, never a
// secret value.
func (r *Routes) notifier(ctx context.Context, namespace, name string) (notify.Notifier, error) {
	p, err := r.GetProvider(namespace, name)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("Provider %s/%s not found", namespace, name)
	}
	if err != nil {
		return nil, err
	}
	if p.Spec.Suspend {
		return nil, nil
	}
	opts, key, err := r.options(ctx, p)
	if err != nil {
		return nil, err
	}
	// One notifier per Provider and settings: each keeps its connections.
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, ok := r.notifiers[key]; ok {
		return n, nil
	}
	n, err := notify.New(opts)
	if err != nil {
		return nil, err
	}
	if r.notifiers == nil || len(r.notifiers) >= maxNotifiers {
		r.notifiers = map[string]notify.Notifier{}
	}
	r.notifiers[key] = n
	return n, nil
}

// options builds the notifier options of p from its spec and Secrets, and
// a key naming that version of them (the Provider's and the Secrets'
// resourceVersions).
func (r *Routes) options(ctx context.Context, p *notificationv1beta3.Provider) (notify.Options, string, error) {
	o, versions, err := r.readOptions(ctx, p)
	return o, string(p.UID) + "@" + p.ResourceVersion + "/" + strings.Join(versions, "/"), err
}

func (r *Routes) readOptions(ctx context.Context, p *notificationv1beta3.Provider) (notify.Options, []string, error) {
	var versions []string
	spec := p.Spec
	o := notify.Options{
		Type: spec.Type, Address: spec.Address, Channel: spec.Channel, Username: spec.Username,
		ProviderUID: string(p.UID), CommitStatusExpr: spec.CommitStatusExpr, Timeout: 15 * time.Second,
		DialContext: netguard.DialContext,
	}
	if spec.ServiceAccountName != "" {
		return o, nil, fmt.Errorf("spec.serviceAccountName: workload identity for providers is not supported by this server; use spec.secretRef")
	}
	if spec.Timeout != nil {
		if d, err := spec.Timeout.Parse(); err == nil && d > 0 {
			o.Timeout = d
		}
	}
	if spec.Proxy != "" {
		u, err := url.Parse(spec.Proxy)
		if err != nil || u.Host == "" {
			return o, nil, fmt.Errorf("spec.proxy: not a URL")
		}
		o.ProxyURL = u
	}
	if ref := spec.SecretRef; ref != nil {
		s, err := r.secret(ctx, p.Namespace, ref.Name, "spec.secretRef")
		if err != nil {
			return o, nil, err
		}
		versions = append(versions, s.ResourceVersion)
		if v := strings.TrimSpace(string(s.Data["address"])); v != "" {
			o.Address = v
		}
		if v := string(s.Data["username"]); v != "" {
			o.Username = v
		}
		o.Token, o.Password = strings.TrimSpace(string(s.Data["token"])), string(s.Data["password"])
		if v := strings.TrimSpace(string(s.Data["proxy"])); v != "" {
			u, err := url.Parse(v)
			if err != nil || u.Host == "" {
				return o, nil, fmt.Errorf("Secret %s/%s key proxy: not a URL", p.Namespace, ref.Name)
			}
			o.ProxyURL = u
		}
		if h := s.Data["headers"]; len(h) > 0 {
			if err := yaml.Unmarshal(h, &o.Headers); err != nil {
				return o, nil, fmt.Errorf("Secret %s/%s key headers: not a YAML map of strings", p.Namespace, ref.Name)
			}
		}
	}
	if ref := spec.ProxySecretRef; ref != nil {
		s, err := r.secret(ctx, p.Namespace, ref.Name, "spec.proxySecretRef")
		if err != nil {
			return o, nil, err
		}
		versions = append(versions, s.ResourceVersion)
		u, err := url.Parse(strings.TrimSpace(string(s.Data["address"])))
		if err != nil || u.Host == "" {
			return o, nil, fmt.Errorf("Secret %s/%s (spec.proxySecretRef): key address is not a URL", p.Namespace, ref.Name)
		}
		if user := string(s.Data["username"]); user != "" {
			u.User = url.UserPassword(user, string(s.Data["password"]))
		}
		o.ProxyURL = u
	}
	if ref := spec.CertSecretRef; ref != nil {
		s, err := r.secret(ctx, p.Namespace, ref.Name, "spec.certSecretRef")
		if err != nil {
			return o, nil, err
		}
		versions = append(versions, s.ResourceVersion)
		cfg, err := tlsconfig.FromSecret(s.Data)
		if err != nil {
			return o, nil, fmt.Errorf("Secret %s/%s (spec.certSecretRef): %v", p.Namespace, ref.Name, err)
		}
		o.TLSConfig = cfg
	}
	return o, versions, nil
}

func (r *Routes) secret(ctx context.Context, namespace, name, field string) (*corev1.Secret, error) {
	s, err := r.Secret(ctx, namespace, name)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("Secret %s/%s (%s) not found", namespace, name, field)
	}
	if err != nil {
		return nil, fmt.Errorf("Secret %s/%s (%s): %v", namespace, name, field, err)
	}
	return s, nil
}

package validation

import (
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification"
)

var testMeta = metav1.ObjectMeta{Name: "test", Namespace: "flux-system", ResourceVersion: "1"}

func dur(d common.Duration) *common.Duration { return &d }

func validAlert() *notification.Alert {
	return &notification.Alert{
		ObjectMeta: testMeta,
		Spec: notification.AlertSpec{
			ProviderRef:   common.LocalObjectReference{Name: "slack"},
			EventSeverity: "info",
			EventSources: []notification.CrossNamespaceObjectReference{
				{Kind: "GitRepository", Name: "*"},
				{Kind: "HelmRelease", Name: "*", Namespace: "*", MatchLabels: map[string]string{"team": "a"}},
			},
		},
	}
}

func validProvider() *notification.Provider {
	return &notification.Provider{
		ObjectMeta: testMeta,
		Spec: notification.ProviderSpec{
			Type:      "slack",
			Channel:   "general",
			Address:   "https://slack.com/api/chat.postMessage",
			Timeout:   dur("30s"),
			SecretRef: &common.LocalObjectReference{Name: "slack-token"},
		},
	}
}

func validReceiver() *notification.Receiver {
	return &notification.Receiver{
		ObjectMeta: testMeta,
		Spec: notification.ReceiverSpec{
			Type:      "github",
			Interval:  dur("10m"),
			Events:    []string{"push"},
			SecretRef: &common.LocalObjectReference{Name: "webhook-token"},
			Resources: []notification.ReceiverResource{{
				CrossNamespaceObjectReference: notification.CrossNamespaceObjectReference{Kind: "GitRepository", Name: "flux-system"},
			}},
		},
	}
}

func oidcReceiver() *notification.Receiver {
	r := validReceiver()
	r.Spec.Type = "generic-oidc"
	r.Spec.SecretRef = nil
	r.Spec.OIDCProviders = []notification.OIDCProvider{{
		IssuerURL:   "https://token.actions.githubusercontent.com",
		Variables:   []notification.OIDCVariable{{Name: "owner", Expression: "claims.repository_owner"}},
		Validations: []notification.OIDCValidation{{Expression: "vars.owner == 'fluxcd'", Message: "wrong owner"}},
	}}
	return r
}

// errorKeys renders errors as sorted "Type field" strings for comparison.
func errorKeys(errs field.ErrorList) []string {
	keys := make([]string, 0, len(errs))
	for _, e := range errs {
		keys = append(keys, string(e.Type)+" "+e.Field)
	}
	sort.Strings(keys)
	return keys
}

func expectErrors(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	sort.Strings(want)
	got := errorKeys(errs)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n got  %q\n want %q\nfull: %v", got, want, errs)
	}
}

func TestValidateAlert(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*notification.Alert)
		want   []string
	}{
		{name: "valid", mutate: func(*notification.Alert) {}},
		{name: "empty severity is accepted", mutate: func(a *notification.Alert) { a.Spec.EventSeverity = "" }},
		{name: "missing provider ref", mutate: func(a *notification.Alert) { a.Spec.ProviderRef.Name = "" },
			want: []string{"FieldValueRequired spec.providerRef.name"}},
		{name: "unknown severity", mutate: func(a *notification.Alert) { a.Spec.EventSeverity = "warning" },
			want: []string{"FieldValueNotSupported spec.eventSeverity"}},
		{name: "missing event sources", mutate: func(a *notification.Alert) { a.Spec.EventSources = nil },
			want: []string{"FieldValueRequired spec.eventSources"}},
		{name: "unknown event source kind", mutate: func(a *notification.Alert) { a.Spec.EventSources[0].Kind = "Deployment" },
			want: []string{"FieldValueNotSupported spec.eventSources[0].kind"}},
		{name: "event source without kind and name", mutate: func(a *notification.Alert) {
			a.Spec.EventSources[1] = notification.CrossNamespaceObjectReference{}
		}, want: []string{"FieldValueRequired spec.eventSources[1].kind", "FieldValueRequired spec.eventSources[1].name"}},
		{name: "event source name too long", mutate: func(a *notification.Alert) { a.Spec.EventSources[0].Name = strings.Repeat("a", 254) },
			want: []string{"FieldValueTooLong spec.eventSources[0].name"}},
		{name: "artifact kinds accepted", mutate: func(a *notification.Alert) {
			a.Spec.EventSources[0].Kind = "ArtifactGenerator"
			a.Spec.EventSources[1].Kind = "ExternalArtifact"
		}},
		{name: "summary too long", mutate: func(a *notification.Alert) { a.Spec.Summary = strings.Repeat("s", 256) },
			want: []string{"FieldValueTooLong spec.summary"}},
		{name: "bad metadata name", mutate: func(a *notification.Alert) { a.Name = "Not_Valid" },
			want: []string{"FieldValueInvalid metadata.name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := validAlert()
			tt.mutate(obj)
			expectErrors(t, ValidateAlert(obj), tt.want)
		})
	}
}

func TestValidateProvider(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*notification.Provider)
		want   []string
	}{
		{name: "valid", mutate: func(*notification.Provider) {}},
		{name: "missing type", mutate: func(p *notification.Provider) { p.Spec.Type = "" },
			want: []string{"FieldValueRequired spec.type"}},
		{name: "unknown type", mutate: func(p *notification.Provider) { p.Spec.Type = "email" },
			want: []string{"FieldValueNotSupported spec.type"}},
		{name: "channel, username and address too long", mutate: func(p *notification.Provider) {
			p.Spec.Channel = strings.Repeat("c", 2049)
			p.Spec.Username = strings.Repeat("u", 2049)
			p.Spec.Address = "https://" + strings.Repeat("a", 2041)
		}, want: []string{"FieldValueTooLong spec.address", "FieldValueTooLong spec.channel", "FieldValueTooLong spec.username"}},
		{name: "address at the limit", mutate: func(p *notification.Provider) { p.Spec.Address = "https://" + strings.Repeat("a", 2040) }},
		{name: "negative timeout and interval", mutate: func(p *notification.Provider) {
			p.Spec.Timeout = dur("-1s")
			p.Spec.Interval = dur("-1m")
		}, want: []string{"FieldValueInvalid spec.interval", "FieldValueInvalid spec.timeout"}},
		{name: "proxy must be http(s)", mutate: func(p *notification.Provider) { p.Spec.Proxy = "socks5://proxy:1080" },
			want: []string{"FieldValueInvalid spec.proxy"}},
		{name: "https proxy", mutate: func(p *notification.Provider) { p.Spec.Proxy = "https://proxy:8443" }},
		{name: "secret refs need names", mutate: func(p *notification.Provider) {
			p.Spec.SecretRef = &common.LocalObjectReference{}
			p.Spec.CertSecretRef = &common.LocalObjectReference{}
			p.Spec.ProxySecretRef = &common.LocalObjectReference{}
		}, want: []string{"FieldValueRequired spec.certSecretRef.name", "FieldValueRequired spec.proxySecretRef.name", "FieldValueRequired spec.secretRef.name"}},
		{name: "commitStatusExpr on slack", mutate: func(p *notification.Provider) { p.Spec.CommitStatusExpr = "'ok'" },
			want: []string{"FieldValueForbidden spec.commitStatusExpr"}},
		{name: "commitStatusExpr on github", mutate: func(p *notification.Provider) {
			p.Spec.Type = "github"
			p.Spec.CommitStatusExpr = "event.reason"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := validProvider()
			tt.mutate(obj)
			expectErrors(t, ValidateProvider(obj), tt.want)
		})
	}
}

func TestValidateReceiver(t *testing.T) {
	tests := []struct {
		name string
		obj  func() *notification.Receiver
		want []string
	}{
		{name: "valid", obj: validReceiver},
		{name: "valid generic-oidc", obj: oidcReceiver},
		{name: "unknown type", obj: func() *notification.Receiver {
			r := validReceiver()
			r.Spec.Type = "jenkins"
			return r
		}, want: []string{"FieldValueNotSupported spec.type"}},
		{name: "missing resources", obj: func() *notification.Receiver {
			r := validReceiver()
			r.Spec.Resources = nil
			return r
		}, want: []string{"FieldValueRequired spec.resources"}},
		{name: "bad resource kind", obj: func() *notification.Receiver {
			r := validReceiver()
			r.Spec.Resources[0].Kind = "ConfigMap"
			return r
		}, want: []string{"FieldValueNotSupported spec.resources[0].kind"}},
		{name: "secretRef required unless generic-oidc", obj: func() *notification.Receiver {
			r := validReceiver()
			r.Spec.SecretRef = nil
			return r
		}, want: []string{"FieldValueRequired spec.secretRef"}},
		{name: "secretRef forbidden for generic-oidc", obj: func() *notification.Receiver {
			r := oidcReceiver()
			r.Spec.SecretRef = &common.LocalObjectReference{Name: "token"}
			return r
		}, want: []string{"FieldValueForbidden spec.secretRef"}},
		{name: "generic-oidc needs providers", obj: func() *notification.Receiver {
			r := oidcReceiver()
			r.Spec.OIDCProviders = nil
			return r
		}, want: []string{"FieldValueRequired spec.oidcProviders"}},
		{name: "oidcProviders only for generic-oidc", obj: func() *notification.Receiver {
			r := oidcReceiver()
			r.Spec.Type = "generic"
			r.Spec.SecretRef = &common.LocalObjectReference{Name: "token"}
			return r
		}, want: []string{"FieldValueForbidden spec.oidcProviders"}},
		{name: "bad oidc provider entries", obj: func() *notification.Receiver {
			r := oidcReceiver()
			p := r.Spec.OIDCProviders[0]
			r.Spec.OIDCProviders = append(r.Spec.OIDCProviders, p, notification.OIDCProvider{
				IssuerURL: "ftp://issuer",
				Variables: []notification.OIDCVariable{{}},
			})
			return r
		}, want: []string{
			"FieldValueDuplicate spec.oidcProviders[1].issuerURL",
			"FieldValueInvalid spec.oidcProviders[2].issuerURL",
			"FieldValueRequired spec.oidcProviders[2].validations",
			"FieldValueRequired spec.oidcProviders[2].variables[0].expression",
			"FieldValueRequired spec.oidcProviders[2].variables[0].name",
		}},
		{name: "negative interval", obj: func() *notification.Receiver {
			r := validReceiver()
			r.Spec.Interval = dur("-1s")
			return r
		}, want: []string{"FieldValueInvalid spec.interval"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectErrors(t, ValidateReceiver(tt.obj()), tt.want)
		})
	}
}

func TestValidateUpdates_CheckMetadataAndSpec(t *testing.T) {
	oldAlert, newAlert := validAlert(), validAlert()
	newAlert.Namespace = "other"
	newAlert.Spec.EventSeverity = "debug"
	expectErrors(t, ValidateAlertUpdate(newAlert, oldAlert), []string{
		"FieldValueInvalid metadata.namespace", "FieldValueNotSupported spec.eventSeverity",
	})

	oldProvider, newProvider := validProvider(), validProvider()
	newProvider.Spec.Type = ""
	expectErrors(t, ValidateProviderUpdate(newProvider, oldProvider), []string{"FieldValueRequired spec.type"})

	oldReceiver, newReceiver := validReceiver(), validReceiver()
	newReceiver.Spec.Resources = nil
	expectErrors(t, ValidateReceiverUpdate(newReceiver, oldReceiver), []string{"FieldValueRequired spec.resources"})
}

func TestValidateReceiverStatusUpdate_ChecksConditions(t *testing.T) {
	oldObj, newObj := validReceiver(), validReceiver()
	newObj.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: "Maybe", Reason: "Succeeded", LastTransitionTime: metav1.Now()}}
	expectErrors(t, ValidateReceiverStatusUpdate(newObj, oldObj), []string{"FieldValueNotSupported status.conditions[0].status"})
}

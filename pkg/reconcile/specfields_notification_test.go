package reconcile

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	notificationv1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	notificationrec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/notification"
)

// The notification kinds' fields. The Receiver has a worker; Alerts and
// Providers are read by the event dispatcher at each event
// (pkg/reconcile/notification/routes.go), whose tests send events through
// them to loopback endpoints.

var receiverFields = map[string]field{
	"spec.type":                    used(receiverTest),
	"spec.interval":                used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
	"spec.events":                  used(receiverTest),
	"spec.resources[].apiVersion":  informational(informationalFields["Receiver spec.resources[].apiVersion"]),
	"spec.resources[].kind":        used(receiverTest),
	"spec.resources[].name":        used(receiverTest),
	"spec.resources[].namespace":   used(receiverTest),
	"spec.resources[].matchLabels": used(receiverTest),
	// spec.resourceFilter is supported; per-resource filters stall.
	"spec.resources[].filter": refused("spec.resources[0].filter", nil),
	"spec.resourceFilter":     used(receiverTest),
	"spec.secretRef.name":     used(receiverTest),
	// OIDC verification of callers is not supported.
	"spec.oidcProviders[].issuerURL":                refused("spec.oidcProviders", nil),
	"spec.oidcProviders[].audience":                 refused("spec.oidcProviders", nil),
	"spec.oidcProviders[].variables[].name":         refused("spec.oidcProviders", nil),
	"spec.oidcProviders[].variables[].expression":   refused("spec.oidcProviders", nil),
	"spec.oidcProviders[].validations[].expression": refused("spec.oidcProviders", nil),
	"spec.oidcProviders[].validations[].message":    refused("spec.oidcProviders", nil),
	// A suspended Receiver's path answers 404.
	"spec.suspend": used(receiverTest),
}

var alertFields = map[string]field{
	"spec.providerRef.name":           used(alertTest),
	"spec.eventSeverity":              used(alertTest),
	"spec.eventSources[].apiVersion":  informational(informationalFields["Alert spec.eventSources[].apiVersion"]),
	"spec.eventSources[].kind":        used(alertTest),
	"spec.eventSources[].name":        used(alertTest),
	"spec.eventSources[].namespace":   used(alertTest),
	"spec.eventSources[].matchLabels": used(alertTest),
	"spec.inclusionList":              used(alertTest),
	"spec.eventMetadata":              used(alertTest),
	"spec.exclusionList":              used(alertTest),
	"spec.summary":                    used(alertTest),
	"spec.suspend":                    used(alertTest),
}

var providerFields = map[string]field{
	"spec.type":                used(providerTest),
	"spec.interval":            informational(informationalFields["Provider spec.interval"]),
	"spec.channel":             used(providerTest),
	"spec.username":            used(providerTest),
	"spec.address":             used(providerTest),
	"spec.timeout":             used(providerTest),
	"spec.proxy":               used(providerTest),
	"spec.proxySecretRef.name": used(providerTest),
	"spec.secretRef.name":      used(providerTest),
	// Refused: every delivery fails naming it, with a Warning event on the
	// Alert (a Provider has no status to stall).
	"spec.serviceAccountName": used(providerTest),
	"spec.certSecretRef.name": used(providerTest),
	"spec.suspend":            used(providerTest),
	"spec.commitStatusExpr":   used(providerTest),
}

// Tests of pkg/reconcile/notification that several fields name.
const (
	receiverTest = "TestReceiver_WebhookTriggersTheSelectedResources"
	alertTest    = "TestRoutes_AlertSpecSelectsAndEnrichesEvents"
	providerTest = "TestRoutes_ProviderSpecReachesTheNotifier"
)

// receiverHarness activates a generic Receiver whose token Secret exists:
// it succeeds.
var receiverHarness = harness{
	object: func() any {
		return &notificationv1.Receiver{ObjectMeta: objectMeta(), Spec: notificationv1.ReceiverSpec{
			Type: "generic", SecretRef: &common.LocalObjectReference{Name: "token"},
			Resources: []notificationv1.ReceiverResource{
				{CrossNamespaceObjectReference: notificationv1.CrossNamespaceObjectReference{Kind: "GitRepository", Name: "app"}},
			},
		}}
	},
	reconcile: func(t *testing.T, obj any) (loop.Result, []metav1.Condition) {
		o := obj.(*notificationv1.Receiver)
		none := errors.New("no objects in this test")
		r := &notificationrec.ReceiverReconciler{
			Secret: func(_ context.Context, _, name string) (*corev1.Secret, error) {
				if name != "token" {
					return nil, notFound("secrets", name)
				}
				return &corev1.Secret{Data: map[string][]byte{"token": []byte("webhook-token")}}, nil
			},
			List:             func(string, string, labels.Selector) ([]notificationrec.Object, error) { return nil, none },
			Get:              func(string, string, string) (notificationrec.Object, error) { return notificationrec.Object{}, none },
			RequestReconcile: func(context.Context, notificationrec.Object) error { return none },
			Events:           record.NewFakeRecorder(100),
		}
		return reconcileOnce(t, r, o), o.Status.Conditions
	},
}

// Package notification declares the notification.toolkit.fluxcd.io kinds to
// the registry.
package notification

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/validation"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/registry"
)

var categories = []string{"fluxcd", "fluxcd-notifications"}

// Kinds returns the notification kinds; Alert and Provider are served and
// stored as v1beta3, Receiver as v1.
func Kinds() []*registry.Kind {
	return []*registry.Kind{
		{
			Resource: "alerts", Singular: "alert",
			GroupKind: notification.Kind("Alert"), Categories: categories, Versions: []string{"v1beta3"},
			New:            func() runtime.Object { return &notification.Alert{} },
			NewList:        func() runtime.Object { return &notification.AlertList{} },
			Validate:       registry.Validate(validation.ValidateAlert),
			ValidateUpdate: registry.ValidateUpdate(validation.ValidateAlertUpdate),
			// As `flux get alerts`: SUSPENDED READY MESSAGE.
			Columns: append([]registry.Column{
				registry.StringColumn("Provider", "Provider the events go to.", 1,
					registry.Text(func(o *notification.Alert) string { return o.Spec.ProviderRef.Name })),
				registry.SuspendedColumn(),
			}, registry.StaticReadyColumns("Alert")...),
		},
		{
			Resource: "providers", Singular: "provider",
			GroupKind: notification.Kind("Provider"), Categories: categories, Versions: []string{"v1beta3"},
			New:            func() runtime.Object { return &notification.Provider{} },
			NewList:        func() runtime.Object { return &notification.ProviderList{} },
			Validate:       registry.Validate(validation.ValidateProvider),
			ValidateUpdate: registry.ValidateUpdate(validation.ValidateProviderUpdate),
			// As `flux get alert-providers`: READY MESSAGE.
			Columns: append([]registry.Column{
				registry.StringColumn("Type", "Kind of notification service.", 1,
					registry.Text(func(o *notification.Provider) string { return o.Spec.Type })),
				registry.Wide(registry.SuspendedColumn()),
			}, registry.StaticReadyColumns("Provider")...),
		},
		{
			Resource: "receivers", Singular: "receiver",
			GroupKind: notification.Kind("Receiver"), Categories: categories, Versions: []string{"v1"}, Reconcilable: true,
			New:                  func() runtime.Object { return &notification.Receiver{} },
			NewList:              func() runtime.Object { return &notification.ReceiverList{} },
			Validate:             registry.Validate(validation.ValidateReceiver),
			ValidateUpdate:       registry.ValidateUpdate(validation.ValidateReceiverUpdate),
			ValidateStatusUpdate: registry.ValidateUpdate(validation.ValidateReceiverStatusUpdate),
			Columns: append([]registry.Column{
				registry.StringColumn("Type", "Kind of webhook sender.", 1,
					registry.Text(func(o *notification.Receiver) string { return o.Spec.Type })),
			}, registry.StatusColumns()...),
		},
	}
}

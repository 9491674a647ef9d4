// Package install registers the notification.toolkit.fluxcd.io group.
package install

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification"
	v1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/v1beta3"
)

// Install adds the internal and served versions of the group to scheme.
// Each kind lives in exactly one served version (Receiver in v1, Alert and
// Provider in v1beta3); v1 is listed first.
func Install(scheme *runtime.Scheme) {
	utilruntime.Must(notification.AddToScheme(scheme))
	utilruntime.Must(v1.AddToScheme(scheme))
	utilruntime.Must(v1beta3.AddToScheme(scheme))
	utilruntime.Must(scheme.SetVersionPriority(v1.SchemeGroupVersion, v1beta3.SchemeGroupVersion))
}

// Package install registers the helm.toolkit.fluxcd.io API group.
package install

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	v2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
)

// Install adds the internal and every served version of the group to scheme,
// v2 (the storage version) first in priority.
func Install(scheme *runtime.Scheme) {
	utilruntime.Must(helm.AddToScheme(scheme))
	utilruntime.Must(v2.AddToScheme(scheme))
	utilruntime.Must(scheme.SetVersionPriority(v2.SchemeGroupVersion))
}

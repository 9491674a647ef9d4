// Package install registers the kustomize.toolkit.fluxcd.io API group.
package install

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	v1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1beta2"
)

// Install adds the internal and every served version of the group to scheme,
// v1 (the storage version) first in priority, then the deprecated v1beta2.
func Install(scheme *runtime.Scheme) {
	utilruntime.Must(kustomize.AddToScheme(scheme))
	utilruntime.Must(v1.AddToScheme(scheme))
	utilruntime.Must(v1beta2.AddToScheme(scheme))
	utilruntime.Must(scheme.SetVersionPriority(v1.SchemeGroupVersion, v1beta2.SchemeGroupVersion))
}

// Package install registers the source.toolkit.fluxcd.io API group.
package install

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	v1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1beta1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1beta2"
)

// Install adds the internal and every served version of the group to scheme,
// v1 (the storage version) first in priority, then the deprecated versions
// from newest to oldest.
func Install(scheme *runtime.Scheme) {
	utilruntime.Must(source.AddToScheme(scheme))
	utilruntime.Must(v1.AddToScheme(scheme))
	utilruntime.Must(v1beta2.AddToScheme(scheme))
	utilruntime.Must(v1beta1.AddToScheme(scheme))
	utilruntime.Must(scheme.SetVersionPriority(v1.SchemeGroupVersion, v1beta2.SchemeGroupVersion, v1beta1.SchemeGroupVersion))
}

// Package install registers the image.toolkit.fluxcd.io group.
package install

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image"
	v1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/v1beta2"
)

// Install adds the internal and served versions of the group to scheme,
// with v1 (the storage version) preferred over the deprecated v1beta2.
func Install(scheme *runtime.Scheme) {
	utilruntime.Must(image.AddToScheme(scheme))
	utilruntime.Must(v1.AddToScheme(scheme))
	utilruntime.Must(v1beta2.AddToScheme(scheme))
	utilruntime.Must(scheme.SetVersionPriority(v1.SchemeGroupVersion, v1beta2.SchemeGroupVersion))
}

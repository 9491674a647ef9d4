package helm

import (
	"crypto/sha256"
	"encoding/hex"

	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
)

// maxReleaseName is Helm's limit on release names.
const maxReleaseName = 53

// releaseName is Flux's: spec.releaseName, else <targetNamespace>-<name>
// when a target namespace is set, else the HelmRelease's name; a name
// longer than Helm allows is cut and suffixed with a hash of the whole.
func releaseName(obj *helmv2.HelmRelease) string {
	name := obj.Spec.ReleaseName
	if name == "" {
		name = obj.Name
		if obj.Spec.TargetNamespace != "" {
			name = obj.Spec.TargetNamespace + "-" + obj.Name
		}
	}
	if len(name) <= maxReleaseName {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:40] + "-" + hex.EncodeToString(sum[:])[:12]
}

// releaseNamespace is where the release's objects go.
func releaseNamespace(obj *helmv2.HelmRelease) string {
	if obj.Spec.TargetNamespace != "" {
		return obj.Spec.TargetNamespace
	}
	return obj.Namespace
}

// storageNamespace is where Helm stores the release.
func storageNamespace(obj *helmv2.HelmRelease) string {
	if obj.Spec.StorageNamespace != "" {
		return obj.Spec.StorageNamespace
	}
	return obj.Namespace
}

// chartName is the HelmChart made from spec.chart: <namespace>-<name> in
// the namespace of the chart's source, as Flux names it.
func chartName(obj *helmv2.HelmRelease) (namespace, name string) {
	namespace = obj.Namespace
	if obj.Spec.Chart != nil && obj.Spec.Chart.Spec.SourceRef.Namespace != "" {
		namespace = obj.Spec.Chart.Spec.SourceRef.Namespace
	}
	return namespace, obj.Namespace + "-" + obj.Name
}

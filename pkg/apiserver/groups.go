package apiserver

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	serverstorage "k8s.io/apiserver/pkg/server/storage"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/registry"
	helmregistry "github.com/gitops-apiserver/gitops-apiserver/pkg/registry/helm"
	imageregistry "github.com/gitops-apiserver/gitops-apiserver/pkg/registry/image"
	kustomizeregistry "github.com/gitops-apiserver/gitops-apiserver/pkg/registry/kustomize"
	notificationregistry "github.com/gitops-apiserver/gitops-apiserver/pkg/registry/notification"
	sourceregistry "github.com/gitops-apiserver/gitops-apiserver/pkg/registry/source"
)

// apiGroup is one API group this server serves and the kinds in it.
type apiGroup struct {
	name  string
	kinds []*registry.Kind
}

// apiGroups lists everything served, in the order discovery shows it.
func apiGroups() []apiGroup {
	return []apiGroup{
		{name: "source.toolkit.fluxcd.io", kinds: sourceregistry.Kinds()},
		{name: "kustomize.toolkit.fluxcd.io", kinds: kustomizeregistry.Kinds()},
		{name: "helm.toolkit.fluxcd.io", kinds: helmregistry.Kinds()},
		{name: "notification.toolkit.fluxcd.io", kinds: notificationregistry.Kinds()},
		{name: "image.toolkit.fluxcd.io", kinds: imageregistry.Kinds()},
	}
}

// GroupVersions returns every served group version, e.g. to register one
// APIService each.
func GroupVersions() []schema.GroupVersion {
	var gvs []schema.GroupVersion
	for _, g := range apiGroups() {
		gvs = append(gvs, Scheme.PrioritizedVersionsForGroup(g.name)...)
	}
	return gvs
}

// ResourcesOf returns the resources served in gv.
func ResourcesOf(gv schema.GroupVersion) []string {
	var out []string
	for _, g := range apiGroups() {
		if g.name != gv.Group {
			continue
		}
		for _, k := range g.kinds {
			for _, v := range k.Versions {
				if v == gv.Version {
					out = append(out, k.Resource)
				}
			}
		}
	}
	return out
}

// StorageEncoding returns the encoding config that stores each resource in the
// first version its Kind lists (kinds of one group may live in different
// versions, e.g. notification Alert in v1beta3 and Receiver in v1).
func StorageEncoding() *serverstorage.DefaultResourceEncodingConfig {
	enc := serverstorage.NewDefaultResourceEncodingConfig(Scheme)
	for _, g := range apiGroups() {
		for _, k := range g.kinds {
			gr := schema.GroupResource{Group: g.name, Resource: k.Resource}
			enc.SetResourceEncoding(gr,
				schema.GroupVersion{Group: g.name, Version: k.Versions[0]},
				schema.GroupVersion{Group: g.name, Version: "__internal"})
		}
	}
	return enc
}

// installedKind is a kind and the storage serving it.
type installedKind struct {
	kind    *registry.Kind
	storage *registry.Storage
}

// installAPIGroups creates the storage of every kind, installs the groups
// and returns the storage of every kind.
func installAPIGroups(s *genericapiserver.GenericAPIServer, optsGetter generic.RESTOptionsGetter, deps registry.Deps) ([]installedKind, error) {
	var installed []installedKind
	for _, g := range apiGroups() {
		info := genericapiserver.NewDefaultAPIGroupInfo(g.name, Scheme, ParameterCodec, Codecs)
		info.NegotiatedSerializer = Serializer
		for _, k := range g.kinds {
			st, err := registry.NewStorage(Scheme, k, optsGetter, deps)
			if err != nil {
				return nil, err
			}
			installed = append(installed, installedKind{kind: k, storage: st})
			for _, v := range k.Versions {
				if info.VersionedResourcesStorageMap[v] == nil {
					info.VersionedResourcesStorageMap[v] = map[string]rest.Storage{}
				}
				for path, storage := range st.Map() {
					info.VersionedResourcesStorageMap[v][path] = storage
				}
			}
		}
		if err := s.InstallAPIGroup(&info); err != nil {
			return nil, fmt.Errorf("installing API group %s: %w", g.name, err)
		}
	}
	return installed, nil
}

package apiserver

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	helminstall "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/install"
	imageinstall "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/install"
	kustomizeinstall "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/install"
	notificationinstall "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/install"
	sourceinstall "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/install"
)

var (
	// Scheme knows every Flux kind in its internal and served versions.
	Scheme = runtime.NewScheme()
	// Codecs encodes and decodes objects of Scheme.
	Codecs = serializer.NewCodecFactory(Scheme)
	// Serializer is what the API negotiates with clients: Codecs without
	// protobuf, which Flux's types (like custom resources) have no
	// encoding for. Clients that offer protobuf first (kube-controller-
	// manager's namespace deleter and garbage collector) then get JSON
	// instead of a failed encode.
	Serializer runtime.NegotiatedSerializer = withoutProtobuf{Codecs}
)

// withoutProtobuf is a NegotiatedSerializer that never offers protobuf.
type withoutProtobuf struct {
	serializer.CodecFactory
}

// SupportedMediaTypes implements runtime.NegotiatedSerializer.
func (w withoutProtobuf) SupportedMediaTypes() []runtime.SerializerInfo {
	var out []runtime.SerializerInfo
	for _, info := range w.CodecFactory.SupportedMediaTypes() {
		if info.MediaType != runtime.ContentTypeProtobuf {
			out = append(out, info)
		}
	}
	return out
}

func init() {
	sourceinstall.Install(Scheme)
	kustomizeinstall.Install(Scheme)
	helminstall.Install(Scheme)
	notificationinstall.Install(Scheme)
	imageinstall.Install(Scheme)

	// Options types (ListOptions, GetOptions...) and the unversioned status
	// and discovery types every API server serves.
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	Scheme.AddUnversionedTypes(unversioned,
		&metav1.Status{},
		&metav1.APIVersions{},
		&metav1.APIGroupList{},
		&metav1.APIGroup{},
		&metav1.APIResourceList{},
	)
}

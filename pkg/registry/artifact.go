package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// ArtifactOpener opens stored artifacts; the artifact store implements it
// (wired in pkg/apiserver), so the registry never imports the workers.
type ArtifactOpener interface {
	// OpenArtifact opens the artifact at path (status.artifact.path) if it
	// belongs to the object kind/namespace/name; ErrArtifactNotFound when
	// it is gone.
	OpenArtifact(kind, namespace, name, path string) (io.ReadCloser, int64, error)
}

// ErrArtifactNotFound is what an ArtifactOpener returns for a missing file.
var ErrArtifactNotFound = errors.New("artifact not found")

// Deps are what subresources need from the rest of the server. A nil
// field makes the subresources that need it answer 503.
type Deps struct {
	Artifacts ArtifactOpener
	// Differ serves /diff; nil when the workers are not running.
	Differ Differ
	// Trees serves /tree.
	Trees TreeBuilder
	// Reconcilers finds the /reconcile of source kinds, for withSource.
	Reconcilers *Reconcilers
	// Authorizer checks that a withSource caller may also reconcile the
	// source.
	Authorizer authorizer.Authorizer
	// WorkerFinalizers says the workers run with this server: objects of
	// kinds with a Finalizer get it when created.
	WorkerFinalizers bool
}

// ArtifactHeader carries the artifact's digest ("sha256:<hex>") on /artifact
// responses; ArtifactRevisionHeader its revision.
const (
	ArtifactHeader         = "X-Artifact-Digest"
	ArtifactRevisionHeader = "X-Artifact-Revision"
)

// ArtifactREST serves GET <kind>/<name>/artifact: the bytes of the object's
// current artifact (application/gzip). Access is the RBAC verb `get` on
// the `<resource>/artifact` subresource.
type ArtifactREST struct {
	kind     string
	store    *genericregistry.Store
	opener   ArtifactOpener
	artifact func(runtime.Object) *common.Artifact
}

var _ rest.Connecter = &ArtifactREST{}

// NewArtifactREST returns the /artifact subresource of a kind whose
// artifact is read by artifactOf.
func NewArtifactREST(kind string, store *genericregistry.Store, opener ArtifactOpener, artifactOf func(runtime.Object) *common.Artifact) *ArtifactREST {
	return &ArtifactREST{kind: kind, store: store, opener: opener, artifact: artifactOf}
}

// New implements rest.Storage.
func (r *ArtifactREST) New() runtime.Object { return r.store.New() }

// Destroy implements rest.Storage.
func (r *ArtifactREST) Destroy() {}

// NewConnectOptions implements rest.Connecter; there are no options.
func (r *ArtifactREST) NewConnectOptions() (runtime.Object, bool, string) { return nil, false, "" }

// ConnectMethods implements rest.Connecter.
func (r *ArtifactREST) ConnectMethods() []string { return []string{http.MethodGet} }

// Connect implements rest.Connecter.
func (r *ArtifactREST) Connect(ctx context.Context, name string, _ runtime.Object, _ rest.Responder) (http.Handler, error) {
	obj, err := r.store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	a := r.artifact(obj)
	if a == nil || a.Path == "" {
		return nil, apierrors.NewNotFound(r.store.DefaultQualifiedResource, name+"/artifact")
	}
	if r.opener == nil {
		return nil, apierrors.NewServiceUnavailable("the artifact store is not configured")
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	f, size, err := r.opener.OpenArtifact(r.kind, m.GetNamespace(), name, a.Path)
	if errors.Is(err, ErrArtifactNotFound) {
		// Stored but gone (e.g. collected): the worker stores it again.
		return nil, apierrors.NewNotFound(r.store.DefaultQualifiedResource, name+"/artifact")
	}
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("opening the artifact of %s %s: %w", r.kind, name, err))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		defer f.Close()
		h := w.Header()
		h.Set("Content-Type", "application/gzip")
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		h.Set(ArtifactHeader, a.Digest)
		h.Set(ArtifactRevisionHeader, a.Revision)
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+".tar.gz"))
		w.WriteHeader(http.StatusOK)
		_, _ = io.Copy(w, f)
	}), nil
}

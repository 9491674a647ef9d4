package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// ReconcileRequest is the body of POST <kind>/<name>/reconcile and its
// answer. All fields are optional.
type ReconcileRequest struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	// WithSource reconciles the object's source first (appliers only).
	WithSource bool `json:"withSource,omitempty"`
	// Force asks for a one-off forced run (HelmRelease: upgrade even when
	// nothing changed), like `flux reconcile hr --force`.
	Force bool `json:"force,omitempty"`
	// Reset clears the failure counters (HelmRelease: install and upgrade
	// retries start over), like `flux reconcile hr --reset`.
	Reset bool `json:"reset,omitempty"`
	// RequestedAt is the value recorded in the
	// reconcile.fluxcd.io/requestedAt annotation; the object's
	// status.lastHandledReconcileAt shows it once the run is done.
	RequestedAt string `json:"requestedAt,omitempty"`
}

// ForceRequestAnnotation and ResetRequestAnnotation ask a HelmRelease for a
// forced run or a reset of its failure counters, as Flux's CLI does: set to
// the same value as the reconcile request.
const (
	ForceRequestAnnotation = "reconcile.fluxcd.io/forceAt"
	ResetRequestAnnotation = "reconcile.fluxcd.io/resetAt"
)

// ReconcileREST serves POST <kind>/<name>/reconcile (RBAC: `create` on
// `<resource>/reconcile`): it records a reconcile request on the object,
// exactly as `flux reconcile` does with the requestedAt annotation, so the
// worker runs at once. A dryRun request is refused (400) and writes nothing.
type ReconcileREST struct {
	store *genericregistry.Store
	kind  *Kind
	now   func() time.Time
	// reconcilers and authorizer serve withSource.
	reconcilers *Reconcilers
	authorizer  authorizer.Authorizer
}

// Reconcilers is the /reconcile of every kind by kind name, so an applier
// can request a reconciliation of its source (withSource).
type Reconcilers struct {
	mu     sync.RWMutex
	byKind map[string]*ReconcileREST
}

func (r *Reconcilers) add(kind string, rr *ReconcileREST) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byKind == nil {
		r.byKind = map[string]*ReconcileREST{}
	}
	r.byKind[kind] = rr
}

func (r *Reconcilers) get(kind string) *ReconcileREST {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byKind[kind]
}

var _ rest.Connecter = &ReconcileREST{}

// NewReconcileREST returns the /reconcile subresource of a kind.
func NewReconcileREST(store *genericregistry.Store, k *Kind) *ReconcileREST {
	return &ReconcileREST{store: store, kind: k, now: time.Now}
}

// New implements rest.Storage.
func (r *ReconcileREST) New() runtime.Object { return r.store.New() }

// Destroy implements rest.Storage.
func (r *ReconcileREST) Destroy() {}

// NewConnectOptions implements rest.Connecter; options come in the body.
func (r *ReconcileREST) NewConnectOptions() (runtime.Object, bool, string) { return nil, false, "" }

// ConnectMethods implements rest.Connecter.
func (r *ReconcileREST) ConnectMethods() []string { return []string{http.MethodPost} }

// Connect implements rest.Connecter.
func (r *ReconcileREST) Connect(ctx context.Context, name string, _ runtime.Object, responder rest.Responder) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var rr ReconcileRequest
		body, err := io.ReadAll(io.LimitReader(req.Body, 64<<10))
		if err == nil && len(body) > 0 {
			err = json.Unmarshal(body, &rr)
		}
		if err != nil {
			responder.Error(apierrors.NewBadRequest(fmt.Sprintf("invalid ReconcileRequest: %v", err)))
			return
		}
		rr.RequestedAt = r.now().UTC().Format(time.RFC3339Nano)
		// dryRun never gets here: the API machinery answers 400 to dryRun
		// on connect subresources, so a dry run triggers nothing.
		if rr.WithSource {
			if err := r.requestSource(ctx, name, rr); err != nil {
				responder.Error(err)
				return
			}
		}
		if err := r.request(ctx, name, rr); err != nil {
			responder.Error(err)
			return
		}
		rr.APIVersion = r.kind.GroupKind.Group + "/" + r.kind.Versions[0]
		rr.Kind = "ReconcileRequest"
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(rr)
	}), nil
}

// request stamps the annotations on the object.
func (r *ReconcileREST) request(ctx context.Context, name string, rr ReconcileRequest) error {
	_, _, err := r.store.Update(ctx, name, annotate{rr}, rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc,
		false, &metav1.UpdateOptions{FieldManager: "gitops-apiserver-reconcile"})
	return err
}

// requestSource stamps the request on the object's source first, as
// `flux reconcile --with-source` does, when the caller may reconcile that
// source too (create on <sources>/reconcile).
func (r *ReconcileREST) requestSource(ctx context.Context, name string, rr ReconcileRequest) error {
	if r.kind.SourceRef == nil {
		return apierrors.NewBadRequest(fmt.Sprintf("withSource: %s have no source", r.kind.Resource))
	}
	obj, err := r.store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return err
	}
	kind, ns, srcName, ok := r.kind.SourceRef(obj)
	if !ok {
		return apierrors.NewBadRequest(fmt.Sprintf("withSource: %s %q names no source object that can be reconciled", r.kind.Singular, name))
	}
	if ns == "" {
		ns, _ = genericapirequest.NamespaceFrom(ctx)
	}
	src := r.reconcilers.get(kind)
	if src == nil {
		return apierrors.NewBadRequest(fmt.Sprintf("withSource: source kind %q cannot be reconciled", kind))
	}
	if r.authorizer != nil {
		user, _ := genericapirequest.UserFrom(ctx)
		attrs := authorizer.AttributesRecord{User: user, Verb: "create", APIGroup: src.kind.GroupKind.Group,
			APIVersion: src.kind.Versions[0], Resource: src.kind.Resource, Subresource: "reconcile",
			Namespace: ns, Name: srcName, ResourceRequest: true}
		if decision, _, err := r.authorizer.Authorize(ctx, attrs); err != nil || decision != authorizer.DecisionAllow {
			gr := schema.GroupResource{Group: src.kind.GroupKind.Group, Resource: src.kind.Resource + "/reconcile"}
			return apierrors.NewForbidden(gr, srcName, fmt.Errorf("withSource needs create on %s in namespace %q", gr, ns))
		}
	}
	return src.request(genericapirequest.WithNamespace(ctx, ns), srcName, rr)
}

// annotate is the update a reconcile request makes: the stored object with
// the request annotations set (retried by the store on conflicts).
type annotate struct{ rr ReconcileRequest }

func (annotate) Preconditions() *metav1.Preconditions { return nil }

func (a annotate) UpdatedObject(_ context.Context, old runtime.Object) (runtime.Object, error) {
	obj := old.DeepCopyObject()
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	ann := m.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[common.ReconcileRequestAnnotation] = a.rr.RequestedAt
	if a.rr.Force {
		ann[ForceRequestAnnotation] = a.rr.RequestedAt
	}
	if a.rr.Reset {
		ann[ResetRequestAnnotation] = a.rr.RequestedAt
	}
	m.SetAnnotations(ann)
	return obj, nil
}

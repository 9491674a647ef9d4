package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/inspect"
)

// Differ computes what applying a Kustomization/HelmRelease now would change.
type Differ interface {
	// Diff returns the report for kind/namespace/name. A Kubernetes API
	// status error is answered as is (e.g. 503 while the workers cannot
	// diff, 405 for a kind they cannot diff yet); any other error is a 500
	// showing its message, so it must never include secret values.
	Diff(ctx context.Context, kind, namespace, name string) (*inspect.DiffReport, error)
}

// DiffREST serves GET <resource>/<name>/diff (RBAC: `get` on
// `<resource>/diff`): what applying the object now would change in the
// cluster, as an inspect.DiffReport in JSON or, with ?format=text, as
// inspect.DiffText renders it. It answers 503 when no Differ is wired (the
// workers compute diffs, and may be disabled).
type DiffREST struct {
	inspection
	differ Differ
	// slots bounds the diffs computed at once: each one builds the source
	// and dry-runs every object in the target cluster.
	slots chan struct{}
}

// Bounds of /diff, so that a few requests cannot take the server's memory
// or the target cluster's attention.
const (
	// maxConcurrentDiffs is how many diffs are computed at once; more
	// requests are answered 429 with a Retry-After.
	maxConcurrentDiffs = 4
	// maxObjectDiffBytes caps one object's unified diff.
	maxObjectDiffBytes = 256 << 10
	// maxReportDiffBytes caps the diffs of one report; later objects are
	// listed with their action but without their diff.
	maxReportDiffBytes = 8 << 20
)

var _ rest.Connecter = &DiffREST{}

// NewDiffREST returns the /diff subresource of k, reading the objects with
// objects (the kind's store) to answer 404 for missing ones.
func NewDiffREST(k *Kind, objects rest.Getter, differ Differ) *DiffREST {
	return &DiffREST{inspection: inspection{
		kind: k, objects: objects, subresource: "diff",
		unavailable: "diffs are computed by the workers, which are not running in this server (disabled with --disable-workers, or without a host cluster)",
	}, differ: differ, slots: make(chan struct{}, maxConcurrentDiffs)}
}

// Connect implements rest.Connecter.
func (r *DiffREST) Connect(ctx context.Context, name string, _ runtime.Object, responder rest.Responder) (http.Handler, error) {
	var compute reportFunc
	if r.differ != nil {
		compute = r.diff
	}
	return r.handler(ctx, name, responder, compute), nil
}

func (r *DiffREST) diff(ctx context.Context, ref inspect.ObjectRef) (interface{}, func() string, error) {
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	default:
		return nil, nil, apierrors.NewTooManyRequests(
			fmt.Sprintf("%d diffs are being computed; try again shortly", maxConcurrentDiffs), 5)
	}
	report, err := r.differ.Diff(ctx, ref.Kind, ref.Namespace, ref.Name)
	if err != nil {
		return nil, nil, err
	}
	if report == nil {
		return nil, nil, errors.New("the differ returned no report")
	}
	if report.Kind == "" {
		report.Kind, report.APIVersion = inspect.DiffReportKind, inspect.APIVersion
	}
	if report.Object.Name == "" {
		report.Object = ref
	}
	if report.Objects == nil {
		report.Objects = []inspect.ObjectDiff{}
	}
	limitDiffs(report)
	return report, func() string { return inspect.DiffText(report) }, nil
}

// limitDiffs truncates each object's diff to maxObjectDiffBytes and drops
// the diffs past maxReportDiffBytes in all, saying so in their place.
func limitDiffs(report *inspect.DiffReport) {
	total := 0
	for i := range report.Objects {
		d := &report.Objects[i]
		if d.Diff == "" {
			continue
		}
		if total >= maxReportDiffBytes {
			d.Diff = fmt.Sprintf("(diff of %d bytes left out: the report's diffs reached %d MiB)\n", len(d.Diff), maxReportDiffBytes>>20)
			continue
		}
		if len(d.Diff) > maxObjectDiffBytes {
			cut := strings.LastIndexByte(d.Diff[:maxObjectDiffBytes], '\n') + 1
			d.Diff = d.Diff[:cut] + fmt.Sprintf("(%d more bytes of this diff left out)\n", len(d.Diff)-cut)
		}
		total += len(d.Diff)
	}
}

// The rest of this file is what /diff and /tree share.

// Report formats, chosen with ?format=.
const (
	formatJSON = "json"
	formatText = "text"
)

// inspection serves a GET on an existing object with a report about it.
type inspection struct {
	kind    *Kind
	objects rest.Getter
	// subresource is "diff" or "tree".
	subresource string
	// unavailable says why the subresource answers 503 when it cannot
	// compute reports.
	unavailable string
}

// reportFunc computes a report about ref and its text rendering.
type reportFunc func(ctx context.Context, ref inspect.ObjectRef) (report interface{}, text func() string, err error)

// New implements rest.Storage.
func (i *inspection) New() runtime.Object { return i.kind.New() }

// Destroy implements rest.Storage; the main resource owns the store.
func (i *inspection) Destroy() {}

// NewConnectOptions implements rest.Connecter; the handler reads ?format.
func (i *inspection) NewConnectOptions() (runtime.Object, bool, string) { return nil, false, "" }

// ConnectMethods implements rest.Connecter.
func (i *inspection) ConnectMethods() []string { return []string{http.MethodGet} }

func (i *inspection) resource() schema.GroupResource {
	return schema.GroupResource{Group: i.kind.GroupKind.Group, Resource: i.kind.Resource}
}

// handler answers, in order: 400 for an unknown format, 404 for a missing
// object, 503 when compute is nil, the error compute returns, or the report.
func (i *inspection) handler(ctx context.Context, name string, responder rest.Responder, compute reportFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		format, err := reportFormat(req.URL.Query())
		if err != nil {
			responder.Error(err)
			return
		}
		obj, err := i.objects.Get(ctx, name, &metav1.GetOptions{})
		if err != nil {
			responder.Error(err)
			return
		}
		m, err := meta.Accessor(obj)
		if err != nil {
			responder.Error(apierrors.NewInternalError(err))
			return
		}
		if compute == nil {
			responder.Error(apierrors.NewServiceUnavailable(fmt.Sprintf("%s of %s %q is not available: %s",
				i.subresource, i.resource(), name, i.unavailable)))
			return
		}
		ref := inspect.ObjectRef{
			APIVersion: i.kind.GroupKind.Group + "/" + i.kind.Versions[0],
			Kind:       i.kind.GroupKind.Kind, Namespace: m.GetNamespace(), Name: name,
		}
		report, text, err := compute(ctx, ref)
		if err != nil {
			responder.Error(i.statusError(name, err))
			return
		}
		writeReport(w, responder, format, report, text)
	})
}

// statusError turns what computing a report failed with into an API
// status: status errors as they are, a missing object as 404, anything else
// as 500 with its message.
func (i *inspection) statusError(name string, err error) error {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return &apierrors.StatusError{ErrStatus: status.Status()}
	}
	if errors.Is(err, inspect.ErrNotFound) {
		return apierrors.NewNotFound(i.resource(), name)
	}
	return apierrors.NewInternalError(fmt.Errorf("%s of %s %q: %w", i.subresource, i.resource(), name, err))
}

// reportFormat reads ?format: json (the default) or text.
func reportFormat(q url.Values) (string, error) {
	switch f := q.Get("format"); f {
	case "", formatJSON:
		return formatJSON, nil
	case formatText:
		return formatText, nil
	default:
		return "", apierrors.NewBadRequest(fmt.Sprintf("unknown format %q: use format=json (the default) or format=text", f))
	}
}

// writeReport writes report as JSON (application/json) or its text
// rendering (text/plain).
func writeReport(w http.ResponseWriter, responder rest.Responder, format string, report interface{}, text func() string) {
	h := w.Header()
	if format == formatText {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, text())
		return
	}
	body, err := json.Marshal(report)
	if err != nil {
		responder.Error(apierrors.NewInternalError(err))
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
}

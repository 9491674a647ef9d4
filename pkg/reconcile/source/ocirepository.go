package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// OCIRepositoryReconciler turns an OCIRepository into an artifact of one
// layer of the OCI artifact its reference resolves to.
type OCIRepositoryReconciler struct {
	// Env is shared by the source controllers; Events is set once the
	// workers start.
	*Env
}

var _ loop.Reconciler[*sourcev1.OCIRepository] = &OCIRepositoryReconciler{}

// Reconcile implements loop.Reconciler.
func (r *OCIRepositoryReconciler) Reconcile(ctx context.Context, obj *sourcev1.OCIRepository) loop.Result {
	ctx = netguard.WithContext(ctx, r.Guard)
	return r.run(obj, sourceState{
		suspend: obj.Spec.Suspend, interval: obj.Spec.Interval,
		request: &obj.Status.ReconcileRequestStatus, conditions: &obj.Status.Conditions,
		observedGeneration: &obj.Status.ObservedGeneration, failureReason: source.OCIPullFailedReason,
	}, func() (string, error) { return r.reconcile(ctx, obj) })
}

// reconcile resolves, pulls and stores; it returns the Ready message on
// success. On failure the last artifact stays in status and in storage.
func (r *OCIRepositoryReconciler) reconcile(ctx context.Context, obj *sourcev1.OCIRepository) (string, error) {
	opts, err := r.ociOptions(ctx, obj)
	if err != nil {
		setFetchFailed(&obj.Status.Conditions, obj.Generation, err, source.OCIPullFailedReason)
		return "", err
	}
	keys, err := r.ociVerification(ctx, obj)
	if err != nil {
		return "", err
	}
	resolved, err := oci.Resolve(ctx, opts)
	if err != nil {
		err = ociError(err, "failed to determine artifact digest for %s of '%s'", opts.Ref, obj.Spec.URL)
		setFetchFailed(&obj.Status.Conditions, obj.Generation, err, source.OCIPullFailedReason)
		return "", err
	}
	if r.upToDate(obj, resolved) {
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.FetchFailedCondition)
		return storedMessage(resolved.Revision), nil
	}

	// Verified before the pull, by digest: an unverified artifact is
	// never stored.
	if keys != nil {
		if err := r.verifyArtifact(ctx, obj, opts, resolved, keys); err != nil {
			return "", err
		}
	}

	key := artifact.Key{Kind: source.OCIRepositoryKind, Namespace: obj.Namespace, Name: obj.Name}
	sel := layerSelector(obj.Spec.LayerSelector)
	stored, pulled, err := r.pullAndStore(ctx, obj, opts, resolved, key, sel)
	if err != nil {
		var se *storageError
		if errors.As(err, &se) {
			return "", storageFailed(&obj.Status.Conditions, obj.Generation, "failed to store the artifact of revision %s: %w", resolved.Revision, se.err)
		}
		setFetchFailed(&obj.Status.Conditions, obj.Generation, err, source.OCIPullFailedReason)
		return "", err
	}
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.FetchFailedCondition)

	previous := obj.Status.Artifact
	obj.Status.Artifact = storedArtifact("ocirepositories", obj.Namespace, obj.Name, resolved.Revision, stored)
	obj.Status.Artifact.Metadata = maps.Clone(pulled.Annotations)
	obj.Status.URL = obj.Status.Artifact.URL
	obj.Status.ObservedIgnore = obj.Spec.Ignore
	obj.Status.ObservedLayerSelector = obj.Spec.LayerSelector.DeepCopy()
	msg := storedMessage(resolved.Revision)
	markStored(&obj.Status.Conditions, obj.Generation, common.SucceededReason, msg)
	if previous == nil || previous.Revision != resolved.Revision || previous.Digest != stored.Digest {
		r.Events.Eventf(obj, corev1.EventTypeNormal, "NewArtifact", "stored artifact with revision '%s' from '%s'", resolved.Revision, obj.Spec.URL)
	}
	r.gc(obj, key, stored.Path)
	return msg, nil
}

// upToDate says whether the stored artifact already is what the spec asks
// for: same revision (hence digest), same layer selection and ignore rules,
// verified by this generation's spec.verify if any, still in storage.
func (r *OCIRepositoryReconciler) upToDate(obj *sourcev1.OCIRepository, resolved *oci.Resolved) bool {
	a := obj.Status.Artifact
	return a != nil && a.Revision == resolved.Revision &&
		obj.Status.ObservedGeneration == obj.Generation &&
		layerSelector(obj.Status.ObservedLayerSelector) == layerSelector(obj.Spec.LayerSelector) &&
		equalIgnore(obj.Status.ObservedIgnore, obj.Spec.Ignore) &&
		verifiedRevision(obj, resolved.Revision) &&
		r.Store.Exists(a.Path)
}

// pullAndStore pulls the selected layer and stores it: as it is for the
// copy operation, extracted and re-archived (with the ignore rules) for
// extract.
func (r *OCIRepositoryReconciler) pullAndStore(ctx context.Context, obj *sourcev1.OCIRepository, opts oci.Options,
	resolved *oci.Resolved, key artifact.Key, sel oci.LayerSelector) (*artifact.Artifact, *oci.Artifact, error) {
	var stored *artifact.Artifact
	var dir string
	if sel.Operation == oci.OperationExtract {
		var err error
		if dir, err = os.MkdirTemp(r.TmpDir, "oci-"); err != nil {
			return nil, nil, loop.Failf(source.DirCreationFailedReason, "failed to create a working directory: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	pulled, err := oci.Pull(ctx, opts, resolved, sel, func(layer io.Reader) error {
		// Failures to read the layer (network, size cap, digest) are pull
		// failures; anything else is about what was done with its bytes.
		in := &readTracker{r: layer}
		if sel.Operation == oci.OperationCopy {
			var err error
			if stored, err = r.Store.PutArchive(ctx, key, in); err != nil && in.err == nil {
				return &storageError{err: err}
			}
			return err
		}
		if err := artifact.Extract(in, dir, artifact.ExtractOptions{MaxSize: r.MaxFetchSize}); err != nil {
			if in.err == nil {
				return &layerError{err: err}
			}
			return err
		}
		// Read to the end so the layer's digest is verified.
		_, err := io.Copy(io.Discard, in)
		return err
	})
	if err != nil {
		return nil, nil, ociError(err, "failed to pull artifact from '%s'", obj.Spec.URL)
	}
	if sel.Operation == oci.OperationExtract {
		stored, err = r.Store.Put(ctx, key, dir, artifact.ArchiveOptions{Ignore: ignorePatterns(obj.Spec.Ignore), MaxSize: r.MaxFetchSize})
		if err != nil {
			return nil, nil, &storageError{err: err}
		}
	}
	return stored, pulled, nil
}

// layerError marks a failure to extract the layer (not a tar.gz, unsafe
// paths, too large once unpacked).
type layerError struct{ err error }

func (e *layerError) Error() string { return "failed to extract layer: " + e.err.Error() }
func (e *layerError) Unwrap() error { return e.err }

// storageError marks a failure of the artifact store.
type storageError struct{ err error }

func (e *storageError) Error() string { return e.err.Error() }
func (e *storageError) Unwrap() error { return e.err }

// readTracker remembers the first error of reading r other than io.EOF.
type readTracker struct {
	r   io.Reader
	err error
}

func (t *readTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

// ociError maps an error of pkg/oci to a loop error with Flux's reason.
func ociError(err error, format string, args ...interface{}) error {
	msg := fmt.Sprintf(format, args...)
	var le *layerError
	var se *storageError
	switch {
	case errors.As(err, &se):
		return se
	case errors.As(err, &le):
		return loop.Failf(source.OCILayerOperationFailedReason, "%s: %w", msg, err)
	case errors.Is(err, oci.ErrAuthentication):
		return loop.Failf(source.AuthenticationFailedReason, "%s: %w", msg, err)
	case errors.Is(err, oci.ErrInvalidOptions):
		// Retrying cannot help until the object changes.
		return loop.Stallf(source.OCIPullFailedReason, "%s: %w", msg, err)
	}
	return loop.Failf(source.OCIPullFailedReason, "%s: %w", msg, err)
}

// layerSelector applies the defaults: the first layer, extracted.
func layerSelector(s *sourcev1.OCILayerSelector) oci.LayerSelector {
	sel := oci.LayerSelector{Operation: oci.OperationExtract}
	if s != nil {
		sel.MediaType = s.MediaType
		if s.Operation != "" {
			sel.Operation = s.Operation
		}
	}
	return sel
}

func equalIgnore(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

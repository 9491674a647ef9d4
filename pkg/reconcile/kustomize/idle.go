package kustomize

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"hash"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
)

// An interval run that would change nothing does nothing: no build, no
// apply, no status write. It would change nothing when, since the last
// successful run, nothing it is computed from changed:
//
//   - the spec (generation) and the reconcile request annotation,
//   - the source artifact (revision and digest),
//   - the values substituted (spec.postBuild.substitute and the contents
//     of substituteFrom) and the decryption keys, by hash,
//   - the applied objects, as the shared informers see them (see drift.go),
//   - the status, which must still be what that run left (its write may
//     have failed),
//
// and the dependencies are still ready. Health checked objects must not
// have changed at all (their status decides the health), and a
// Kustomization that checks the health of objects it did not apply, or
// builds with remote bases (which change with no input we see), or targets
// a remote cluster (not watched), always runs in full.
//
// The record lives in memory: after a restart the first run is a full one.

// runInputs is what a run was computed from, besides its objects.
type runInputs struct {
	generation  int64
	requestedAt string
	revision    string
	digest      string
	values      [sha256.Size]byte
}

// inputsOf returns the inputs of a run of obj from src's artifact; the
// values are read now (substituteFrom and the decryption Secret).
func (r *Reconciler) inputsOf(ctx context.Context, obj *kustomizev1.Kustomization, a *common.Artifact) (runInputs, error) {
	values, err := r.valuesHash(ctx, obj)
	if err != nil {
		return runInputs{}, err
	}
	return runInputs{
		generation:  obj.Generation,
		requestedAt: obj.Annotations[common.ReconcileRequestAnnotation],
		revision:    a.Revision,
		digest:      a.Digest,
		values:      values,
	}, nil
}

// valuesHash hashes the variables substituted after the build and the
// decryption keys; neither is kept nor shown.
func (r *Reconciler) valuesHash(ctx context.Context, obj *kustomizev1.Kustomization) ([sha256.Size]byte, error) {
	h := sha256.New()
	if pb := obj.Spec.PostBuild; pb != nil {
		vars, err := r.variables(ctx, obj)
		if err != nil {
			return [sha256.Size]byte{}, err
		}
		writeMap(h, "vars", vars)
	}
	if d := obj.Spec.Decryption; d != nil && d.SecretRef != nil && d.SecretRef.Name != "" && r.Host != nil {
		secret, err := r.Host.CoreV1().Secrets(obj.Namespace).Get(ctx, d.SecretRef.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			writeString(h, "no decryption secret")
		case err != nil:
			return [sha256.Size]byte{}, err
		default:
			keys := make(map[string]string, len(secret.Data))
			for k, v := range secret.Data {
				keys[k] = string(v)
			}
			writeMap(h, "keys", keys)
		}
	}
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out, nil
}

// statusHash identifies a status as stored (times at the precision they
// are stored with).
func statusHash(st *kustomizev1.KustomizationStatus) [sha256.Size]byte {
	b, err := json.Marshal(st)
	if err != nil {
		return [sha256.Size]byte{}
	}
	return sha256.Sum256(b)
}

// unchanged reports whether an interval run of obj would change nothing
// since its last successful run, so it may be skipped.
func (r *Reconciler) unchanged(ctx context.Context, obj *kustomizev1.Kustomization) bool {
	why := r.changedSince(ctx, obj)
	if why == "" {
		klog.FromContext(ctx).V(1).Info("Nothing changed since the last apply; skipping the run")
		return true
	}
	klog.FromContext(ctx).V(1).Info("Running in full", "because", why)
	return false
}

// changedSince returns what changed since obj's last successful run ("":
// nothing), for unchanged and its log.
func (r *Reconciler) changedSince(ctx context.Context, obj *kustomizev1.Kustomization) string {
	switch {
	case r.Watches == nil:
		return "applied objects are not watched"
	case r.AllowRemoteBases:
		return "remote bases may have changed"
	}
	rec, ok := r.drift.snapshot(obj.Namespace + "/" + obj.Name)
	switch {
	case !ok:
		return "no apply recorded"
	case rec.drifted:
		return "an applied object changed"
	case !rec.complete:
		return "the last run did not succeed"
	case rec.checksOutside:
		return "health checks name objects not applied"
	}
	in := rec.inputs
	switch {
	case in.generation != obj.Generation || obj.Status.ObservedGeneration != obj.Generation:
		return "a new generation"
	case in.requestedAt != obj.Annotations[common.ReconcileRequestAnnotation]:
		return "a reconcile request"
	case rec.status != statusHash(&obj.Status):
		return "the status is not the one the last run left"
	case r.checkDependencies(obj) != nil:
		return "a dependency is not ready"
	}
	src, _, err := r.source(obj)
	if err != nil || src.Artifact.Revision != in.revision || src.Artifact.Digest != in.digest {
		return "the source artifact changed"
	}
	if why := r.liveChanged(rec); why != "" {
		return why
	}
	// Last: the only checks that cost requests (reads).
	if cluster, err := r.currentWatchKey(ctx, obj); err != nil || cluster != rec.cluster {
		return "the target cluster or its credentials changed"
	}
	now, err := r.inputsOf(ctx, obj, src.Artifact)
	if err != nil || now != in {
		return "substituted values or decryption keys changed"
	}
	return ""
}

// liveChanged returns which object rec applied is not, as the synced
// informers see it, as the apply left it ("": none).
func (r *Reconciler) liveChanged(rec applyRecord) string {
	for _, o := range rec.objects {
		live, synced := r.Watches.Get(rec.cluster, o.resource, o.key.namespace, o.key.name)
		switch {
		case !synced:
			return "the informer of " + o.resource.String() + " has not synced"
		case live == nil:
			return o.subject + " is gone"
		case !o.state.matches(liveStateOf(live, o), o.strict):
			return o.subject + " changed"
		}
	}
	return ""
}

// writeMap hashes m in key order, each part length-prefixed so that no
// two maps hash alike.
func writeMap(h hash.Hash, label string, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	writeString(h, label)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(keys)))
	h.Write(n[:])
	for _, k := range keys {
		writeString(h, k)
		writeString(h, m[k])
	}
}

func writeString(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

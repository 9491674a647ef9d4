package kustomize

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/build"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/decrypt"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/ignore"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// build unpacks the artifact in memory, decrypts its SOPS files with the
// keys of spec.decryption, runs kustomize and the post-build steps, and
// labels every object as owned by obj. It returns the Decryptor used (nil
// without spec.decryption), whose Redact the caller applies to whatever it
// shows of the objects; the errors it returns are redacted already.
func (r *Reconciler) build(ctx context.Context, obj *kustomizev1.Kustomization, key artifact.Key, a *common.Artifact) ([]*unstructured.Unstructured, *decrypt.Decryptor, error) {
	dec, err := r.decryptor(ctx, obj)
	if err != nil {
		return nil, nil, err
	}
	objs, err := r.buildWith(ctx, obj, key, a, dec)
	return objs, dec, redactErr(err, dec)
}

func (r *Reconciler) buildWith(ctx context.Context, obj *kustomizev1.Kustomization, key artifact.Key, a *common.Artifact, dec *decrypt.Decryptor) ([]*unstructured.Unstructured, error) {
	objs, err := r.kustomize(ctx, key, a, obj, dec)
	if err != nil {
		return nil, err
	}
	if err := checkNoEncryptedSecrets(obj, objs); err != nil {
		return nil, err
	}
	if pb := obj.Spec.PostBuild; pb != nil {
		vars, err := r.variables(ctx, obj)
		if err != nil {
			return nil, err
		}
		if len(vars) > 0 || pb.SubstituteStrategy == kustomize.SubstituteAlways {
			objs, err = build.Substitute(objs, vars, false)
			if err != nil {
				return nil, loop.Failf(kustomize.BuildFailedReason, "post build failed: %v", err)
			}
		}
	}
	if rules := ignoreRules(obj); len(rules) > 0 {
		// Excluded from apply, and so from drift correction and /diff.
		objs = ignore.Apply(objs, rules)
	}
	labels := ownerLabels(obj)
	for _, o := range objs {
		l := o.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		for k, v := range labels {
			l[k] = v
		}
		o.SetLabels(l)
	}
	return objs, nil
}

// buildWeight is what unpacking a to memory is counted for: its compressed
// size times a generous ratio for YAML, at least 1 MiB and at most the cap
// (which LoadArchive enforces on the real size).
func buildWeight(a *common.Artifact, maxSize int64) int64 {
	w := int64(1 << 20)
	if a.Size != nil && *a.Size*32 > w {
		w = *a.Size * 32
	}
	if maxSize > 0 && w > maxSize {
		w = maxSize
	}
	return w
}

// kustomize builds the artifact at spec.path with the spec's overlay.
func (r *Reconciler) kustomize(ctx context.Context, key artifact.Key, a *common.Artifact, obj *kustomizev1.Kustomization, dec *decrypt.Decryptor) ([]*unstructured.Unstructured, error) {
	if r.BuildMemory != nil {
		w := buildWeight(a, r.MaxArtifactSize)
		if err := r.BuildMemory.Acquire(ctx, w); err != nil {
			return nil, loop.Failf(kustomize.ArtifactFailedReason, "waiting for memory to build in: %v", err)
		}
		defer r.BuildMemory.Release(w)
	}
	rc, err := r.openArtifact(ctx, key, a)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	fs, err := build.LoadArchiveLimited(rc, r.MaxArtifactSize, r.MaxArtifactFiles)
	if errors.Is(err, artifact.ErrTooLarge) {
		return nil, loop.Stallf(kustomize.ArtifactFailedReason,
			"the artifact of %s/%s/%s is too large to build: %v (the server's --max-build-size and --max-build-files; "+
				"trim the source with spec.ignore, .sourceignore or sparseCheckout)", key.Kind, key.Namespace, key.Name, err)
	}
	if err != nil {
		return nil, loop.Failf(kustomize.ArtifactFailedReason, "failed to read the artifact of %s/%s/%s: %v", key.Kind, key.Namespace, key.Name, err)
	}
	_, _ = io.Copy(io.Discard, rc) // read to the end so the digest is verified
	var labels, annotations map[string]string
	if cm := obj.Spec.CommonMetadata; cm != nil {
		labels, annotations = cm.Labels, cm.Annotations
	}
	opts := build.Options{
		Path:                    obj.Spec.Path,
		TargetNamespace:         obj.Spec.TargetNamespace,
		NamePrefix:              obj.Spec.NamePrefix,
		NameSuffix:              obj.Spec.NameSuffix,
		CommonLabels:            labels,
		CommonAnnotations:       annotations,
		Patches:                 obj.Spec.Patches,
		Images:                  obj.Spec.Images,
		Components:              obj.Spec.Components,
		IgnoreMissingComponents: obj.Spec.IgnoreMissingComponents,
		BuildMetadata:           obj.Spec.BuildMetadata,
		AllowRemoteBases:        r.AllowRemoteBases,
		Remote: build.RemoteOptions{
			TmpDir: r.TmpDir, MaxFetchSize: r.MaxFetchSize,
			MaxSize: r.MaxArtifactSize, MaxFiles: r.MaxArtifactFiles,
		},
	}
	if dec != nil {
		opts.Decryptor = dec
	}
	objs, err := build.BuildContext(ctx, fs, opts)
	var decryptErr *decrypt.FileError
	switch {
	case errors.As(err, &decryptErr):
		return nil, decryptionError(err)
	case err != nil:
		return nil, loop.Failf(kustomize.BuildFailedReason, "kustomize build failed: %v", err)
	}
	return objs, nil
}

// variables collects spec.postBuild.substituteFrom (in order, later ones
// win) and then spec.postBuild.substitute, which wins over all of them.
func (r *Reconciler) variables(ctx context.Context, obj *kustomizev1.Kustomization) (map[string]string, error) {
	vars := map[string]string{}
	for _, ref := range obj.Spec.PostBuild.SubstituteFrom {
		subject := fmt.Sprintf("%s/%s", ref.Kind, ref.Name)
		var data map[string]string
		var err error
		switch ref.Kind {
		case "ConfigMap":
			var cm *corev1.ConfigMap
			cm, err = r.Host.CoreV1().ConfigMaps(obj.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err == nil {
				data = cm.Data
			}
		case "Secret":
			var s *corev1.Secret
			s, err = r.Host.CoreV1().Secrets(obj.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err == nil {
				data = make(map[string]string, len(s.Data)+len(s.StringData))
				for k, v := range s.Data {
					data[k] = string(v)
				}
			}
		default:
			return nil, loop.Stallf(kustomize.BuildFailedReason, "substitute from '%s': kind must be ConfigMap or Secret", subject)
		}
		if apierrors.IsNotFound(err) {
			if ref.Optional {
				continue
			}
			return nil, loop.Failf(kustomize.BuildFailedReason, "substitute from '%s': not found", subject)
		}
		if err != nil {
			// The API error names the object, never its data.
			return nil, loop.Failf(kustomize.BuildFailedReason, "substitute from '%s': %v", subject, err)
		}
		for k, v := range data {
			vars[k] = v
		}
	}
	for k, v := range obj.Spec.PostBuild.Substitute {
		vars[k] = v
	}
	return vars, nil
}

// manifestsDigest identifies a built set of manifests for status.history.
func manifestsDigest(objs []*unstructured.Unstructured) string {
	h := sha256.New()
	for _, o := range objs {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			continue
		}
		h.Write(b)
		h.Write([]byte("---\n"))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// ignoreRules are spec.ignore.
func ignoreRules(obj *kustomizev1.Kustomization) []ignore.Rule {
	rules := make([]ignore.Rule, len(obj.Spec.Ignore))
	for i, r := range obj.Spec.Ignore {
		rules[i] = ignore.Rule{Paths: r.Paths, Target: r.Target}
	}
	return rules
}

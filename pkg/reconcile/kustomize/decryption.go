package kustomize

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/decrypt"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// checkDecryption refuses the parts of spec.decryption this server cannot
// do, before anything is read: only the sops provider, and keys from
// spec.decryption.secretRef (no cloud identity).
func checkDecryption(obj *kustomizev1.Kustomization) error {
	d := obj.Spec.Decryption
	switch {
	case d == nil:
		return nil
	case d.Provider != "sops":
		return loop.Stallf(kustomize.ReconciliationFailedReason,
			"spec.decryption.provider %q is not supported: the only provider is sops", d.Provider)
	case d.ServiceAccountName != "":
		return loop.Stallf(kustomize.ReconciliationFailedReason,
			"spec.decryption.serviceAccountName: authenticating to a cloud KMS as a service account is not supported by this server; "+
				"decrypt with age or OpenPGP keys from spec.decryption.secretRef")
	}
	return nil
}

// decryptor returns what decrypts obj's SOPS files, with the keys of its
// spec.decryption.secretRef read now from the host cluster (nil without
// spec.decryption). Each build gets its own: keys are never shared between
// Kustomizations nor kept after the build.
func (r *Reconciler) decryptor(ctx context.Context, obj *kustomizev1.Kustomization) (*decrypt.Decryptor, error) {
	d := obj.Spec.Decryption
	if d == nil {
		return nil, nil
	}
	var keys *decrypt.Keys
	if ref := d.SecretRef; ref != nil && ref.Name != "" {
		subject := fmt.Sprintf("'%s/%s' (spec.decryption.secretRef)", obj.Namespace, ref.Name)
		if r.Host == nil {
			return nil, loop.Failf(kustomize.BuildFailedReason, "cannot read the decryption secret %s: no host client", subject)
		}
		secret, err := r.Host.CoreV1().Secrets(obj.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return nil, loop.Failf(kustomize.BuildFailedReason, "decryption secret %s not found", subject)
		case err != nil:
			// The API error names the object, never its data.
			return nil, loop.Failf(kustomize.BuildFailedReason, "failed to get decryption secret %s: %v", subject, err)
		}
		if keys, err = decrypt.ParseKeys(secret.Data); err != nil {
			return nil, loop.Stallf(kustomize.BuildFailedReason, "decryption secret %s: %v", subject, err)
		}
	}
	maxSize := r.MaxArtifactSize
	switch {
	case maxSize == 0:
		maxSize = artifact.DefaultMaxExtractSize
	case maxSize < 0:
		maxSize = 0 // no cap
	}
	return decrypt.New(keys, decrypt.Options{MaxSize: maxSize}), nil
}

// decryptionError turns a decryption failure of the build into the run's
// outcome: keys of a kind this server cannot use, and plaintext over the
// size limit, stall until the source or the Secret changes; a wrong key or
// a damaged file is a failure, retried.
func decryptionError(err error) error {
	switch {
	case errors.Is(err, decrypt.ErrUnsupported):
		return loop.Stallf(kustomize.BuildFailedReason, "%v", err)
	case errors.Is(err, decrypt.ErrTooLarge):
		return loop.Stallf(kustomize.ArtifactFailedReason, "%v (the server's --max-build-size)", err)
	}
	return loop.Failf(kustomize.BuildFailedReason, "%v", err)
}

// checkNoEncryptedSecrets refuses built Secrets that still carry SOPS
// metadata, as Flux does: applied, they would hold ciphertext.
func checkNoEncryptedSecrets(obj *kustomizev1.Kustomization, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		if o.GetKind() != "Secret" || o.GetAPIVersion() != "v1" {
			continue
		}
		if _, found := o.Object["sops"]; !found {
			continue
		}
		subject := "Secret/" + o.GetName()
		if ns := o.GetNamespace(); ns != "" {
			subject = "Secret/" + ns + "/" + o.GetName()
		}
		if obj.Spec.Decryption == nil {
			return loop.Failf(kustomize.BuildFailedReason,
				"%s is encrypted with SOPS: set spec.decryption (provider sops, secretRef) to decrypt it", subject)
		}
		return loop.Failf(kustomize.BuildFailedReason,
			"%s still carries SOPS metadata after decryption: only resource files and secretGenerator sources "+
				"of the kustomization are decrypted", subject)
	}
	return nil
}

// redactErr removes every value d decrypted from err's message, keeping
// its outcome and reason, so that no plaintext reaches a status, an event
// or a log.
func redactErr(err error, d *decrypt.Decryptor) error {
	if err == nil || !d.Decrypted() {
		return err
	}
	msg := d.Redact(err.Error())
	if msg == err.Error() {
		return err
	}
	var (
		p *loop.Progressing
		s *loop.Stalling
		w *loop.Waiting
		f *loop.Failure
	)
	switch {
	case errors.As(err, &p):
		return &loop.Progressing{Message: msg, RequeueAfter: p.RequeueAfter}
	case errors.As(err, &s):
		return &loop.Stalling{Reason: s.Reason, Err: errors.New(msg)}
	case errors.As(err, &w):
		return &loop.Waiting{Reason: w.Reason, RequeueAfter: w.RequeueAfter, Err: errors.New(msg)}
	case errors.As(err, &f):
		return &loop.Failure{Reason: f.Reason, Err: errors.New(msg)}
	}
	return errors.New(msg)
}

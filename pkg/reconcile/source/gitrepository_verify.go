package source

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// verifyMode is the mode spec.verify asks for, with Flux's defaulting: an
// empty mode and the old spelling "head" are HEAD.
func verifyMode(v *sourcev1.GitRepositoryVerification) sourcev1.GitVerificationMode {
	switch v.Mode {
	case "", sourcev1.ModeGitHEADLegacy:
		return sourcev1.ModeGitHEAD
	}
	return v.Mode
}

// verification reads spec.verify into the checkout's options: the mode and
// the trusted keys of spec.verify.secretRef. Without spec.verify it returns
// nil and drops what an earlier verification left in status. Errors are
// recorded as SourceVerified=False.
func (r *GitRepositoryReconciler) verification(ctx context.Context, obj *sourcev1.GitRepository, ref git.Ref) (*git.Verification, error) {
	v := obj.Spec.Verification
	if v == nil {
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.SourceVerifiedCondition)
		obj.Status.SourceVerificationMode = nil
		return nil, nil
	}
	mode := verifyMode(v)
	if mode != sourcev1.ModeGitHEAD && !git.RefIsTag(ref) {
		return nil, r.notVerified(obj, loop.Stallf(source.InvalidVerificationModeReason,
			"spec.verify.mode: mode '%s' verifies the signature of the tag checked out, but spec.ref selects %s; "+
				"use mode 'HEAD', or select a tag with spec.ref.tag or spec.ref.semver", mode, refDescription(obj.Spec.Reference)))
	}
	name := v.SecretRef.Name
	secret, err := r.getSecret(ctx, obj.Namespace, name, "spec.verify.secretRef", source.VerificationError)
	if err != nil {
		return nil, r.notVerified(obj, err)
	}
	ring, err := git.KeyRingFromSecret(secret.Data)
	if err != nil {
		return nil, r.notVerified(obj, loop.Failf(source.VerificationError,
			"invalid secret '%s/%s' (spec.verify.secretRef): %w", obj.Namespace, name, err))
	}
	return &git.Verification{Mode: git.VerifyMode(mode), KeyRing: ring}, nil
}

// notVerified records err as SourceVerified=False and returns it.
func (r *GitRepositoryReconciler) notVerified(obj *sourcev1.GitRepository, err error) error {
	apimeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{Type: source.SourceVerifiedCondition, Status: metav1.ConditionFalse,
		Reason: reasonOf(err, source.VerificationError), Message: err.Error(), ObservedGeneration: obj.Generation})
	return err
}

// signatureReason is Flux's reason for a checkout error about a signature,
// or "" for other errors.
func signatureReason(err error) string {
	switch {
	case errors.Is(err, git.ErrTagSignature):
		return source.InvalidTagSignatureReason
	case errors.Is(err, git.ErrCommitSignature):
		return source.InvalidCommitSignatureReason
	}
	return ""
}

// markVerified records the verification of the commit an artifact was just
// stored from: SourceVerified=True and status.sourceVerificationMode.
func markVerified(obj *sourcev1.GitRepository, commit *git.Commit) {
	mode := verifyMode(obj.Spec.Verification)
	obj.Status.SourceVerificationMode = &mode
	apimeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{Type: source.SourceVerifiedCondition, Status: metav1.ConditionTrue,
		Reason: common.SucceededReason, Message: verifiedMessage(commit), ObservedGeneration: obj.Generation})
}

// verifiedMessage says what was verified with which key, e.g. "verified
// signature of tag 'v1.0.0' with key '3AA5C34371567BD2' and of commit
// '<sha>' with key '3AA5C34371567BD2'".
func verifiedMessage(commit *git.Commit) string {
	var parts []string
	if v := commit.Verified; v != nil {
		if v.Tag != nil {
			parts = append(parts, fmt.Sprintf("tag '%s' with key '%s'", v.TagName, v.Tag.KeyID))
		}
		if v.Commit != nil {
			parts = append(parts, fmt.Sprintf("commit '%s' with key '%s'", commit.Hash, v.Commit.KeyID))
		}
	}
	return "verified signature of " + strings.Join(parts, " and of ")
}

// verifiedArtifact reports whether the artifact in status may be kept
// without a new checkout as far as spec.verify is concerned: there is no
// spec.verify, or this generation's spec.verify was applied to it.
func verifiedArtifact(obj *sourcev1.GitRepository) bool {
	v := obj.Spec.Verification
	if v == nil {
		return true
	}
	c := apimeta.FindStatusCondition(obj.Status.Conditions, source.SourceVerifiedCondition)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == obj.Generation &&
		obj.Status.SourceVerificationMode != nil && *obj.Status.SourceVerificationMode == verifyMode(v)
}

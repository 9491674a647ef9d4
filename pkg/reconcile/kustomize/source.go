package kustomize

import (
	"context"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/source"
)

// source returns the source with its artifact, or the error to report. An
// ExternalArtifact is also waited for while its producer does not say
// Ready=True: its artifact may be on its way out.
func (r *Reconciler) source(obj *kustomizev1.Kustomization) (*Source, artifact.Key, error) {
	ref := obj.Spec.SourceRef
	ns := ref.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	key := artifact.Key{Kind: ref.Kind, Namespace: ns, Name: ref.Name}
	subject := fmt.Sprintf("%s/%s/%s", ref.Kind, ns, ref.Name)
	if ns != obj.Namespace && r.NoCrossNamespaceRefs {
		return nil, key, loop.Stallf(common.AccessDeniedReason,
			"cannot access %s: cross-namespace references are disabled", subject)
	}
	src, err := r.GetSource(ref.Kind, ns, ref.Name)
	switch {
	case apierrors.IsNotFound(err):
		return nil, key, loop.Waitf(kustomize.ArtifactFailedReason, r.DependencyRequeue, "Source '%s' not found", subject)
	case err != nil:
		return nil, key, loop.Stallf(kustomize.ArtifactFailedReason, "Source '%s': %v", subject, err)
	case src.Artifact == nil:
		return nil, key, loop.Waitf(kustomize.ArtifactFailedReason, r.DependencyRequeue,
			"Source '%s' is not ready, artifact not found", subject)
	case ref.Kind == kustomize.ExternalArtifactKind && src.Ready != metav1.ConditionTrue:
		msg := src.Message
		if msg == "" {
			msg = "it has no Ready=True condition"
		}
		return nil, key, loop.Waitf(kustomize.ArtifactFailedReason, r.DependencyRequeue,
			"Source '%s' is not ready: %s", subject, msg)
	}
	return src, key, nil
}

// openArtifact opens the tar.gz of a, the artifact of the source key: from
// the store, or, for an ExternalArtifact that another server publishes
// (an http(s) URL), downloaded and checked against its digest by
// r.Fetcher, which keeps it until the digest changes. The store's reader
// checks the digest when read to the end.
func (r *Reconciler) openArtifact(ctx context.Context, key artifact.Key, a *common.Artifact) (io.ReadCloser, error) {
	if key.Kind == kustomize.ExternalArtifactKind && artifact.IsRemoteURL(a.URL) {
		return source.OpenExternal(ctx, r.Fetcher, key, a.URL, a.Digest, kustomize.ArtifactFailedReason,
			fmt.Sprintf("the artifact of %s", key))
	}
	rc, _, err := r.Store.OpenFor(key, a.Path)
	if err != nil {
		return nil, loop.Failf(kustomize.ArtifactFailedReason, "failed to open the artifact of %s: %v", key, err)
	}
	return rc, nil
}

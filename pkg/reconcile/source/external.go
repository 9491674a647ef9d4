package source

import (
	"context"
	"errors"
	"io"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// OpenExternal opens an ExternalArtifact's tar.gz that another server
// publishes at url, downloaded and checked against digest by f (nil when
// the server fetches nothing over HTTP), for the Kustomization and
// HelmRelease workers alike. what names it in messages ("the artifact of
// ExternalArtifact/ns/name"); reason is the consumer's condition reason.
// What the server's limits refuse stalls until the artifact changes; the
// rest (unreachable, a digest mismatch) is retried.
func OpenExternal(ctx context.Context, f *artifact.Fetcher, key artifact.Key, url, digest, reason, what string) (io.ReadCloser, error) {
	if f == nil {
		return nil, loop.Stallf(reason, "%s is published at %s, and this server fetches no artifacts over HTTP", what, url)
	}
	rc, err := f.Open(ctx, key, url, digest)
	switch {
	case errors.Is(err, artifact.ErrTooLarge):
		return nil, loop.Stallf(reason, "failed to fetch %s: %v (the server's --max-fetch-size)", what, err)
	case errors.Is(err, netguard.ErrRefused):
		return nil, loop.Stallf(reason, "failed to fetch %s: %v (the server's --source-deny-networks)", what, err)
	case err != nil:
		return nil, loop.Failf(reason, "failed to fetch %s: %v", what, err)
	}
	return rc, nil
}

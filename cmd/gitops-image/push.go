package main

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Push sends the image index of the OCI layout dir to ref, with the
// credentials of the Docker config (authn.DefaultKeychain: $DOCKER_CONFIG or
// ~/.docker/config.json, credential helpers included), and returns the
// digest-pinned reference (REGISTRY/REPOSITORY@sha256:...).
func Push(ctx context.Context, dir, ref string, insecure bool) (string, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return "", fmt.Errorf("reading OCI layout %s: %w (run `make image` first)", dir, err)
	}
	root, err := p.ImageIndex()
	if err != nil {
		return "", err
	}
	m, err := root.IndexManifest()
	if err != nil {
		return "", err
	}
	if len(m.Manifests) != 1 || !m.Manifests[0].MediaType.IsIndex() {
		return "", fmt.Errorf("OCI layout %s: want one image index in index.json, as `gitops-image build` writes", dir)
	}
	idx, err := root.ImageIndex(m.Manifests[0].Digest)
	if err != nil {
		return "", err
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w", ref, err)
	}
	if err := remote.WriteIndex(r, idx,
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithUserAgent("gitops-image"),
	); err != nil {
		return "", fmt.Errorf("pushing to %s: %w", r, err)
	}
	return r.Context().Digest(m.Manifests[0].Digest.String()).String(), nil
}

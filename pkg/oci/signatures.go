package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/cosign"
)

// Bounds on what FetchSignatures reads: the registry decides how many
// signatures an artifact has and how large they are.
const (
	maxSignatureLayers    = 32
	maxSignatureLayerSize = 1 << 20
	maxReferrers          = 32
)

// emptyConfigMediaType is the config of OCI 1.1 artifacts; registries
// that read a referrer's artifact type from its config report it.
const emptyConfigMediaType = "application/vnd.oci.empty.v1+json"

// SignatureTag is the tag cosign stores the classic signatures of the
// manifest digest under: "sha256-<hex>.sig".
func SignatureTag(digest string) (string, error) {
	h, err := v1.NewHash(digest)
	if err != nil {
		return "", fmt.Errorf("%w: digest '%s': %v", ErrInvalidOptions, digest, err)
	}
	return h.Algorithm + "-" + h.Hex + ".sig", nil
}

// FetchSignatures returns what cosign stored next to the manifest digest in
// the repository of opts.URL: the layers of the image tagged
// SignatureTag(digest) (classic signatures), then the sigstore bundle layers
// of the manifests that refer to digest (OCI 1.1 referrers, through the
// Referrers API or its fallback tag). Neither existing gives no signatures
// and no error. It reads at most 32 layers of at most 1 MiB each, from at
// most 32 referrers, within opts.Timeout.
func FetchSignatures(ctx context.Context, opts Options, digest string) ([]cosign.Signature, error) {
	repo, err := opts.repository()
	if err != nil {
		return nil, err
	}
	tag, err := SignatureTag(digest)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.timeout())
	defer cancel()
	ropts, err := opts.remoteOptions(ctx)
	if err != nil {
		return nil, err
	}
	f := &signatureFetcher{ropts: ropts}
	what := fmt.Sprintf("fetching the signatures of '%s@%s'", opts.URL, digest)
	if err := f.classic(repo.Tag(tag)); err != nil {
		return nil, classify(ctx, what, err)
	}
	if err := f.referrers(repo.Digest(digest)); err != nil {
		return nil, classify(ctx, what, err)
	}
	return f.sigs, nil
}

type signatureFetcher struct {
	ropts []remote.Option
	sigs  []cosign.Signature
}

// classic adds the layers of the signature image, if there is one.
func (f *signatureFetcher) classic(tag name.Tag) error {
	img, err := remote.Image(tag, f.ropts...)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.addLayers(img, "")
}

// referrers adds the bundle layers of the manifests referring to d.
func (f *signatureFetcher) referrers(d name.Digest) error {
	idx, err := remote.Referrers(d, f.ropts...)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	n := 0
	for _, desc := range m.Manifests {
		switch desc.ArtifactType {
		case cosign.BundleMediaType, emptyConfigMediaType, "":
		default:
			continue // an SBOM, a notation signature...
		}
		if n++; n > maxReferrers {
			return fmt.Errorf("more than %d referrers", maxReferrers)
		}
		img, err := remote.Image(d.Context().Digest(desc.Digest.String()), f.ropts...)
		if err != nil {
			return err
		}
		if err := f.addLayers(img, cosign.BundleMediaType); err != nil {
			return err
		}
	}
	return nil
}

// addLayers reads img's layers (those of mediaType, unless empty).
func (f *signatureFetcher) addLayers(img v1.Image, mediaType string) error {
	manifest, err := img.Manifest()
	if err != nil {
		return err
	}
	for _, desc := range manifest.Layers {
		if mediaType != "" && string(desc.MediaType) != mediaType {
			continue
		}
		if len(f.sigs) >= maxSignatureLayers {
			return fmt.Errorf("more than %d signatures", maxSignatureLayers)
		}
		if desc.Size > maxSignatureLayerSize {
			return fmt.Errorf("%w: signature layer %s is %d bytes, more than %d", ErrTooLarge, desc.Digest, desc.Size, maxSignatureLayerSize)
		}
		content, err := readLayer(img, desc.Digest)
		if err != nil {
			return err
		}
		f.sigs = append(f.sigs, cosign.Signature{MediaType: string(desc.MediaType), Annotations: desc.Annotations, Content: content})
	}
	return nil
}

// readLayer reads a whole layer; the reader checks its digest and size at
// its end.
func readLayer(img v1.Image, digest v1.Hash) ([]byte, error) {
	l, err := img.LayerByDigest(digest)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(&cappedReader{r: rc, left: maxSignatureLayerSize, capped: true})
	if err != nil {
		return nil, fmt.Errorf("reading signature layer %s: %w", digest, err)
	}
	return b, nil
}

// isNotFound: the registry has no such manifest (or, for some registries,
// no such repository).
func isNotFound(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	if te.StatusCode == 404 {
		return true
	}
	for _, d := range te.Errors {
		if strings.EqualFold(string(d.Code), "MANIFEST_UNKNOWN") || strings.EqualFold(string(d.Code), "NAME_UNKNOWN") {
			return true
		}
	}
	return false
}

package oci

import (
	"context"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Layer operations (spec.layerSelector.operation).
const (
	// OperationExtract unpacks the layer (a tar.gz); the default.
	OperationExtract = "extract"
	// OperationCopy keeps the compressed layer as it is.
	OperationCopy = "copy"
)

// LayerSelector picks the layer to use: the first layer of MediaType, or
// the first layer when MediaType is empty.
type LayerSelector struct {
	MediaType string
	Operation string
}

// Artifact is a pulled manifest with its selected layer.
type Artifact struct {
	// Annotations are the manifest's annotations (e.g.
	// org.opencontainers.image.revision / .source), Flux's artifact metadata.
	Annotations map[string]string
	// Layer describes the selected layer.
	Layer v1.Descriptor
}

// Pull fetches the manifest that r resolved to and hands the selected
// layer's compressed bytes to use. The reader checks the layer's digest and
// size as it goes: it fails with ErrTooLarge beyond opts.MaxSize, and at
// its end when the bytes do not match the digest; use should read it to the
// end. The whole pull, use included, is bounded by opts.Timeout.
func Pull(ctx context.Context, opts Options, r *Resolved, sel LayerSelector, use func(layer io.Reader) error) (*Artifact, error) {
	repo, err := opts.repository()
	if err != nil {
		return nil, err
	}
	h, err := v1.NewHash(r.Digest)
	if err != nil {
		return nil, fmt.Errorf("%w: digest '%s': %v", ErrInvalidOptions, r.Digest, err)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.timeout())
	defer cancel()
	ropts, err := opts.remoteOptions(ctx)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("pulling '%s@%s'", opts.URL, h)
	desc, err := remote.Get(repo.Digest(h.String()), ropts...)
	if err != nil {
		return nil, classify(ctx, what, err)
	}
	if !desc.MediaType.IsImage() {
		return nil, fmt.Errorf("%s: %w: media type '%s' is not an image manifest (an index or a platform list is not supported)", what, ErrNotFound, desc.MediaType)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, classify(ctx, what, err)
	}
	manifest, err := img.Manifest()
	if err != nil {
		return nil, classify(ctx, what, err)
	}
	layer, err := selectLayer(manifest.Layers, sel.MediaType)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if opts.MaxSize > 0 && layer.Size > opts.MaxSize {
		return nil, fmt.Errorf("%s: %w: layer %s is %d bytes, more than %d", what, ErrTooLarge, layer.Digest, layer.Size, opts.MaxSize)
	}
	l, err := img.LayerByDigest(layer.Digest)
	if err != nil {
		return nil, classify(ctx, what, err)
	}
	// Compressed verifies the digest and the descriptor's size at EOF.
	rc, err := l.Compressed()
	if err != nil {
		return nil, classify(ctx, what, err)
	}
	defer rc.Close()
	if err := use(&cappedReader{r: rc, left: opts.MaxSize, capped: opts.MaxSize > 0}); err != nil {
		return nil, classify(ctx, what, err)
	}
	return &Artifact{Annotations: manifest.Annotations, Layer: layer}, nil
}

// selectLayer returns the first layer of mediaType, or the first layer.
func selectLayer(layers []v1.Descriptor, mediaType string) (v1.Descriptor, error) {
	for _, l := range layers {
		if mediaType == "" || string(l.MediaType) == mediaType {
			return l, nil
		}
	}
	if mediaType == "" {
		return v1.Descriptor{}, fmt.Errorf("%w: the manifest has no layers", ErrNotFound)
	}
	return v1.Descriptor{}, fmt.Errorf("%w: no layer has media type '%s'", ErrNotFound, mediaType)
}

// cappedReader fails instead of truncating once more than left bytes were
// read, so a registry that lies about a layer's size cannot get around
// MaxSize.
type cappedReader struct {
	r      io.Reader
	left   int64
	capped bool
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if !c.capped {
		return c.r.Read(p)
	}
	if c.left < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, ErrTooLarge
	}
	return n, err
}

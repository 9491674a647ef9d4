package oci

import (
	"context"
	"fmt"
	"regexp"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Resolved is what a Ref points to in the registry.
type Resolved struct {
	// Revision is Flux's artifact revision: "<tag>@sha256:<hex>", or
	// "sha256:<hex>" for a digest reference (no named pointer).
	Revision string
	// Digest is the manifest digest, "sha256:<hex>".
	Digest string
	// Tag is the tag the digest was found under; empty for a digest
	// reference.
	Tag string
	// URL is the options' URL, kept for Pull.
	URL string
}

// Resolve returns the manifest digest that opts.Ref points to, without
// downloading the manifest or layers: a tag is resolved with a HEAD request
// (falling back to GET for registries that do not answer HEAD), a semver
// range by listing the tags and taking the highest version in the range
// whose tag matches SemverFilter, and a digest is taken as given without
// contacting the registry (Pull verifies it).
func Resolve(ctx context.Context, opts Options) (*Resolved, error) {
	repo, err := opts.repository()
	if err != nil {
		return nil, err
	}
	ref := opts.Ref
	if ref.Digest != "" {
		h, err := v1.NewHash(ref.Digest)
		if err != nil {
			return nil, fmt.Errorf("%w: digest '%s' is not '<algorithm>:<hex>': %v", ErrInvalidOptions, ref.Digest, err)
		}
		return &Resolved{Revision: h.String(), Digest: h.String(), URL: opts.URL}, nil
	}

	ctx, cancel := context.WithTimeout(ctx, opts.timeout())
	defer cancel()
	ropts, err := opts.remoteOptions(ctx)
	if err != nil {
		return nil, err
	}
	tag := ref.Tag
	if ref.SemVer != "" {
		if tag, err = highestTag(ctx, repo, ref, ropts); err != nil {
			return nil, err
		}
	}
	if tag == "" {
		tag = DefaultTag
	}
	t := repo.Tag(tag)
	desc, err := remote.Head(t, ropts...)
	if err != nil {
		// Some registries answer HEAD on manifests with errors; GET reads only
		// the manifest, never the layers.
		full, gerr := remote.Get(t, ropts...)
		if gerr != nil {
			return nil, classify(ctx, fmt.Sprintf("resolving tag '%s' of '%s'", tag, opts.URL), gerr)
		}
		desc = &full.Descriptor
	}
	return &Resolved{
		Revision: fmt.Sprintf("%s@%s", tag, desc.Digest),
		Digest:   desc.Digest.String(),
		Tag:      tag,
		URL:      opts.URL,
	}, nil
}

// highestTag lists the repository's tags and picks the highest version in
// ref.SemVer among those matching ref.SemverFilter.
func highestTag(ctx context.Context, repo name.Repository, ref Ref, ropts []remote.Option) (string, error) {
	constraint, err := semver.NewConstraint(ref.SemVer)
	if err != nil {
		return "", fmt.Errorf("%w: semver range '%s': %v", ErrInvalidOptions, ref.SemVer, err)
	}
	var filter *regexp.Regexp
	if ref.SemverFilter != "" {
		if filter, err = regexp.Compile(ref.SemverFilter); err != nil {
			return "", fmt.Errorf("%w: semverFilter '%s': %v", ErrInvalidOptions, ref.SemverFilter, err)
		}
	}
	tags, err := remote.List(repo, ropts...)
	if err != nil {
		return "", classify(ctx, fmt.Sprintf("listing the tags of '%s'", repo), err)
	}
	tag, ok := pickHighest(tags, constraint, filter)
	if !ok {
		return "", fmt.Errorf("%w: no tag of '%s' matches semver range '%s'%s", ErrNotFound, repo, ref.SemVer, filterNote(ref.SemverFilter))
	}
	return tag, nil
}

// pickHighest is the pure part of highestTag. Tags that do not parse as
// versions are ignored; between equal versions ("1.0" and "1.0.0") the
// lexically greater tag wins so the choice is stable.
func pickHighest(tags []string, c *semver.Constraints, filter *regexp.Regexp) (string, bool) {
	var best *semver.Version
	var bestTag string
	for _, tag := range tags {
		if filter != nil && !filter.MatchString(tag) {
			continue
		}
		v, err := semver.NewVersion(tag)
		if err != nil || !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) || (v.Equal(best) && tag > bestTag) {
			best, bestTag = v, tag
		}
	}
	return bestTag, best != nil
}

func filterNote(filter string) string {
	if filter == "" {
		return ""
	}
	return fmt.Sprintf(" and filter '%s'", filter)
}

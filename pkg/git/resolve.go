package git

import (
	"context"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// peeledSuffix marks the entry of an annotated tag that points at the tagged commit.
const peeledSuffix = "^{}"

// target is what a Ref resolved to on the remote.
type target struct {
	// refName is the full reference name the revision is reported with, "" for a bare commit.
	refName string
	// fetchRef is the reference to fetch, "" to fetch all branches and tags.
	fetchRef string
	// hash is the commit hash (peeled for annotated tags).
	hash string
	// fullHistory asks for the whole history of fetchRef (a commit somewhere on a branch).
	fullHistory bool
	revision    string
}

// Resolve returns the revision (in Flux's format, see FormatRevision) that opts.Ref points
// to on the remote, without cloning: it lists the remote's references like
// `git ls-remote`. Callers compare it with the revision of their last artifact to skip a
// Checkout. For a commit without a branch it returns "sha1:<commit>" without contacting
// the remote; with a branch, "<branch>@sha1:<commit>" (Checkout checks that the branch
// holds the commit). For a semver range it picks the highest matching tag.
func Resolve(ctx context.Context, opts Options) (string, error) {
	ctx, cancel := operation(ctx, opts)
	defer cancel()
	s, err := newSession(ctx, opts)
	if err != nil {
		return "", err
	}
	t, err := s.resolve(ctx)
	if err != nil {
		return "", err
	}
	return t.revision, nil
}

// CheckAccess lists the remote's references with opts' credentials, as `git ls-remote`
// does, and returns the error a clone would meet first (authentication, repository not
// found, unreachable); nothing is fetched. Resolve proves the same for every ref but a
// commit, which it resolves without contacting the remote.
func CheckAccess(ctx context.Context, opts Options) error {
	ctx, cancel := operation(ctx, opts)
	defer cancel()
	s, err := newSession(ctx, opts)
	if err != nil {
		return err
	}
	_, err = s.listRefs(ctx)
	return err
}

// resolve maps the session's Ref to a target, listing the remote when needed.
func (s *session) resolve(ctx context.Context) (*target, error) {
	ref := s.opts.Ref
	if ref.kind() == kindCommit {
		t := &target{hash: ref.Commit, fullHistory: true}
		if ref.Branch != "" {
			t.refName = plumbing.NewBranchReferenceName(ref.Branch).String()
			t.fetchRef = t.refName
		}
		t.revision = FormatRevision(ref, t.refName, t.hash)
		return t, nil
	}
	refs, err := s.listRefs(ctx)
	if err != nil {
		return nil, err
	}
	var name string
	switch ref.kind() {
	case kindName:
		name = ref.Name
	case kindSemVer:
		if name, err = highestSemVerTag(refs, ref.SemVer); err != nil {
			return nil, s.fail(ctx, "resolving "+ref.String()+" of", err)
		}
	case kindTag:
		name = plumbing.NewTagReferenceName(ref.Tag).String()
	default:
		name = plumbing.NewBranchReferenceName(ref.branch()).String()
	}
	hash, ok := lookupCommit(refs, name)
	if !ok {
		return nil, s.fail(ctx, "resolving "+ref.String()+" of", fmt.Errorf("%w: %s does not exist", ErrReferenceNotFound, ref))
	}
	t := &target{
		refName:  name,
		fetchRef: strings.TrimSuffix(name, peeledSuffix),
		hash:     hash,
	}
	t.revision = FormatRevision(ref, t.refName, t.hash)
	return t, nil
}

// listRefs lists the remote's references, with annotated tags also listed peeled
// ("refs/tags/v1^{}" → the commit), as a map from name to hash.
func (s *session) listRefs(ctx context.Context) (map[string]string, error) {
	remote := gogit.NewRemote(memory.NewStorage(), &config.RemoteConfig{
		Name: gogit.DefaultRemoteName,
		URLs: []string{s.url},
	})
	var list []*plumbing.Reference
	err := runBounded(ctx, func() error {
		var err error
		list, err = remote.ListContext(ctx, &gogit.ListOptions{
			Auth:          s.auth,
			CABundle:      s.ca,
			PeelingOption: gogit.AppendPeeled,
			ProxyOptions:  s.proxyFor(s.url),
		})
		return err
	})
	if err != nil {
		return nil, s.fail(ctx, "listing references of", err)
	}
	refs := make(map[string]string, len(list))
	for _, r := range list {
		if r.Type() == plumbing.HashReference {
			refs[r.Name().String()] = r.Hash().String()
		}
	}
	return refs, nil
}

// lookupCommit returns the commit name points to: for a tag, the peeled entry when the tag
// is annotated, so the hash is the commit's and not the tag object's.
func lookupCommit(refs map[string]string, name string) (string, bool) {
	if !strings.HasSuffix(name, peeledSuffix) {
		if h, ok := refs[name+peeledSuffix]; ok {
			return h, true
		}
	}
	h, ok := refs[name]
	return h, ok
}

// highestSemVerTag returns the full name of the tag with the highest version matching the
// Masterminds range constraint. Tags that are not versions are ignored. Versions that
// compare equal (they differ only in build metadata) are ordered by tag name; Flux orders
// them by commit time, which the reference list does not tell.
func highestSemVerTag(refs map[string]string, constraint string) (string, error) {
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return "", fmt.Errorf("invalid semver range %q: %v", constraint, err)
	}
	var (
		best    *semver.Version
		bestTag string
	)
	for name := range refs {
		if !strings.HasPrefix(name, "refs/tags/") || strings.HasSuffix(name, peeledSuffix) {
			continue
		}
		tag := strings.TrimPrefix(name, "refs/tags/")
		v, err := semver.NewVersion(tag)
		if err != nil || !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) || (v.Equal(best) && tag > bestTag) {
			best, bestTag = v, tag
		}
	}
	if best == nil {
		return "", fmt.Errorf("%w: no tag matches semver range %q", ErrReferenceNotFound, constraint)
	}
	return "refs/tags/" + bestTag, nil
}

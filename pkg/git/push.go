package git

import (
	"context"
	"errors"
	"fmt"
	"strings"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrPushRejected means the server did not take a pushed update: not a fast-forward (the
// remote branch moved since the checkout), or refused by a hook or a branch protection.
var ErrPushRejected = errors.New("push rejected")

// CheckoutForPush is Checkout (shallow, Flux's default for image automation) prepared for
// a commit and a Push: opts.LastRevision is ignored so the tree is always written, and
// the local branch refs/heads/<branch> is created at the checked out commit and made
// HEAD, so that commits advance it and refspecs may name it. An empty branch means the
// branch of opts.Ref; refs other than branches need one.
func CheckoutForPush(ctx context.Context, dir string, opts Options, branch string) (*Commit, error) {
	if branch == "" {
		if opts.Ref.kind() != kindBranch {
			return nil, fmt.Errorf("checking out %s from %s: a branch to commit on is required for this reference", opts.Ref, StripUserinfo(opts.URL))
		}
		branch = opts.Ref.branch()
	}
	name := plumbing.NewBranchReferenceName(branch)
	if err := name.Validate(); err != nil || strings.HasPrefix(branch, "refs/") {
		return nil, fmt.Errorf("invalid branch name %q", branch)
	}
	opts.LastRevision = ""
	c, err := Checkout(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		return nil, fmt.Errorf("opening the checkout: %w", err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(name, plumbing.NewHash(c.Hash))); err != nil {
		return nil, fmt.Errorf("creating branch %q: %w", branch, err)
	}
	if err := repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, name)); err != nil {
		return nil, fmt.Errorf("switching to branch %q: %w", branch, err)
	}
	return c, nil
}

// Push sends local commits of the repository in dir (made by Checkout or
// CheckoutForPush) to opts.URL with opts' credentials, Guard and Timeout.
//
// Each refspec is "<src>:<dst>": src is a local reference ("HEAD", "refs/heads/auto",
// "auto") or a commit hash, dst a full reference name on the remote. Deleting refspecs
// (empty src) are refused. An update must be a fast-forward unless the refspec starts
// with "+"; a rejected update wraps ErrPushRejected and names the reason. pushOptions are
// sent as `git push -o key=value` when the server advertises push options (otherwise
// they are dropped, as go-git does). Pushing what the remote already has is not an error.
func Push(ctx context.Context, dir string, opts Options, refSpecs []string, pushOptions map[string]string) error {
	ctx, cancel := operation(ctx, opts)
	defer cancel()
	s, err := newSession(ctx, opts)
	if err != nil {
		return err
	}
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		return fmt.Errorf("opening the repository to push: %w", err)
	}
	updates, err := resolveRefSpecs(repo, refSpecs)
	if err != nil {
		return err
	}
	if err := s.checkFastForward(ctx, repo, updates); err != nil {
		return err
	}
	specs := make([]config.RefSpec, 0, len(updates))
	for _, u := range updates {
		specs = append(specs, u.spec())
	}
	remote := gogit.NewRemote(repo.Storer, &config.RemoteConfig{Name: gogit.DefaultRemoteName, URLs: []string{s.url}})
	err = runBounded(ctx, func() error {
		return remote.PushContext(ctx, &gogit.PushOptions{
			RemoteName:   gogit.DefaultRemoteName,
			RefSpecs:     specs,
			Auth:         s.auth,
			CABundle:     s.ca,
			ProxyOptions: s.proxyFor(s.url),
			Options:      pushOptions,
		})
	})
	switch {
	case err == nil, errors.Is(err, gogit.NoErrAlreadyUpToDate):
		return nil
	case ctx.Err() == nil && isRejection(err):
		return fmt.Errorf("pushing to %s: %w: %w", s.display, ErrPushRejected, s.red.wrap(err))
	}
	return s.fail(ctx, "pushing to", err)
}

// update is one refspec with its source resolved to a commit.
type update struct {
	force bool
	src   string // as given, for messages
	hash  plumbing.Hash
	dst   plumbing.ReferenceName
}

// spec is the refspec go-git pushes: the resolved hash, so a symbolic HEAD or a short
// branch name cannot silently match nothing.
func (u update) spec() config.RefSpec {
	s := u.hash.String() + ":" + u.dst.String()
	if u.force {
		s = "+" + s
	}
	return config.RefSpec(s)
}

// resolveRefSpecs parses refSpecs and resolves their sources in repo.
func resolveRefSpecs(repo *gogit.Repository, refSpecs []string) ([]update, error) {
	if len(refSpecs) == 0 {
		return nil, errors.New("nothing to push: no refspec")
	}
	var out []update
	for _, raw := range refSpecs {
		spec := strings.TrimSpace(raw)
		u := update{force: strings.HasPrefix(spec, "+")}
		src, dst, ok := strings.Cut(strings.TrimPrefix(spec, "+"), ":")
		switch {
		case !ok || src == "":
			return nil, fmt.Errorf("invalid refspec %q: '<source>:<destination>' is required (deleting is not supported)", raw)
		case !strings.HasPrefix(dst, "refs/") || strings.ContainsAny(dst+src, "*"):
			return nil, fmt.Errorf("invalid refspec %q: the destination must be a full reference name such as refs/heads/main, without wildcards", raw)
		}
		u.dst = plumbing.ReferenceName(dst)
		if err := u.dst.Validate(); err != nil {
			return nil, fmt.Errorf("invalid refspec %q: %v", raw, err)
		}
		hash, err := resolveLocal(repo, src)
		if err != nil {
			return nil, fmt.Errorf("invalid refspec %q: %w", raw, err)
		}
		u.src, u.hash = src, hash
		out = append(out, u)
	}
	return out, nil
}

// resolveLocal returns the commit a local source names: a hash, "HEAD", a full reference
// name, or a branch name.
func resolveLocal(repo *gogit.Repository, src string) (plumbing.Hash, error) {
	if sha1Hex.MatchString(src) {
		if _, err := repo.CommitObject(plumbing.NewHash(src)); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("commit %s is not in the local repository", src)
		}
		return plumbing.NewHash(src), nil
	}
	for _, name := range []string{src, "refs/heads/" + src} {
		if ref, err := repo.Reference(plumbing.ReferenceName(name), true); err == nil {
			return ref.Hash(), nil
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("%s does not exist in the local repository", src)
}

// checkFastForward refuses, before sending anything, the non-forced updates whose remote
// reference is not an ancestor of the pushed commit. go-git checks this too, but in a
// shallow clone it fails with "object not found" when the remote moved; this check gives
// the reason instead.
func (s *session) checkFastForward(ctx context.Context, repo *gogit.Repository, updates []update) error {
	needed := false
	for _, u := range updates {
		needed = needed || !u.force
	}
	if !needed {
		return nil
	}
	remoteRefs, err := s.listRefs(ctx)
	if err != nil {
		return err
	}
	for _, u := range updates {
		old, exists := remoteRefs[u.dst.String()]
		if u.force || !exists || old == u.hash.String() {
			continue
		}
		if !isAncestor(repo, plumbing.NewHash(old), u.hash) {
			return fmt.Errorf("pushing %s to %s of %s: %w: non-fast-forward: the remote is at %s, which the local history does not contain (it moved since the checkout)",
				u.src, u.dst, s.display, ErrPushRejected, shortHash(old))
		}
	}
	return nil
}

// isAncestor reports whether old is new or one of its ancestors in the local history.
// Commits beyond a shallow clone's boundary are missing and end the walk.
func isAncestor(repo *gogit.Repository, old, new plumbing.Hash) bool {
	seen := map[plumbing.Hash]bool{}
	queue := []plumbing.Hash{new}
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		if h == old {
			return true
		}
		if seen[h] {
			continue
		}
		seen[h] = true
		c, err := object.GetCommit(repo.Storer, h)
		if err != nil {
			continue
		}
		queue = append(queue, c.ParentHashes...)
	}
	return false
}

// isRejection tells go-git's errors for refused updates: its own fast-forward check and
// the server's report-status ("command error on <ref>: <reason>", "unpack error").
func isRejection(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "non-fast-forward") ||
		strings.HasPrefix(msg, "command error on ") ||
		strings.HasPrefix(msg, "unpack error")
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

package git

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"golang.org/x/crypto/ssh"
)

// Checkout fetches the commit opts.Ref resolves to and checks it out into dir, which must
// be empty or missing. It returns the commit, with its revision in Flux's format.
//
//   - Branches, tags, semver tags and ref names are fetched shallow (depth 1), and only that
//     reference. A commit is fetched with the full history of its branch, or of all
//     branches and tags when no branch is given, since servers need not serve arbitrary
//     hashes. The reference is listed first, so a Checkout and a Resolve agree; if the
//     reference moves in between, the commit actually fetched is returned.
//   - When Options.LastRevision is set and the remote still resolves to it, nothing is
//     fetched and the returned Commit has Unchanged set.
//   - SparseCheckout uses go-git's sparse checkout: entries outside the listed directories
//     are marked skip-worktree and never written (the objects are still fetched). Each
//     listed directory must exist in the commit.
//   - MaxFetchSize counts every byte written into dir — the fetched pack and its index as
//     they stream in, the git index and the working tree files — and aborts the operation
//     with ErrFetchTooLarge as soon as the total passes the limit.
//   - dir keeps the repository in dir/.git; callers archiving the working tree exclude it,
//     as Flux's default exclusions do. On error dir may hold partial data; callers remove it.
//   - Options.Timeout bounds everything, including an SSH server that stalls mid-handshake.
//   - Options.Verify checks signatures after the fetch and before the working tree is
//     written; on failure the error wraps ErrCommitSignature or ErrTagSignature and dir
//     holds no working tree. VerifyTag needs a tag reference (see RefIsTag).
func Checkout(ctx context.Context, dir string, opts Options) (*Commit, error) {
	ctx, cancel := operation(ctx, opts)
	defer cancel()
	sparse, err := sparseDirs(opts.SparseCheckout)
	if err != nil {
		return nil, err
	}
	s, err := newSession(ctx, opts)
	if err != nil {
		return nil, err
	}
	if opts.Verify.tag() && !RefIsTag(opts.Ref) {
		return nil, fmt.Errorf("%w: verification mode %s needs a tag reference, not %s", ErrTagSignature, opts.Verify.Mode, opts.Ref)
	}
	t, err := s.resolve(ctx)
	if err != nil {
		return nil, err
	}
	if opts.LastRevision != "" && opts.Verify == nil && normalizeRevision(opts.LastRevision) == t.revision {
		return &Commit{Hash: t.hash, Revision: t.revision, Reference: t.refName, Unchanged: true}, nil
	}
	if err := ensureEmptyDir(dir); err != nil {
		return nil, err
	}

	fs := newLimitFS(osfs.New(dir, osfs.WithBoundOS()), opts.MaxFetchSize)
	// Whatever happens, nothing may write into dir once Checkout has returned.
	defer fs.close()
	var commit *Commit
	err = runBounded(ctx, func() error {
		c, err := s.checkout(ctx, fs, t, sparse)
		if err == nil {
			commit = c
		}
		return err
	})
	if fs.exceeded() {
		return nil, fmt.Errorf("checking out %s from %s: %w: the limit is %d bytes", s.opts.Ref, s.display, ErrFetchTooLarge, opts.MaxFetchSize)
	}
	if err != nil {
		return nil, s.fail(ctx, "checking out "+s.opts.Ref.String()+" from", err)
	}
	if err := checkSparseDirs(dir, sparse); err != nil {
		return nil, err
	}
	return commit, nil
}

// checkout fetches t into a new repository on fs and checks out its commit.
func (s *session) checkout(ctx context.Context, fs *limitFS, t *target, sparse []string) (*Commit, error) {
	dotGit, err := fs.Chroot(gogit.GitDirName)
	if err != nil {
		return nil, err
	}
	repo, err := gogit.Init(filesystem.NewStorage(dotGit, cache.NewObjectLRUDefault()), fs)
	if err != nil {
		return nil, fmt.Errorf("initialising repository: %w", err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: gogit.DefaultRemoteName, URLs: []string{s.url}}); err != nil {
		return nil, fmt.Errorf("adding remote: %w", err)
	}

	refSpecs, local := t.refSpecs()
	depth := 1
	if t.fullHistory {
		depth = 0
	}
	err = repo.FetchContext(ctx, &gogit.FetchOptions{
		RemoteName:   gogit.DefaultRemoteName,
		RefSpecs:     refSpecs,
		Depth:        depth,
		Auth:         s.auth,
		CABundle:     s.ca,
		Tags:         gogit.NoTags,
		ProxyOptions: s.proxyFor(s.url),
	})
	if err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return nil, err
	}

	hash := plumbing.NewHash(t.hash)
	if local != "" && !t.fullHistory {
		if hash, err = fetchedCommit(repo, local); err != nil {
			return nil, err
		}
	}
	obj, err := repo.CommitObject(hash)
	if err != nil {
		where := "the repository's branches and tags"
		if t.fetchRef != "" {
			where = t.fetchRef
		}
		return nil, fmt.Errorf("%w: commit %s is not in %s", ErrReferenceNotFound, hash, where)
	}
	verified, err := s.verify(repo, local, obj)
	if err != nil {
		return nil, err
	}

	w, err := repo.Worktree()
	if err != nil {
		return nil, err
	}
	if err := w.Checkout(&gogit.CheckoutOptions{Hash: hash, Force: true, SparseCheckoutDirectories: sparse}); err != nil {
		return nil, fmt.Errorf("checking out %s: %w", hash, err)
	}
	if s.opts.RecurseSubmodules {
		if err := s.updateSubmodules(ctx, w, gogit.DefaultSubmoduleRecursionDepth); err != nil {
			return nil, err
		}
	}

	c := newCommit(obj, t.refName)
	c.Revision = FormatRevision(s.opts.Ref, t.refName, c.Hash)
	c.Verified = verified
	return c, nil
}

// refSpecs returns what to fetch for t and the local name of the fetched reference
// ("" when several are fetched). Everything lands under refs/remotes/origin/, away from
// the unborn local HEAD.
func (t *target) refSpecs() ([]config.RefSpec, string) {
	if t.fetchRef == "" {
		return []config.RefSpec{
			"+refs/heads/*:refs/remotes/origin/heads/*",
			"+refs/tags/*:refs/remotes/origin/tags/*",
		}, ""
	}
	local := "refs/remotes/origin/" + strings.TrimPrefix(t.fetchRef, "refs/")
	return []config.RefSpec{config.RefSpec("+" + t.fetchRef + ":" + local)}, local
}

// fetchedCommit returns the commit a fetched reference points to, peeling annotated tags.
func fetchedCommit(repo *gogit.Repository, local string) (plumbing.Hash, error) {
	ref, err := repo.Reference(plumbing.ReferenceName(local), true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%w: the fetched reference is missing: %v", ErrReferenceNotFound, err)
	}
	hash := ref.Hash()
	if tag, err := repo.TagObject(hash); err == nil {
		c, err := tag.Commit()
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("tag %s does not point to a commit: %w", tag.Name, err)
		}
		hash = c.Hash
	}
	return hash, nil
}

// updateSubmodules initialises and checks out the submodules of w, and theirs down to
// depth more levels, with the session's credentials. It does what go-git's
// Submodules.UpdateContext does, but fetches itself so that the fetches of SSH submodules
// get the session's context-bound dialer (SubmoduleUpdateOptions has no ProxyOptions).
func (s *session) updateSubmodules(ctx context.Context, w *gogit.Worktree, depth gogit.SubmoduleRescursivity) error {
	subs, err := w.Submodules()
	if err != nil {
		return fmt.Errorf("reading submodules: %w", err)
	}
	for _, sub := range subs {
		if err := s.updateSubmodule(ctx, sub, depth); err != nil {
			return fmt.Errorf("updating submodule %s: %w", sub.Config().Path, err)
		}
	}
	return nil
}

// authFor returns the session's credentials for a submodule at rawURL: only when it has
// the parent's scheme and host (with port). A submodule elsewhere is fetched anonymously:
// the parent's credentials were given for the parent's server, and a repository's
// .gitmodules must not be able to send them to a host of its choosing. Over SSH the
// submodule is still checked against the parent's known_hosts.
func (s *session) authFor(rawURL string) transport.AuthMethod {
	parent, err1 := url.Parse(s.url)
	sub, err2 := url.Parse(rawURL)
	if err1 == nil && err2 == nil && strings.EqualFold(parent.Scheme, sub.Scheme) && strings.EqualFold(parent.Host, sub.Host) {
		return s.auth
	}
	// Never nil for SSH: go-git would fall back to the server's own SSH agent and
	// known_hosts.
	if s.ssh != nil {
		return s.ssh.anonymous()
	}
	if err2 == nil && sub.Scheme == "ssh" {
		return &sshAuth{user: "git", hostKey: func(string, net.Addr, ssh.PublicKey) error {
			return fmt.Errorf("%w: no known_hosts were given for %s", ErrHostKey, sub.Host)
		}}
	}
	return nil
}

// updateSubmodule fetches and checks out one submodule at the commit its parent records.
func (s *session) updateSubmodule(ctx context.Context, sub *gogit.Submodule, depth gogit.SubmoduleRescursivity) error {
	if err := sub.Init(); err != nil && !errors.Is(err, gogit.ErrSubmoduleAlreadyInitialized) {
		return err
	}
	status, err := sub.Status()
	if err != nil {
		return err
	}
	repo, err := sub.Repository()
	if err != nil {
		return err
	}
	remote, err := repo.Remote(gogit.DefaultRemoteName)
	if err != nil {
		return err
	}
	var proxy transport.ProxyOptions
	var auth transport.AuthMethod
	if urls := remote.Config().URLs; len(urls) > 0 {
		proxy = s.proxyFor(urls[0])
		auth = s.authFor(urls[0])
	}
	fetch := func(refSpecs []config.RefSpec) error {
		return repo.FetchContext(ctx, &gogit.FetchOptions{Auth: auth, RefSpecs: refSpecs, ProxyOptions: proxy})
	}
	if err := fetch(nil); err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return err
	}
	if _, err := repo.Object(plumbing.AnyObject, status.Expected); err != nil {
		// A commit no branch holds may still be served by hash (allow-reachable-sha1-in-want).
		spec := config.RefSpec("+" + status.Expected.String() + ":" + status.Expected.String())
		err := fetch([]config.RefSpec{spec})
		if err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) && !errors.Is(err, gogit.ErrExactSHA1NotSupported) {
			return err
		}
	}
	// Everything is fetched: go-git only checks out the recorded commit and sets HEAD.
	if err := sub.UpdateContext(ctx, &gogit.SubmoduleUpdateOptions{NoFetch: true}); err != nil {
		return err
	}
	if depth == gogit.NoRecurseSubmodules {
		return nil
	}
	w, err := repo.Worktree()
	if err != nil {
		return err
	}
	return s.updateSubmodules(ctx, w, depth-1)
}

// newCommit copies the fields of a go-git commit.
func newCommit(c *object.Commit, refName string) *Commit {
	return &Commit{
		Hash:      c.Hash.String(),
		Reference: refName,
		Message:   c.Message,
		Author:    Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When},
		Committer: Signature{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When},
	}
}

// sparseDirs normalises SparseCheckout entries to "dir/" prefixes (go-git matches entries
// by string prefix, so "app" alone would also select "app.yaml" and "apps/"). An entry
// naming the root ("", ".", "/") means the whole tree.
func sparseDirs(dirs []string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		for _, seg := range strings.Split(filepath.ToSlash(d), "/") {
			if seg == ".." {
				return nil, fmt.Errorf("invalid sparse checkout directory %q: it must stay inside the repository", d)
			}
		}
		c := strings.TrimPrefix(path.Clean("/"+strings.TrimSpace(d)), "/")
		if c == "" {
			return nil, nil
		}
		out = append(out, c+"/")
	}
	return out, nil
}

// checkSparseDirs checks that every sparse checkout directory exists in the checkout, as
// Flux does, so a typo does not silently produce an empty artifact.
func checkSparseDirs(dir string, sparse []string) error {
	for _, d := range sparse {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(d)))
		if err != nil || !fi.IsDir() {
			return fmt.Errorf("sparse checkout directory %q does not exist in the repository", strings.TrimSuffix(d, "/"))
		}
	}
	return nil
}

// ensureEmptyDir creates dir if needed and checks that it is empty.
func ensureEmptyDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating checkout directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading checkout directory: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("checkout directory %s is not empty", dir)
	}
	return nil
}

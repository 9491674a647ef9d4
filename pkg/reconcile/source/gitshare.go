package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
)

// maxSharedArchives bounds the archives remembered for sharing; past it the
// memory starts over (it is only a shortcut).
const maxSharedArchives = 4096

// gitShare lets GitRepositories that follow the same repository share the
// work, which matters when hundreds of them point at one monorepo:
//   - resolutions of the same URL, ref and credentials that are in flight
//     at the same moment become one request to the git server;
//   - a commit already archived with the same options (sparse checkout,
//     submodules, ignore rules) is copied from the artifact store instead of
//     being cloned again.
//
// Sharing is a tenancy boundary: an archive is only handed to an object
// that has just shown, with its own credentials, that it can read the
// repository. Resolving a branch, tag or semver range lists the remote,
// which shows it (a resolution joined in flight had the same URL and
// credentials); a commit ref resolves without contacting the remote, so
// before sharing one the object lists the remote too (proveAccess).
// Otherwise anyone who learned a commit hash could copy a private
// repository's archive into their own namespace.
type gitShare struct {
	resolves singleflight.Group
	clones   singleflight.Group

	mu       sync.Mutex
	archives map[string]sharedArchive
}

// sharedArchive is an archived commit in the store.
type sharedArchive struct {
	path    string
	message string
}

// resolve is git.Resolve, shared with identical resolutions in flight.
func (s *gitShare) resolve(ctx context.Context, opts git.Options) (string, error) {
	v, err, _ := s.resolves.Do(resolveKey(opts), func() (interface{}, error) {
		return git.Resolve(ctx, opts)
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// proveAccess lists the remote with opts' credentials (shared with
// identical proofs in flight), for refs that resolve without the remote.
func (s *gitShare) proveAccess(ctx context.Context, opts git.Options) error {
	if !resolvesOffline(opts.Ref) {
		return nil
	}
	_, err, _ := s.resolves.Do("access\x00"+resolveKey(opts), func() (interface{}, error) {
		return nil, git.CheckAccess(ctx, opts)
	})
	return err
}

// resolvesOffline reports whether git.Resolve answers ref without
// contacting the remote: a commit.
func resolvesOffline(ref git.Ref) bool { return ref.Commit != "" }

// archived returns a stored archive of the same commit and options.
func (s *gitShare) archived(key string) (sharedArchive, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.archives[key]
	return a, ok
}

func (s *gitShare) remember(key string, a sharedArchive) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.archives == nil || len(s.archives) >= maxSharedArchives {
		s.archives = map[string]sharedArchive{}
	}
	s.archives[key] = a
}

func (s *gitShare) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.archives, key)
}

// resolveKey identifies a resolution: URL, ref and a digest of the
// credentials (so different credentials never share an answer).
func resolveKey(opts git.Options) string {
	h := sha256.New()
	write := func(parts ...string) {
		for _, p := range parts {
			_, _ = io.WriteString(h, p)
			h.Write([]byte{0})
		}
	}
	write(opts.URL, opts.Ref.Branch, opts.Ref.Tag, opts.Ref.SemVer, opts.Ref.Name, opts.Ref.Commit)
	if a := opts.Auth; a != nil {
		write(a.Scheme, a.Username, a.Password, a.BearerToken, string(a.CA), string(a.Identity), string(a.KnownHosts))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// archiveKey identifies the archive of a revision: URL, revision and
// everything that changes what is archived.
func archiveKey(opts git.Options, revision string, ignore *string) string {
	h := sha256.New()
	parts := []string{opts.URL, revision, strings.Join(opts.SparseCheckout, "\x00")}
	if opts.RecurseSubmodules {
		parts = append(parts, "submodules")
	}
	if ignore != nil {
		parts = append(parts, "ignore", *ignore)
	}
	for _, p := range parts {
		_, _ = io.WriteString(h, p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

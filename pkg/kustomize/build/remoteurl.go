package build

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// maxRemoteTimeout caps the ?timeout= of a remote base.
const maxRemoteTimeout = 10 * time.Minute

// gitSpec is a kustomization entry naming a directory in a git repository,
// in one of kustomize's forms: "https://host/org/repo//dir?ref=v1",
// "https://host/org/repo.git/dir", "github.com/org/repo/dir",
// "git@host:org/repo.git//dir", "ssh://git@host/org/repo", "file:///repo".
type gitSpec struct {
	// scheme is "https", "http", "ssh" (scp-like addresses included) or
	// "file".
	scheme string
	// cloneURL is the repository's URL without userinfo (remote bases are
	// fetched anonymously).
	cloneURL string
	// dir is the directory in the repository, clean and relative ("" for
	// the root).
	dir string
	// ref is the ?ref= (or ?version=) query value: a branch, a tag, a full
	// reference name or a commit; "" for the default branch.
	ref string
	// submodules is ?submodules= (kustomize's default: true).
	submodules bool
	// timeout is ?timeout= (seconds or a Go duration); 0 when not given.
	timeout time.Duration
}

// scpUser matches the user of an scp-like address ("git@host:path"), as
// kustomize reads it.
var scpUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// parseGitSpec reads entry the way kustomize decides that a resource, base
// or component is a git repository to clone (its repospec rules, written
// again here: kustomize keeps them internal). ok is false for anything
// kustomize would not clone; err is set for an entry it would clone but
// that is malformed.
func parseGitSpec(entry string) (spec *gitSpec, ok bool, err error) {
	if path.IsAbs(entry) {
		return nil, false, nil
	}
	n, query, _ := strings.Cut(entry, "?")
	spec = &gitSpec{submodules: true}
	spec.ref, spec.submodules, spec.timeout = parseGitQuery(query)

	if rest, found := cutPrefixFold(n, "git::"); found {
		n = rest
	}
	scheme := ""
	for _, s := range []string{"ssh", "https", "http", "file"} {
		if rest, found := cutPrefixFold(n, s+"://"); found {
			scheme, n = s, rest
			break
		}
	}
	user := scpUser.FindString(n)
	n = n[len(user):]
	github := strings.HasPrefix(strings.ToLower(n), "github.com/") || strings.HasPrefix(strings.ToLower(n), "github.com:")
	scp := scheme == "" && (user != "" || github)
	if scheme == "" && !scp {
		return nil, false, nil
	}
	if scheme == "file" {
		spec.scheme, spec.cloneURL = "file", "file://"+user+n
		return spec, true, nil
	}

	host, rest := n, ""
	sep := strings.Index(n, "/")
	if scp {
		if colon := strings.Index(n, ":"); sep < 0 || (colon > 0 && colon < sep) {
			sep = colon
		}
	}
	if sep >= 0 {
		host, rest = n[:sep], n[sep+1:]
	}
	if github {
		host = "github.com"
		if scheme == "ssh" || user != "" {
			scheme, scp = "", true
		} else {
			scheme, scp = "https", false
		}
	}
	if host == "" {
		return nil, false, nil
	}
	repo, dir, found := splitRepoPath(rest)
	if !found {
		return nil, false, nil
	}
	if d := path.Clean(strings.TrimPrefix(dir, "/")); d == ".." || strings.HasPrefix(d, "../") {
		return nil, true, fmt.Errorf("the directory of %s leaves the repository", entry)
	}
	dir = strings.TrimPrefix(path.Clean("/"+dir), "/")

	switch {
	case scp || scheme == "ssh":
		spec.scheme = "ssh"
		if scp {
			spec.cloneURL = user + host + ":" + repo
		} else {
			spec.cloneURL = "ssh://" + user + host + "/" + repo
		}
	default:
		spec.scheme = scheme
		u, err := url.Parse(scheme + "://" + host + "/" + repo)
		if err != nil || u.Host == "" {
			return nil, true, fmt.Errorf("%s is not a valid repository URL", entry)
		}
		u.User = nil
		spec.cloneURL = u.String()
	}
	spec.dir = dir
	return spec, true, nil
}

// splitRepoPath splits the path after the host into the repository and the
// directory in it, by kustomize's markers: the segment after "_git/"
// (Azure DevOps), a "//", a segment ending in ".git"; else the first two
// segments (org/repo).
func splitRepoPath(p string) (repo, dir string, ok bool) {
	switch {
	case strings.Contains(p, "_git/"):
		i := strings.Index(p, "_git/") + len("_git/")
		name, sub, _ := strings.Cut(p[i:], "/")
		repo, dir = p[:i]+name, sub
	case strings.Contains(p, "//"):
		repo, dir, _ = strings.Cut(p, "//")
	default:
		segments := strings.Split(p, "/")
		for i, s := range segments {
			if strings.HasSuffix(s, ".git") {
				return strings.Join(segments[:i+1], "/"), strings.Join(segments[i+1:], "/"), true
			}
		}
		if len(segments) < 2 {
			return "", "", false
		}
		repo, dir = strings.Join(segments[:2], "/"), strings.Join(segments[2:], "/")
	}
	return repo, dir, repo != ""
}

// parseGitQuery reads ?ref= (or ?version=), ?submodules= and ?timeout=
// with kustomize's defaults; values that do not parse are ignored, as
// kustomize ignores them.
func parseGitQuery(query string) (ref string, submodules bool, timeout time.Duration) {
	submodules = true
	values, err := url.ParseQuery(query)
	if err != nil {
		return "", submodules, 0
	}
	ref = values.Get("version")
	if r := values.Get("ref"); r != "" {
		ref = r
	}
	if s := values.Get("submodules"); s != "" {
		if b, err := strconv.ParseBool(s); err == nil {
			submodules = b
		}
	}
	if s := values.Get("timeout"); s != "" {
		if secs, err := strconv.Atoi(s); err == nil && secs > 0 {
			timeout = time.Duration(secs) * time.Second
		} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
			timeout = d
		}
	}
	return ref, submodules, min(timeout, maxRemoteTimeout)
}

// isGitHTTPURL reports whether an http(s) entry of a resources, bases or
// components list names a git repository rather than a file. kustomize
// downloads such an entry as a file first and clones it only if that
// fails; we decide up front, by the markers of a repository: "git::",
// "//", "_git/" or a segment ending in ".git" in the path, a ?ref= or
// ?version=, or a github.com URL of just org/repo.
func isGitHTTPURL(entry string) bool {
	if _, found := cutPrefixFold(entry, "git::"); found {
		return true
	}
	u, err := url.Parse(entry)
	if err != nil {
		return false
	}
	if q := u.Query(); q.Get("ref") != "" || q.Get("version") != "" {
		return true
	}
	p := strings.TrimPrefix(u.Path, "/")
	if strings.Contains(p, "//") || strings.Contains(p, "_git/") {
		return true
	}
	segments := strings.Split(strings.TrimSuffix(p, "/"), "/")
	for _, s := range segments {
		if strings.HasSuffix(s, ".git") {
			return true
		}
	}
	return strings.EqualFold(u.Hostname(), "github.com") && len(segments) == 2
}

// cutPrefixFold is strings.CutPrefix, ignoring ASCII case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

package git

import (
	"fmt"
	"regexp"
	"strings"
)

// DefaultBranch is the branch checked out when Ref is empty, as in Flux.
const DefaultBranch = "master"

// Ref selects what to check out, with Flux's GitRepository spec.ref semantics: when several
// fields are set, Commit wins over Name, Name over SemVer, SemVer over Tag, Tag over Branch.
// Commit may be combined with Branch, which then names the branch the commit is fetched
// from (and appears in the revision). An empty Ref means branch "master".
type Ref struct {
	// Branch is a branch name, e.g. "main" or "feature/x".
	Branch string
	// Tag is a tag name, e.g. "v1.2.3".
	Tag string
	// SemVer is a Masterminds semver range matched against the tags, e.g. ">=1.0.0 <2.0.0";
	// the highest matching tag is checked out.
	SemVer string
	// Name is a full reference name, e.g. "refs/heads/main" or "refs/pull/420/head".
	Name string
	// Commit is a full commit SHA-1.
	Commit string
}

// refKind is the field of Ref that takes effect.
type refKind int

const (
	kindBranch refKind = iota
	kindTag
	kindSemVer
	kindName
	kindCommit
)

// kind returns which field of r takes effect, by Flux's precedence.
func (r Ref) kind() refKind {
	switch {
	case r.Commit != "":
		return kindCommit
	case r.Name != "":
		return kindName
	case r.SemVer != "":
		return kindSemVer
	case r.Tag != "":
		return kindTag
	}
	return kindBranch
}

// branch returns the branch to use, defaulting to DefaultBranch.
func (r Ref) branch() string {
	if r.Branch == "" {
		return DefaultBranch
	}
	return r.Branch
}

// CheckoutBranch returns the branch r checks out (DefaultBranch for an empty Ref), or ""
// when a tag, semver range, reference name or commit takes effect.
func (r Ref) CheckoutBranch() string {
	if r.kind() != kindBranch {
		return ""
	}
	return r.branch()
}

// String describes the effective reference for messages, e.g. `branch "main"`.
func (r Ref) String() string {
	switch r.kind() {
	case kindCommit:
		if r.Branch != "" {
			return fmt.Sprintf("commit %q on branch %q", r.Commit, r.Branch)
		}
		return fmt.Sprintf("commit %q", r.Commit)
	case kindName:
		return fmt.Sprintf("ref %q", r.Name)
	case kindSemVer:
		return fmt.Sprintf("semver range %q", r.SemVer)
	case kindTag:
		return fmt.Sprintf("tag %q", r.Tag)
	}
	return fmt.Sprintf("branch %q", r.branch())
}

var (
	sha1Hex    = regexp.MustCompile(`^[0-9a-f]{40}$`)
	legacyRev  = regexp.MustCompile(`^(.+)/([0-9a-f]{40})$`)
	revisionRe = regexp.MustCompile(`(?:^|@)sha1:([0-9a-f]{40})$`)
)

// validate checks the fields that can be checked without the remote.
func (r Ref) validate() error {
	if r.Commit != "" && !sha1Hex.MatchString(r.Commit) {
		return fmt.Errorf("invalid commit %q: a full, lower-case SHA-1 of 40 hex digits is required", r.Commit)
	}
	if r.kind() == kindName {
		if !strings.HasPrefix(r.Name, "refs/") || strings.HasSuffix(r.Name, "/") {
			return fmt.Errorf("invalid ref name %q: it must start with \"refs/\" and not end with \"/\"", r.Name)
		}
	}
	return nil
}

// FormatRevision returns Flux's revision string for a commit reached through ref:
//
//	branch "main"                 main@sha1:<hash>
//	tag "v1.0.0" (or semver)      v1.0.0@sha1:<hash>
//	name "refs/pull/1/head"       refs/pull/1/head@sha1:<hash>
//	commit with branch "main"     main@sha1:<hash>
//	commit alone                  sha1:<hash>
//
// refName is the full reference name the commit was reached through ("refs/heads/main",
// "refs/tags/v1.0.0", ...), or "" for a bare commit. For tags, hash is the commit the tag
// points to, never the hash of an annotated tag object.
func FormatRevision(ref Ref, refName, hash string) string {
	if refName == "" {
		return "sha1:" + hash
	}
	if ref.kind() == kindName {
		// Flux's Commit.AbsoluteReference: the full name.
		return refName + "@sha1:" + hash
	}
	// Flux's Commit.String: the reference name without its first two segments.
	if parts := strings.SplitAfterN(refName, "/", 3); len(parts) == 3 {
		return parts[2] + "@sha1:" + hash
	}
	return "sha1:" + hash
}

// RevisionHash returns the commit hash of a revision in Flux's format
// ("main@sha1:<hash>", "sha1:<hash>"), or of the legacy "main/<hash>" format, or "" when
// rev has neither form.
func RevisionHash(rev string) string {
	if m := revisionRe.FindStringSubmatch(rev); m != nil {
		return m[1]
	}
	if m := legacyRev.FindStringSubmatch(rev); m != nil {
		return m[2]
	}
	if sha1Hex.MatchString(rev) {
		return rev
	}
	return ""
}

// normalizeRevision rewrites revisions from older Flux versions ("main/<hash>", a bare
// hash) into the current format, so that Options.LastRevision recorded by them compares
// equal, as Flux's TransformRevision does.
func normalizeRevision(rev string) string {
	if revisionRe.MatchString(rev) {
		return rev
	}
	if m := legacyRev.FindStringSubmatch(rev); m != nil {
		return m[1] + "@sha1:" + m[2]
	}
	if sha1Hex.MatchString(rev) {
		return "sha1:" + rev
	}
	return rev
}

package notify

import (
	"errors"
	"fmt"
	"strings"
)

// reasonProgressing is the reason of Flux's "reconciliation in progress"
// events, which most commit status types skip.
const reasonProgressing = "Progressing"

// Metadata keys holding the revision of an event. Flux prefers the origin
// revision (the Git commit an OCI artifact was built from) to the
// revision of the source itself.
const (
	metaOriginRevision = "originRevision"
	metaRevision       = "revision"
)

// eventRevision returns the revision of e. Besides Flux's keys it takes
// the group-prefixed keys of events that have not been through
// notification-controller's metadata clean-up
// ("kustomize.toolkit.fluxcd.io/revision").
func eventRevision(e *Event) (string, bool) {
	for _, key := range []string{metaOriginRevision, metaRevision} {
		if v, ok := e.Metadata[key]; ok && v != "" {
			return v, true
		}
	}
	for _, key := range []string{metaOriginRevision, metaRevision} {
		for _, k := range sortedKeys(e.Metadata) {
			if strings.HasSuffix(k, "/"+key) && e.Metadata[k] != "" {
				return e.Metadata[k], true
			}
		}
	}
	return "", false
}

// errNoCommit is returned for a revision without a commit hash.
var errNoCommit = errors.New("has no Git commit hash")

// commitSHA returns the commit hash of a Flux revision, in any of Flux's
// formats: "<ref>@<algo>:<hash>" ("main@sha1:…", "v1.0@sha1:…",
// "refs/pull/1/head@sha1:…"), "<algo>:<hash>", the legacy
// "<branch>/<hash>", or a bare hash.
func commitSHA(revision string) (string, error) {
	rev := revision
	if i := strings.LastIndex(rev, "@"); i >= 0 {
		rev = rev[i+1:]
	}
	if _, hash, ok := strings.Cut(rev, ":"); ok {
		rev = hash
	} else if i := strings.LastIndex(rev, "/"); i >= 0 {
		rev = rev[i+1:]
	}
	if !isHexHash(rev) {
		return "", fmt.Errorf("revision %q %w", revision, errNoCommit)
	}
	return strings.ToLower(rev), nil
}

// isHexHash reports whether s looks like an abbreviated or full SHA-1 or
// SHA-256 hash.
func isHexHash(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// commitStatusName is Flux's display name of a commit status:
// "<kind>/<name>" in lower case.
func commitStatusName(e *Event) string {
	return strings.ToLower(e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name)
}

// commitStatusDescription is Flux's description of a commit status: the
// reason split into lower-case words ("ReconciliationSucceeded" →
// "reconciliation succeeded").
func commitStatusDescription(e *Event) string {
	return strings.ToLower(strings.Join(splitCamelCase(e.Reason), " "))
}

// defaultCommitStatusID is Flux's commit status key: "<kind>/<name>/<first
// segment of the provider UID>" in lower case, so that clusters sharing a
// repository (each with its own Provider) do not overwrite each other.
func defaultCommitStatusID(providerUID string, e *Event) string {
	id := commitStatusName(e)
	if uid, _, _ := strings.Cut(providerUID, "-"); uid != "" {
		id += "/" + strings.ToLower(uid)
	}
	return id
}

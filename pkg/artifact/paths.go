package artifact

import (
	"fmt"
	"path"
	"strings"
)

const (
	// archiveExt is the extension of every stored artifact.
	archiveExt = ".tar.gz"
	// digestPrefix is the algorithm part of Artifact.Digest.
	digestPrefix = "sha256:"
	// tmpDirName is where Put writes before renaming into place. Key
	// segments may not start with a dot, so it cannot clash with a kind.
	tmpDirName = ".tmp"
)

// Key names the object an artifact belongs to.
type Key struct {
	// Kind is the object's kind, e.g. "GitRepository"; it is stored
	// lower-cased, as in Flux's artifact paths.
	Kind      string
	Namespace string
	Name      string
}

// String returns "<kind>/<namespace>/<name>".
func (k Key) String() string {
	return k.Kind + "/" + k.Namespace + "/" + k.Name
}

// normalize lower-cases the kind, so "GitRepository" and "gitrepository"
// are one key (one directory, one lock).
func (k Key) normalize() Key {
	k.Kind = strings.ToLower(k.Kind)
	return k
}

// dir returns the key's slash-separated directory relative to the store root,
// "<lowercase kind>/<namespace>/<name>", after checking every segment.
func (k Key) dir() (string, error) {
	k = k.normalize()
	for _, s := range []struct{ field, value string }{{"kind", k.Kind}, {"namespace", k.Namespace}, {"name", k.Name}} {
		if err := checkSegment(s.value); err != nil {
			return "", fmt.Errorf("artifact key %s: %s: %w", k, s.field, err)
		}
	}
	return path.Join(k.Kind, k.Namespace, k.Name), nil
}

// checkSegment accepts one path segment that can neither climb nor hide:
// Kubernetes kinds, namespaces and names all qualify.
func checkSegment(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty", ErrUnsafePath)
	case len(s) > 253:
		return fmt.Errorf("%w: longer than 253 characters", ErrUnsafePath)
	case strings.HasPrefix(s, "."):
		return fmt.Errorf("%w: %q starts with a dot", ErrUnsafePath, s)
	case strings.ContainsAny(s, "/\\\x00"):
		return fmt.Errorf("%w: %q contains a slash, backslash or NUL", ErrUnsafePath, s)
	}
	return nil
}

// parseArtifactPath checks a stored artifact's relative path,
// "<kind>/<namespace>/<name>/<sha256 hex>.tar.gz", and returns its digest
// hex. Anything else (absolute paths, "..", extra or missing segments, a
// name that is not a lower-case sha256) is refused.
func parseArtifactPath(p string) (string, error) {
	parts := strings.Split(p, "/")
	if len(parts) != 4 {
		return "", fmt.Errorf("%w: artifact path %q is not <kind>/<namespace>/<name>/<sha256>%s", ErrUnsafePath, p, archiveExt)
	}
	for _, s := range parts[:3] {
		if err := checkSegment(s); err != nil {
			return "", fmt.Errorf("artifact path %q: %w", p, err)
		}
	}
	hex, ok := digestFromFileName(parts[3])
	if !ok {
		return "", fmt.Errorf("%w: artifact path %q does not end in <sha256>%s", ErrUnsafePath, p, archiveExt)
	}
	return hex, nil
}

// digestFromFileName returns the hex digest of a file named
// "<64 lower-case hex digits>.tar.gz".
func digestFromFileName(name string) (string, bool) {
	hex, ok := strings.CutSuffix(name, archiveExt)
	if !ok || len(hex) != 64 {
		return "", false
	}
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", false
		}
	}
	return hex, true
}

package gitserver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pushOptionsFile is where the pre-receive hook installed by AllowPush records the push
// options of the last push, relative to the bare repository.
const pushOptionsFile = "push-options.txt"

// preReceiveHook records GIT_PUSH_OPTION_<i> (one per line) and accepts the push.
const preReceiveHook = `#!/bin/sh
: > ` + pushOptionsFile + `
i=0
while [ "$i" -lt "${GIT_PUSH_OPTION_COUNT:-0}" ]; do
	eval "printf '%s\n' \"\$GIT_PUSH_OPTION_$i\"" >> ` + pushOptionsFile + `
	i=$((i + 1))
done
cat > /dev/null
exit 0
`

// AllowPush lets clients push to the repository through an HTTPServer (git http-backend
// refuses pushes unless http.receivepack is set, since the server sets no REMOTE_USER),
// advertises push options, and installs a pre-receive hook that records them (see
// ReceivedPushOptions). Pushes over SSH are always allowed.
func (r *Repo) AllowPush(t testing.TB) {
	t.Helper()
	r.root.git(t, r.BareDir, "config", "http.receivepack", "true")
	r.root.git(t, r.BareDir, "config", "receive.advertisePushOptions", "true")
	hooks := filepath.Join(r.BareDir, "hooks")
	if err := os.MkdirAll(hooks, 0o755); err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	if err := os.WriteFile(filepath.Join(hooks, "pre-receive"), []byte(preReceiveHook), 0o755); err != nil {
		t.Fatalf("gitserver: %v", err)
	}
}

// ReceivedPushOptions returns the push options of the last push the server accepted
// (`git push -o`), in order; nil before any push.
func (r *Repo) ReceivedPushOptions(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.BareDir, pushOptionsFile))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	text := strings.TrimSuffix(string(b), "\n")
	if text == "" {
		return []string{}
	}
	return strings.Split(text, "\n")
}

// ServerHead returns the commit branch points to in the bare repository (what clients
// see), or "" when the branch does not exist.
func (r *Repo) ServerHead(t testing.TB, branch string) string {
	t.Helper()
	out, err := r.root.run(r.BareDir, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch)
	if err != nil {
		return ""
	}
	return out
}

// Pull brings the working copy's current branch up to date with the server (after
// clients pushed to it), so that later Commit calls build on their commits.
func (r *Repo) Pull(t testing.TB) {
	t.Helper()
	branch := r.CurrentBranch(t)
	r.root.git(t, r.WorkDir, "fetch", "--quiet", "origin", "refs/heads/"+branch)
	r.root.git(t, r.WorkDir, "reset", "--quiet", "--hard", "FETCH_HEAD")
}

// Git runs git with args in the working copy and returns its output (trimmed).
func (r *Repo) Git(t testing.TB, args ...string) string {
	t.Helper()
	return r.root.git(t, r.WorkDir, args...)
}

package gitserver

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gitTimeout bounds every git command the helpers run.
const gitTimeout = time.Minute

// Root is a directory of bare repositories, served by an HTTPServer or SSHServer (or both,
// see HTTPOptions.Root and SSHOptions.Root).
type Root struct {
	dir  string
	home string // HOME for git commands, so no user configuration leaks in
}

// NewRoot returns an empty repository root in a temporary directory.
func NewRoot(t testing.TB) *Root {
	t.Helper()
	return &Root{dir: t.TempDir(), home: t.TempDir()}
}

// Dir returns the directory holding the bare repositories ("<name>.git").
func (r *Root) Dir() string { return r.dir }

// Repo is a bare repository under a Root plus a working copy the helpers commit in and push
// from. Commits go to the current branch, "main" at first (see Branch).
type Repo struct {
	// Name is the repository's name, as passed to CreateRepo and the servers' URL methods.
	Name string
	// BareDir is the bare repository's directory.
	BareDir string
	// WorkDir is the working copy's directory.
	WorkDir string
	root    *Root
}

// CreateRepo creates an empty bare repository "<name>.git" (name may contain slashes) and
// its working copy, with "main" as the initial branch.
func (r *Root) CreateRepo(t testing.TB, name string) *Repo {
	t.Helper()
	if name == "" || strings.Contains(name, "..") || filepath.IsAbs(name) {
		t.Fatalf("gitserver: invalid repository name %q", name)
	}
	repo := &Repo{
		Name:    name,
		BareDir: filepath.Join(r.dir, filepath.FromSlash(name)+".git"),
		WorkDir: t.TempDir(),
		root:    r,
	}
	r.git(t, "", "init", "--quiet", "--bare", "--initial-branch=main", repo.BareDir)
	r.git(t, repo.WorkDir, "init", "--quiet", "--initial-branch=main")
	r.git(t, repo.WorkDir, "remote", "add", "origin", repo.BareDir)
	return repo
}

// Commit writes files (path relative to the repository root → content), commits them with
// message on the current branch, pushes the branch, and returns the commit hash.
func (r *Repo) Commit(t testing.TB, files map[string]string, message string) string {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(r.WorkDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatalf("gitserver: %v", err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatalf("gitserver: %v", err)
		}
	}
	r.root.git(t, r.WorkDir, "add", "--all")
	return r.commitAndPush(t, message)
}

// DeleteFile removes a file, commits and pushes like Commit, and returns the commit hash.
func (r *Repo) DeleteFile(t testing.TB, path, message string) string {
	t.Helper()
	r.root.git(t, r.WorkDir, "rm", "--quiet", "--", filepath.FromSlash(path))
	return r.commitAndPush(t, message)
}

func (r *Repo) commitAndPush(t testing.TB, message string) string {
	t.Helper()
	r.root.git(t, r.WorkDir, "commit", "--quiet", "--allow-empty", "-m", message)
	r.root.git(t, r.WorkDir, "push", "--quiet", "origin", "HEAD:refs/heads/"+r.CurrentBranch(t))
	return r.Head(t)
}

// Head returns the hash of the working copy's current commit.
func (r *Repo) Head(t testing.TB) string {
	t.Helper()
	return r.root.git(t, r.WorkDir, "rev-parse", "HEAD")
}

// CurrentBranch returns the branch later commits go to.
func (r *Repo) CurrentBranch(t testing.TB) string {
	t.Helper()
	return r.root.git(t, r.WorkDir, "symbolic-ref", "--short", "HEAD")
}

// Branch switches the working copy to branch name, creating it at the current commit if
// needed, and pushes it when it has commits. Later commits go to that branch.
func (r *Repo) Branch(t testing.TB, name string) {
	t.Helper()
	if _, err := r.root.run(r.WorkDir, "rev-parse", "--verify", "--quiet", "refs/heads/"+name); err == nil {
		r.root.git(t, r.WorkDir, "checkout", "--quiet", name)
		return
	}
	r.root.git(t, r.WorkDir, "checkout", "--quiet", "-b", name)
	if _, err := r.root.run(r.WorkDir, "rev-parse", "--verify", "--quiet", "HEAD"); err == nil {
		r.root.git(t, r.WorkDir, "push", "--quiet", "origin", "HEAD:refs/heads/"+name)
	}
}

// Tag creates a lightweight tag at the current commit and pushes it.
func (r *Repo) Tag(t testing.TB, name string) {
	t.Helper()
	r.root.git(t, r.WorkDir, "tag", name)
	r.root.git(t, r.WorkDir, "push", "--quiet", "origin", "refs/tags/"+name)
}

// AnnotatedTag creates an annotated tag at the current commit and pushes it.
func (r *Repo) AnnotatedTag(t testing.TB, name, message string) {
	t.Helper()
	r.root.git(t, r.WorkDir, "tag", "-a", name, "-m", message)
	r.root.git(t, r.WorkDir, "push", "--quiet", "origin", "refs/tags/"+name)
}

// AddSubmodule adds the repository at url as a submodule at path (cloned with the git CLI,
// so url must be reachable without credentials), commits and pushes like Commit, and
// returns the commit hash.
func (r *Repo) AddSubmodule(t testing.TB, url, path string) string {
	t.Helper()
	r.root.git(t, r.WorkDir, "-c", "protocol.file.allow=always", "submodule", "--quiet", "add", url, filepath.FromSlash(path))
	return r.commitAndPush(t, "add submodule "+path)
}

// PushRef pushes the current commit to an arbitrary reference, e.g. "refs/pull/1/head".
func (r *Repo) PushRef(t testing.TB, ref string) {
	t.Helper()
	r.root.git(t, r.WorkDir, "push", "--quiet", "origin", "HEAD:"+ref)
}

// git runs a git command for a test and returns its trimmed standard output; it fails the
// test on error.
func (r *Root) git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := r.run(dir, args...)
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	return out
}

// run runs git in dir with an isolated configuration: no system or user config, fixed
// identity, no prompts.
func (r *Root) run(dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	// user.* and init.defaultBranch are also fixed here, whatever the environment says.
	base := []string{"-c", "init.defaultBranch=main", "-c", "user.name=Test Author", "-c", "user.email=author@example.com"}
	cmd := exec.CommandContext(ctx, "git", append(base, args...)...)
	cmd.Dir = dir
	cmd.Env = gitEnv(r.home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", &gitError{args: args, err: err, stderr: strings.TrimSpace(stderr.String())}
	}
	return strings.TrimSpace(stdout.String()), nil
}

// gitEnv is the environment for git commands and git server processes: the caller's
// environment minus GIT_* variables, with HOME pointing at home and a fixed identity.
func gitEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Test Author",
		"GIT_AUTHOR_EMAIL=author@example.com",
		"GIT_COMMITTER_NAME=Test Committer",
		"GIT_COMMITTER_EMAIL=committer@example.com",
	)
}

type gitError struct {
	args   []string
	err    error
	stderr string
}

func (e *gitError) Error() string {
	return "git " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + e.stderr
}

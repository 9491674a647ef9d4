package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// gitServer serves one bare repository anonymously over Git's smart HTTP
// protocol on loopback, through `git http-backend` behind net/http/cgi — the
// way test/gitserver does. test/gitserver itself needs a testing.TB, which a
// main program cannot provide.
type gitServer struct {
	root, home string // bare repositories; HOME for git, so no user config leaks in
	work       string // the working copy commits are made and pushed from
	srv        *http.Server
	addr       string
	done       chan struct{}
}

// repoName is the one repository served.
const repoName = "bench"

// startGitServer creates dir/{root,home,work}, an empty repository and a
// server for it on 127.0.0.1.
func startGitServer(dir string) (*gitServer, error) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("git is required: %w", err)
	}
	g := &gitServer{
		root: filepath.Join(dir, "root"),
		home: filepath.Join(dir, "home"),
		work: filepath.Join(dir, "work"),
		done: make(chan struct{}),
	}
	for _, d := range []string{g.root, g.home, g.work} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	bare := filepath.Join(g.root, repoName+".git")
	for _, args := range [][]string{
		{"-C", g.root, "init", "--quiet", "--bare", "--initial-branch=main", bare},
		{"-C", g.work, "init", "--quiet", "--initial-branch=main"},
		{"-C", g.work, "remote", "add", "origin", bare},
	} {
		if _, err := g.git(args...); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g.addr = ln.Addr().String()
	quiet := log.New(io.Discard, "", 0)
	g.srv = &http.Server{
		Handler: &cgi.Handler{
			Path: gitPath,
			Args: []string{"http-backend"},
			Root: "/",
			Dir:  g.root,
			Env: []string{
				"GIT_PROJECT_ROOT=" + g.root,
				"GIT_HTTP_EXPORT_ALL=1",
				"GIT_CONFIG_NOSYSTEM=1",
				"HOME=" + g.home,
			},
			InheritEnv: []string{"PATH"},
			Logger:     quiet,
		},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          quiet,
	}
	go func() {
		defer close(g.done)
		_ = g.srv.Serve(ln)
	}()
	return g, nil
}

// URL is the repository's clone URL.
func (g *gitServer) URL() string { return "http://" + g.addr + "/" + repoName + ".git" }

// Stop closes the listener and every connection.
func (g *gitServer) Stop() {
	_ = g.srv.Close()
	<-g.done
}

// Commit writes files (path → content) into the working copy, commits them
// on main, pushes, and returns the commit hash.
func (g *gitServer) Commit(files map[string]string, message string) (string, error) {
	for name, content := range files {
		p := filepath.Join(g.work, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	for _, args := range [][]string{
		{"-C", g.work, "add", "--all"},
		{"-C", g.work, "commit", "--quiet", "--allow-empty", "-m", message},
		{"-C", g.work, "push", "--quiet", "origin", "HEAD:refs/heads/main"},
	} {
		if _, err := g.git(args...); err != nil {
			return "", err
		}
	}
	return g.git("-C", g.work, "rev-parse", "HEAD")
}

// git runs git with an isolated configuration and a fixed identity, and
// returns its trimmed standard output.
func (g *gitServer) git(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "user.name=bench", "-c", "user.email=bench@example.com"}, args...)...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "HOME="+g.home, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

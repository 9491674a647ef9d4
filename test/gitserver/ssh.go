package gitserver

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHOptions configures an SSHServer.
type SSHOptions struct {
	// AuthorizedKeys are the client public keys accepted, in authorized_keys format (one
	// key per entry, e.g. KeyPair.Public). At least one is required.
	AuthorizedKeys [][]byte
	// Root is the repository root to serve; nil creates a new one.
	Root *Root
}

// SSHServer serves the repositories of a Root over SSH on 127.0.0.1: it accepts public
// key authentication with the authorized keys (any user name) and runs git-upload-pack
// and git-receive-pack for exec requests on repositories inside the root.
type SSHServer struct {
	t       testing.TB
	root    *Root
	config  *ssh.ServerConfig
	hostKey ssh.PublicKey
	srv     restartable
}

// NewSSH starts an SSH git server with a fresh ed25519 host key; t.Cleanup stops it.
func NewSSH(t testing.TB, opts SSHOptions) *SSHServer {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("gitserver: git is required: %v", err)
	}
	if len(opts.AuthorizedKeys) == 0 {
		t.Fatal("gitserver: SSHOptions.AuthorizedKeys is empty")
	}
	var authorized [][]byte
	for _, k := range opts.AuthorizedKeys {
		pub, _, _, _, err := ssh.ParseAuthorizedKey(k)
		if err != nil {
			t.Fatalf("gitserver: invalid authorized key: %v", err)
		}
		authorized = append(authorized, pub.Marshal())
	}
	root := opts.Root
	if root == nil {
		root = NewRoot(t)
	}
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	s := &SSHServer{t: t, root: root, hostKey: hostSigner.PublicKey()}
	s.config = &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, a := range authorized {
				if bytes.Equal(a, key.Marshal()) {
					return nil, nil
				}
			}
			return nil, errors.New("unauthorized public key")
		},
	}
	s.config.AddHostKey(hostSigner)
	s.srv.serve = s.serve
	s.srv.mustStart(t)
	t.Cleanup(s.Stop)
	return s
}

// serve accepts connections on ln until stopped.
func (s *SSHServer) serve(ln net.Listener) func() {
	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.handleConn(ctx, c)
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			}()
		}
	}()
	return func() {
		cancel() // kills running git processes
		_ = ln.Close()
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}
}

// handleConn runs the SSH handshake and the session channels of one connection.
func (s *SSHServer) handleConn(ctx context.Context, c net.Conn) {
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	conn, chans, reqs, err := ssh.NewServerConn(c, s.config)
	if err != nil {
		return
	}
	defer func() { _ = conn.Close() }()
	_ = c.SetDeadline(time.Time{})
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only session channels are supported")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.handleSession(ctx, ch, chReqs)
		}()
	}
	wg.Wait()
}

// handleSession serves one session: "env" requests are acknowledged (git sends
// GIT_PROTOCOL) and one "exec" request runs the git command.
func (s *SSHServer) handleSession(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer func() { _ = ch.Close() }()
	for req := range reqs {
		switch req.Type {
		case "env":
			_ = req.Reply(true, nil)
		case "exec":
			var payload struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &payload); err != nil {
				_ = req.Reply(false, nil)
				continue
			}
			prog, dir, err := s.parseCommand(payload.Command)
			if err != nil {
				_ = req.Reply(true, nil)
				// Worded like git's own messages, which clients recognise.
				_, _ = fmt.Fprintf(ch.Stderr(), "fatal: %v\n", err)
				sendExitStatus(ch, 128)
				return
			}
			_ = req.Reply(true, nil)
			sendExitStatus(ch, s.runGit(ctx, ch, prog, dir))
			return
		default:
			_ = req.Reply(false, nil)
		}
	}
}

// parseCommand validates an exec command such as "git-upload-pack '/repo.git'" and returns
// the git subcommand and the repository directory, which must be inside the root.
func (s *SSHServer) parseCommand(command string) (prog, dir string, err error) {
	name, arg, ok := strings.Cut(strings.TrimSpace(command), " ")
	if !ok {
		return "", "", fmt.Errorf("unsupported command %q", command)
	}
	switch name {
	case "git-upload-pack", "git-receive-pack":
		prog = strings.TrimPrefix(name, "git-")
	default:
		return "", "", fmt.Errorf("unsupported command %q", name)
	}
	arg = strings.TrimSpace(arg)
	if len(arg) >= 2 && (arg[0] == '\'' || arg[0] == '"') && arg[len(arg)-1] == arg[0] {
		arg = arg[1 : len(arg)-1]
	}
	rel := filepath.Clean("/" + arg) // "/" first: ".." cannot climb above the root
	dir = filepath.Join(s.root.dir, rel)
	if !strings.HasPrefix(dir, s.root.dir+string(filepath.Separator)) {
		return "", "", fmt.Errorf("access denied: %q is outside the root", arg)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", "", fmt.Errorf("'%s' does not appear to be a git repository", arg)
	}
	rootReal, err := filepath.EvalSymlinks(s.root.dir)
	if err != nil || !strings.HasPrefix(real, rootReal+string(filepath.Separator)) {
		return "", "", fmt.Errorf("access denied: %q is outside the root", arg)
	}
	return prog, real, nil
}

// runGit runs "git <prog> <dir>" with the channel as its standard streams and returns its
// exit status.
func (s *SSHServer) runGit(ctx context.Context, ch ssh.Channel, prog, dir string) uint32 {
	cmd := exec.CommandContext(ctx, "git", prog, dir)
	cmd.Env = gitEnv(s.root.home)
	cmd.Stderr = ch.Stderr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 128
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 128
	}
	if err := cmd.Start(); err != nil {
		return 128
	}
	// Copy stdin separately: the client may keep its side open after git is done, and
	// exec would wait for that copy forever if given the channel directly.
	go func() {
		_, _ = io.Copy(stdin, ch)
		_ = stdin.Close()
	}()
	_, _ = io.Copy(ch, stdout)
	err = cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr) && exitErr.ExitCode() > 0:
		return uint32(exitErr.ExitCode())
	}
	return 128
}

func sendExitStatus(ch ssh.Channel, status uint32) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], status)
	_, _ = ch.SendRequest("exit-status", false, b[:])
}

// URL returns the repository's URL, ssh://git@127.0.0.1:PORT/name.git.
func (s *SSHServer) URL(name string) string {
	return "ssh://git@" + s.srv.address() + "/" + name + ".git"
}

// Addr returns the server's host:port, which stays the same across Stop and Start.
func (s *SSHServer) Addr() string { return s.srv.address() }

// HostKey returns the server's public host key.
func (s *SSHServer) HostKey() ssh.PublicKey { return s.hostKey }

// KnownHosts returns a known_hosts line for the server: "[127.0.0.1]:PORT ssh-ed25519 ...".
func (s *SSHServer) KnownHosts() []byte {
	return []byte(knownhosts.Line([]string{knownhosts.Normalize(s.srv.address())}, s.hostKey) + "\n")
}

// Root returns the repository root served.
func (s *SSHServer) Root() *Root { return s.root }

// CreateRepo creates a repository in the served root; see Root.CreateRepo.
func (s *SSHServer) CreateRepo(t testing.TB, name string) *Repo {
	t.Helper()
	return s.root.CreateRepo(t, name)
}

// Stop closes the listener and every connection and kills running git processes. Start
// serves again on the same port.
func (s *SSHServer) Stop() { s.srv.halt() }

// Start serves again after Stop, on the same port; call it from the test's goroutine.
func (s *SSHServer) Start() { s.srv.mustStart(s.t) }

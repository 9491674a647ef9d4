package git_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

// stallTimeout is Options.Timeout for operations against stalled servers.
const stallTimeout = time.Second

// stallPoint is where stalledSSHServer stops answering.
type stallPoint int

const (
	// stallExec: the handshake and authentication succeed, then the exec request of
	// git-upload-pack is never answered.
	stallExec stallPoint = iota
	// stallAdvertisement: the exec request is accepted, then git-upload-pack never sends
	// its reference advertisement.
	stallAdvertisement
)

// stalledSSHServer runs an SSH server on loopback that authenticates key and then stalls at
// the given point. It returns the address and a known_hosts line for it. Connections end
// when the client closes them, or at cleanup.
func stalledSSHServer(t *testing.T, key gitserver.KeyPair, at stallPoint) (addr string, knownHostsLine []byte) {
	t.Helper()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	authorized := mustParsePub(t, key.Public).Marshal()
	config := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(k.Marshal(), authorized) {
				return nil, nil
			}
			return nil, fmt.Errorf("unauthorized key")
		},
	}
	config.AddHostKey(hostSigner)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
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
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				serveStalled(c, config, at)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	addr = ln.Addr().String()
	return addr, []byte(knownhosts.Line([]string{knownhosts.Normalize(addr)}, hostSigner.PublicKey()) + "\n")
}

// serveStalled runs one connection of stalledSSHServer until the client goes away.
func serveStalled(c net.Conn, config *ssh.ServerConfig, at stallPoint) {
	defer func() { _ = c.Close() }()
	conn, chans, reqs, err := ssh.NewServerConn(c, config)
	if err != nil {
		return
	}
	defer func() { _ = conn.Close() }()
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { _ = ch.Close() }()
			// Requests end when the client closes the channel or the connection; nothing is
			// ever written to the channel.
			for req := range chReqs {
				switch {
				case req.Type == "exec" && at == stallExec:
					// Never answered.
				case req.WantReply:
					_ = req.Reply(true, nil)
				}
			}
		}()
	}
}

// waitForGoroutines polls until at most baseline+2 goroutines run, for up to 5 seconds,
// and fails the test with every goroutine's stack otherwise.
func waitForGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline+2 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines still run 5s after the operations timed out (baseline %d):\n%s", n, baseline, buf)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runStalled runs four operations concurrently with a short timeout — Resolve and Checkout
// alternately, or only Checkout — and checks that every one fails with the timeout,
// promptly. Four, so that a leak of one goroutine each exceeds waitForGoroutines' slack.
func runStalled(t *testing.T, opts git.Options, resolve bool) {
	t.Helper()
	opts.Timeout = stallTimeout
	const ops = 4
	errs := make(chan error, ops)
	start := time.Now()
	for i := range ops {
		go func() {
			var err error
			if resolve && i%2 == 0 {
				_, err = git.Resolve(testContext(t), opts)
			} else {
				_, err = git.Checkout(testContext(t), t.TempDir(), opts)
			}
			errs <- err
		}()
	}
	for range ops {
		select {
		case err := <-errs:
			if err == nil || !strings.Contains(err.Error(), "timed out after "+stallTimeout.String()) {
				t.Errorf("error = %v, want a timeout after %s", err, stallTimeout)
			} else {
				t.Log(err)
			}
		case <-time.After(stallTimeout + 5*time.Second):
			t.Fatalf("operations with a %s timeout still run after %s", stallTimeout, time.Since(start))
		}
	}
}

func TestSSH_StalledServerLeavesNoGoroutines(t *testing.T) {
	key := gitserver.NewKeyPair(t, "")
	tcpAddr := stallingServer(t)
	execAddr, execKnownHosts := stalledSSHServer(t, key, stallExec)
	advAddr, advKnownHosts := stalledSSHServer(t, key, stallAdvertisement)
	tcpKnownHosts := []byte(knownhosts.Line([]string{knownhosts.Normalize(tcpAddr)}, mustParsePub(t, key.Public)) + "\n")

	for _, tt := range []struct {
		name       string
		addr       string
		knownHosts []byte
	}{
		// The server accepts TCP connections and never speaks SSH.
		{"before the handshake", tcpAddr, tcpKnownHosts},
		// The server authenticates the client and never answers the exec request.
		{"after authentication", execAddr, execKnownHosts},
		// The server starts git-upload-pack and never sends a byte of it.
		{"before the advertisement", advAddr, advKnownHosts},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url := "ssh://git@" + tt.addr + "/repo.git"
			auth, err := git.AuthFromSecret(url, sshSecret(key, tt.knownHosts))
			if err != nil {
				t.Fatal(err)
			}
			baseline := runtime.NumGoroutine()
			runStalled(t, git.Options{URL: url, Auth: auth, Ref: git.Ref{Branch: "main"}}, true)
			waitForGoroutines(t, baseline)
		})
	}
}

func TestSSH_StalledSubmoduleServerLeavesNoGoroutines(t *testing.T) {
	key := gitserver.NewKeyPair(t, "")
	srv := gitserver.NewSSH(t, gitserver.SSHOptions{AuthorizedKeys: [][]byte{key.Public}})
	lib := srv.CreateRepo(t, "lib")
	lib.Commit(t, map[string]string{"lib.yaml": "lib"}, "lib")
	app := srv.CreateRepo(t, "app")
	app.Commit(t, map[string]string{"app.yaml": "app"}, "app")
	app.AddSubmodule(t, lib.BareDir, "vendor/lib")
	// The submodule's URL points at a server that accepts TCP connections and never speaks.
	stalled := stallingServer(t)
	app.Commit(t, map[string]string{
		".gitmodules": "[submodule \"vendor/lib\"]\n\tpath = vendor/lib\n\turl = ssh://git@" + stalled + "/lib.git\n",
	}, "move the submodule")

	url := srv.URL("app")
	auth, err := git.AuthFromSecret(url, sshSecret(key, srv.KnownHosts()))
	if err != nil {
		t.Fatal(err)
	}
	opts := git.Options{URL: url, Auth: auth, Ref: git.Ref{Branch: "main"}, RecurseSubmodules: true}
	baseline := runtime.NumGoroutine()
	runStalled(t, opts, false)
	waitForGoroutines(t, baseline)
}

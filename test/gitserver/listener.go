package gitserver

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// serveFunc serves on ln until ln is closed or stop is called, and returns a function that
// stops serving and waits for every connection to end.
type serveFunc func(ln net.Listener) (stop func())

// restartable runs a server on a fixed loopback address that can be stopped and started
// again on the same port, to simulate an outage.
type restartable struct {
	mu      sync.Mutex
	addr    string
	serve   serveFunc
	stop    func()
	running bool
}

// start listens on 127.0.0.1 (a random port the first time, the same port afterwards)
// and serves.
func (r *restartable) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		return nil
	}
	addr := r.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var (
		ln  net.Listener
		err error
	)
	// The port was just released by stop; rebinding normally succeeds at once, but allow
	// the kernel a moment.
	for deadline := time.Now().Add(5 * time.Second); ; {
		ln, err = net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("gitserver: listening on %s: %w", addr, err)
	}
	r.addr = ln.Addr().String()
	r.stop = r.serve(ln)
	r.running = true
	return nil
}

// halt stops serving and closes every connection; the port stays reserved for start.
func (r *restartable) halt() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running {
		return
	}
	r.stop()
	r.running = false
}

// mustStart starts r, failing the test on error, and registers its cleanup.
func (r *restartable) mustStart(t testing.TB) {
	t.Helper()
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
}

// address returns host:port.
func (r *restartable) address() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

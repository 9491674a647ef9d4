package git

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"golang.org/x/net/proxy"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
)

var installHTTPOnce sync.Once

// installGuardedHTTP makes go-git's HTTP(S) transport dial through
// netguard, so the Guard in an operation's context (see Options) applies to
// every connection, redirects included. go-git keeps its transports in a
// process-wide table; ours dials as the default one when the context
// carries no Guard.
func installGuardedHTTP() {
	installHTTPOnce.Do(func() {
		c := githttp.NewClient(&http.Client{Transport: netguard.Transport(nil)})
		client.InstallProtocol("http", c)
		client.InstallProtocol("https", c)
	})
}

// go-git's SSH transport bounds only the TCP connect (by ssh.ClientConfig.Timeout); the SSH
// handshake, the exec request and the transfer run on a connection no context reaches, so
// a server that stalls would keep a go-git goroutine blocked long after the caller gave up.
// The only hook go-git v5 offers into that connection is the proxy: with
// transport.ProxyOptions.URL set, its SSH dial asks golang.org/x/net/proxy.FromURL for a
// dialer, which consults proxy.RegisterDialerType. So each operation registers its context
// under a random token and hands go-git a proxy URL "<ctxDialScheme>://<token>"; the dialer
// for that URL connects directly and closes the connection as soon as the context ends,
// which fails whatever go-git is blocked in.

// ctxDialScheme is the proxy URL scheme of the context-bound dialer; the URL's host is the
// token of one operation.
const ctxDialScheme = "gitops-apiserver-ctx-dial"

var (
	registerCtxDialOnce sync.Once
	// ctxDials maps tokens to the context of their operation.
	ctxDials sync.Map
)

// errOperationEnded is returned when go-git dials for an operation whose context ended.
var errOperationEnded = errors.New("the git operation has ended: not connecting")

// bindSSHDial returns proxy options that make go-git's SSH connections follow ctx: each
// connection is closed when ctx ends, and no connection is made after that. The binding is
// removed when ctx ends, so callers must cancel ctx when the operation is over. Only pass
// the options to SSH endpoints: the HTTP transport would take them for an HTTP proxy.
func bindSSHDial(ctx context.Context) transport.ProxyOptions {
	registerCtxDialOnce.Do(func() { proxy.RegisterDialerType(ctxDialScheme, ctxDialerFor) })
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (see crypto/rand.Read)
	token := hex.EncodeToString(b[:])
	ctxDials.Store(token, ctx)
	context.AfterFunc(ctx, func() { ctxDials.Delete(token) })
	return transport.ProxyOptions{URL: ctxDialScheme + "://" + token}
}

// ctxDialerFor is the proxy.FromURL constructor for ctxDialScheme URLs.
func ctxDialerFor(u *url.URL, _ proxy.Dialer) (proxy.Dialer, error) {
	v, ok := ctxDials.Load(u.Host)
	if !ok {
		return nil, errOperationEnded
	}
	return &ctxDialer{op: v.(context.Context)}, nil
}

// ctxDialer dials like go-git does without a proxy (directly, or through ALL_PROXY), and
// ties each connection to the operation's context.
type ctxDialer struct {
	op context.Context
}

var _ proxy.ContextDialer = &ctxDialer{}

// Dial implements proxy.Dialer.
func (d *ctxDialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

// DialContext connects until ctx or the operation's context ends, whichever comes first,
// and returns a connection that is closed when the operation's context ends.
func (d *ctxDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := d.op.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(d.op, cancel)
	defer stop()
	var conn net.Conn
	var err error
	if g := netguard.FromContext(d.op); !g.Empty() {
		// The server refuses some networks on tenants' behalf: dial
		// directly, checking the address actually connected to.
		conn, err = netguard.DialContext(netguard.WithContext(ctx, g), network, addr)
	} else {
		conn, err = proxy.Dial(ctx, network, addr)
	}
	if err != nil {
		return nil, err
	}
	return bindConn(d.op, conn), nil
}

// boundConn is a connection closed when a context ends.
type boundConn struct {
	net.Conn
	stop func() bool
}

// bindConn closes c when ctx ends (at once if it already has).
func bindConn(ctx context.Context, c net.Conn) net.Conn {
	return &boundConn{Conn: c, stop: context.AfterFunc(ctx, func() { _ = c.Close() })}
}

// Close closes the connection and forgets the context.
func (c *boundConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

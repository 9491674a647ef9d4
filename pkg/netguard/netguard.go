// Package netguard keeps fetches of tenant-supplied URLs away from networks
// the server must not reach on a tenant's behalf: the cloud metadata service
// (link-local), the server's own loopback, or ranges an operator names.
//
// The check happens when a connection is made, on the address actually
// dialled (after DNS resolution), so a host name that resolves to a refused
// address, a DNS answer that changes between a check and the dial, and a
// redirect to a refused address are all refused alike. A Guard travels in
// the context of an operation (WithContext); DialContext and Transport
// consult it, and dial normally when the context carries none.
//
// What it cannot see: when a proxy is configured, the connection goes to
// the proxy and only the proxy's address is checked.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Named sets of networks that a Guard can refuse.
var named = map[string][]string{
	// Cloud metadata services (169.254.169.254, fd00:ec2::254 aside) and
	// other link-local addresses.
	"link-local": {"169.254.0.0/16", "fe80::/10"},
	"loopback":   {"127.0.0.0/8", "::1/128"},
	"private":    {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"},
	// "unspecified" addresses dial the local host.
	"unspecified": {"0.0.0.0/32", "::/128"},
}

// Guard refuses connections to a set of networks. The zero value and nil
// refuse nothing.
type Guard struct {
	nets []blocked
}

type blocked struct {
	prefix netip.Prefix
	name   string
}

// ErrRefused is returned (wrapped) for a connection a Guard refuses.
var ErrRefused = errors.New("refused by this server's network policy")

// Parse builds a Guard from names (link-local, loopback, private) and CIDRs.
// Naming loopback also refuses the unspecified addresses (0.0.0.0, ::),
// which reach the local host as well.
func Parse(specs []string) (*Guard, error) {
	g := &Guard{}
	for _, spec := range specs {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			continue
		}
		cidrs, ok := named[spec]
		if !ok {
			cidrs = []string{spec}
		}
		if spec == "loopback" {
			cidrs = append(cidrs, named["unspecified"]...)
		}
		for _, c := range cidrs {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				return nil, fmt.Errorf("%q is neither a CIDR nor one of link-local, loopback, private", spec)
			}
			g.nets = append(g.nets, blocked{prefix: p.Masked(), name: spec})
		}
	}
	return g, nil
}

// Empty reports whether g refuses nothing.
func (g *Guard) Empty() bool { return g == nil || len(g.nets) == 0 }

// Check returns an error wrapping ErrRefused if ip is in a refused network.
func (g *Guard) Check(ip netip.Addr) error {
	if g.Empty() {
		return nil
	}
	ip = ip.Unmap()
	for _, b := range g.nets {
		if b.prefix.Contains(ip) {
			return fmt.Errorf("address %s is in a refused network (%s): %w", ip, b.name, ErrRefused)
		}
	}
	return nil
}

// control is a net.Dialer Control function: it sees the address about to
// be connected to, after resolution.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	return g.Check(ip)
}

type contextKey struct{}

// WithContext returns ctx carrying g: connections made by DialContext (and
// Transport) for requests with this context are checked against it.
func WithContext(ctx context.Context, g *Guard) context.Context {
	if g.Empty() {
		return ctx
	}
	return context.WithValue(ctx, contextKey{}, g)
}

// FromContext returns the Guard of ctx, or nil.
func FromContext(ctx context.Context) *Guard {
	g, _ := ctx.Value(contextKey{}).(*Guard)
	return g
}

// dialer is net/http's default dialer's settings.
var dialer = net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}

// DialContext dials like net/http's default transport, refusing what the
// Guard of ctx refuses.
func DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	g := FromContext(ctx)
	if g.Empty() {
		return dialer.DialContext(ctx, network, address)
	}
	d := dialer
	d.Control = g.control
	return d.DialContext(ctx, network, address)
}

// Transport returns a clone of base (http.DefaultTransport when nil) that
// dials with DialContext. Connections are pooled per host as usual; a
// pooled connection was checked when it was made.
func Transport(base *http.Transport) *http.Transport {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	t := base.Clone()
	t.DialContext = DialContext
	return t
}

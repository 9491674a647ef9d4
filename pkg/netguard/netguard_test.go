package netguard_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
)

func TestParse_NamesAndCIDRs(t *testing.T) {
	g, err := netguard.Parse([]string{"link-local", "loopback", "203.0.113.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	for addr, refused := range map[string]bool{
		"169.254.169.254": true, "127.0.0.1": true, "127.9.9.9": true, "::1": true, "0.0.0.0": true,
		"::ffff:127.0.0.1": true, "203.0.113.7": true, "fe80::1": true,
		"10.0.0.1": false, "192.0.2.1": false, "2001:db8::1": false,
	} {
		err := g.Check(netip.MustParseAddr(addr))
		if got := errors.Is(err, netguard.ErrRefused); got != refused {
			t.Errorf("%s: refused = %v (%v), want %v", addr, got, err, refused)
		}
	}
	if _, err := netguard.Parse([]string{"internal"}); err == nil {
		t.Error("an unknown name is accepted")
	}
	var none *netguard.Guard
	if err := none.Check(netip.MustParseAddr("127.0.0.1")); err != nil || !none.Empty() {
		t.Errorf("a nil guard refuses: %v", err)
	}
}

// TestTransport_RefusesAtDialTimeAfterRedirectsAndResolution serves on
// 127.0.0.1 and 127.0.0.2 (both loopback on Linux): the guard refuses only
// 127.0.0.2, and a redirect to it, or a name that resolves to it, is
// refused when the connection is made.
func TestTransport_RefusesAtDialTimeAfterRedirectsAndResolution(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 on this machine: %v", err)
	}
	inner := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("metadata")) }))
	inner.Listener = l
	inner.Start()
	t.Cleanup(inner.Close)
	outer := httptest.NewServer(http.RedirectHandler(inner.URL+"/latest/meta-data", http.StatusFound))
	t.Cleanup(outer.Close)

	g, err := netguard.Parse([]string{"127.0.0.2/32"})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: netguard.Transport(nil)}
	get := func(ctx context.Context, url string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	guarded := netguard.WithContext(context.Background(), g)
	if err := get(guarded, outer.URL); !errors.Is(err, netguard.ErrRefused) || !strings.Contains(err.Error(), "127.0.0.2") {
		t.Errorf("redirect to a refused address: %v", err)
	}
	if err := get(guarded, inner.URL); !errors.Is(err, netguard.ErrRefused) {
		t.Errorf("a refused address: %v", err)
	}
	// Without a guard in the context the transport dials as usual.
	if err := get(context.Background(), outer.URL); err != nil {
		t.Errorf("unguarded: %v", err)
	}

	// A name resolving to a refused address is refused: localhost is
	// loopback.
	lo, _ := netguard.Parse([]string{"loopback"})
	if err := get(netguard.WithContext(context.Background(), lo), strings.Replace(outer.URL, "127.0.0.1", "localhost", 1)); !errors.Is(err, netguard.ErrRefused) {
		t.Errorf("a name that resolves to loopback: %v", err)
	}
}

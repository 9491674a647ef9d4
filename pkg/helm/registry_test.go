package helm

import (
	"context"
	"errors"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/helm/helmtest"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
)

func TestRegistry_ResolvesAndPullsChartsWithCredentialsAndTLS(t *testing.T) {
	checkHome := isolateHelmHome(t)
	reg := ocitest.NewRegistry(t, ocitest.Options{Username: "u", Password: "p", TLS: true})
	push := helmtest.PushOptions{Username: "u", Password: "p", CA: reg.CACert()}
	charts := map[string][]byte{}
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0-rc.1", "1.2.0+build.7"} {
		charts[v] = helmtest.SimpleChart(t, "app", v)
		helmtest.Push(t, reg.Host, "charts", charts[v], push)
	}
	repoURL := reg.URL("charts")
	host := RegistryHost{Host: reg.Host, Username: "u", Password: "p", TLS: &TLSConfig{CA: reg.CACert()}}
	newRegistry := func(ctx context.Context, h RegistryHost, maxSize int64) *Registry {
		t.Helper()
		r, err := NewRegistry(ctx, RegistryOptions{Hosts: []RegistryHost{h}, MaxSize: maxSize, UserAgent: "test", WorkDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := newRegistry(context.Background(), host, 1<<20)
	for _, tc := range []struct {
		chart, constraint, want string
		wantErr                 error
	}{
		{"app", "", "1.2.0+build.7", nil},
		{"app", ">=1.0.0 <1.2.0", "1.1.0", nil},
		{"app", "1.0.0", "1.0.0", nil},
		{"app", ">=2.0.0-0", "2.0.0-rc.1", nil},
		{"app", ">=3.0.0", "", ErrVersionNotFound},
		{"app", "not a range", "", ErrVersionNotFound},
		{"nope", "*", "", ErrChartNotFound},
	} {
		got, err := r.ResolveVersion(repoURL, tc.chart, tc.constraint)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("ResolveVersion(%q, %q) error %v, want %v", tc.chart, tc.constraint, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ResolveVersion(%q, %q) = %q, %v; want %s", tc.chart, tc.constraint, got, err, tc.want)
		}
	}
	for _, v := range []string{"1.1.0", "1.2.0+build.7"} {
		data, err := r.Pull(repoURL, "app", v)
		if err != nil {
			t.Fatal(err)
		}
		if digestOf(data) != digestOf(charts[v]) {
			t.Errorf("pulled %s is not the pushed chart", v)
		}
	}
	checkHome()

	wrong := host
	wrong.Password = "wrong"
	if _, err := newRegistry(context.Background(), wrong, 0).Pull(repoURL, "app", "1.0.0"); !errors.Is(err, ErrAuthentication) {
		t.Errorf("wrong password: %v", err)
	}
	untrusted := host
	untrusted.TLS = nil
	if _, err := newRegistry(context.Background(), untrusted, 0).Pull(repoURL, "app", "1.0.0"); err == nil {
		t.Error("a registry with an untrusted certificate was pulled from")
	}
	if _, err := newRegistry(context.Background(), host, 300).Pull(repoURL, "app", "1.0.0"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("size cap: %v", err)
	}
	guard, _ := netguard.Parse([]string{"loopback"})
	if _, err := newRegistry(netguard.WithContext(context.Background(), guard), host, 0).ResolveVersion(repoURL, "app", "*"); !errors.Is(err, netguard.ErrRefused) {
		t.Errorf("guarded: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newRegistry(ctx, host, 0).Pull(repoURL, "app", "1.0.0"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	for _, bad := range []string{"https://h/charts", "oci://", "oci://user:pw@h/charts"} {
		if _, err := r.ResolveVersion(bad, "app", "*"); !errors.Is(err, ErrInvalidURL) {
			t.Errorf("ResolveVersion(%q) = %v", bad, err)
		}
	}
}

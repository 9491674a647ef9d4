package oci_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
)

func dockerConfig(host, user, pass string) []byte {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	return fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, host, auth)
}

func TestCredentialsFromDockerConfig_MatchesTheRegistryHost(t *testing.T) {
	tests := []struct {
		name, url, key string
		want           bool
	}{
		{"host and port", "oci://127.0.0.1:5000/app", "127.0.0.1:5000", true},
		{"with scheme and path", "oci://ghcr.io/org/app", "https://ghcr.io/v2/", true},
		{"docker hub alias", "oci://docker.io/org/app", "https://index.docker.io/v1/", true},
		{"other port", "oci://127.0.0.1:5000/app", "127.0.0.1:5001", false},
		{"other host", "oci://ghcr.io/org/app", "quay.io", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := oci.CredentialsFromDockerConfig(tt.url, dockerConfig(tt.key, "flux", "s3cret"))
			if err != nil {
				t.Fatal(err)
			}
			if (c != nil) != tt.want {
				t.Fatalf("credentials = %v, want found=%v", c, tt.want)
			}
			if c != nil && (c.Username != "flux" || c.Password != "s3cret") {
				t.Errorf("username/password not decoded")
			}
		})
	}
}

func TestCredentialsFromDockerConfig_ErrorsDoNotQuoteTheSecret(t *testing.T) {
	for _, cfg := range []string{
		`{"auths": s3cret-password`,
		`{"auths":{"ghcr.io":{"auth":"s3cret-password!!"}}}`,
		`{"auths":{"ghcr.io":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("s3cret-password")) + `"}}}`,
	} {
		_, err := oci.CredentialsFromDockerConfig("oci://ghcr.io/app", []byte(cfg))
		if !errors.Is(err, oci.ErrInvalidOptions) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("err = %v", err)
		}
	}
}

func TestAuth_BasicAuthRegistry(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{Username: "flux", Password: "right-password"})
	reg.Push(t, "app", "latest", ocitest.Image(t, map[string]string{"a": "b"}, nil, ""))

	good, err := oci.CredentialsFromDockerConfig(reg.URL("app"), dockerConfig(reg.Host, "flux", "right-password"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oci.Resolve(context.Background(), oci.Options{URL: reg.URL("app"), Credentials: good}); err != nil {
		t.Fatalf("right password: %v", err)
	}

	for name, creds := range map[string]*oci.Credentials{
		"anonymous":      nil,
		"wrong password": {Username: "flux", Password: "wrong-password-7"},
	} {
		_, err := oci.Resolve(context.Background(), oci.Options{URL: reg.URL("app"), Credentials: creds})
		if !errors.Is(err, oci.ErrAuthentication) {
			t.Errorf("%s: err = %v, want ErrAuthentication", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "wrong-password-7") {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
}

func TestTLS_CustomCA(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{TLS: true})
	reg.Push(t, "app", "latest", ocitest.Image(t, map[string]string{"a": "b"}, nil, ""))

	if _, err := oci.Resolve(context.Background(), oci.Options{URL: reg.URL("app")}); err == nil {
		t.Error("a registry with an unknown CA was trusted")
	}
	tlsCfg, err := oci.TLSFromSecret(map[string][]byte{oci.CACertKey: reg.CACert()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oci.Resolve(context.Background(), oci.Options{URL: reg.URL("app"), TLS: tlsCfg}); err != nil {
		t.Fatalf("with ca.crt: %v", err)
	}
}

func TestTLSFromSecret_Validates(t *testing.T) {
	if _, err := oci.TLSFromSecret(map[string][]byte{oci.TLSCertKey: []byte("x")}); !errors.Is(err, oci.ErrInvalidOptions) {
		t.Errorf("cert without key: %v", err)
	}
	if _, err := oci.TLSFromSecret(map[string][]byte{}); !errors.Is(err, oci.ErrInvalidOptions) {
		t.Errorf("empty: %v", err)
	}
	bad, _ := oci.TLSFromSecret(map[string][]byte{oci.CACertKey: []byte("not pem")})
	_, err := oci.Resolve(context.Background(), oci.Options{URL: "oci://127.0.0.1:1/app", TLS: bad})
	if !errors.Is(err, oci.ErrInvalidOptions) {
		t.Errorf("bad CA: %v", err)
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Package tlsconfig builds client TLS configurations from the PEM material
// of a Flux certSecretRef Secret (ca.crt, tls.crt, tls.key): one helper
// for every worker that talks TLS to a tenant-named server. Errors never
// quote key material.
package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// Keys of a certSecretRef Secret.
const (
	CAKey   = "ca.crt"
	CertKey = "tls.crt"
	KeyKey  = "tls.key"
)

// FromPEM returns a client configuration (TLS 1.2 at least) trusting ca
// besides the system roots and presenting cert/key when given. With
// nothing given it is the default configuration.
func FromPEM(ca, cert, key []byte) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(ca) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("%s holds no PEM certificate", CAKey)
		}
		cfg.RootCAs = pool
	}
	if (len(cert) == 0) != (len(key) == 0) {
		return nil, fmt.Errorf("%s and %s must be given together", CertKey, KeyKey)
	}
	if len(cert) > 0 {
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			// The parser's error does not quote the key material.
			return nil, fmt.Errorf("invalid client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// ErrEmpty is returned by FromSecret for a Secret with none of the keys.
var ErrEmpty = errors.New("the secret has none of " + CAKey + ", " + CertKey + ", " + KeyKey)

// FromSecret is FromPEM of a certSecretRef Secret's data, which must hold
// at least one of the keys.
func FromSecret(data map[string][]byte) (*tls.Config, error) {
	ca, cert, key := data[CAKey], data[CertKey], data[KeyKey]
	if len(ca) == 0 && len(cert) == 0 && len(key) == 0 {
		return nil, ErrEmpty
	}
	return FromPEM(ca, cert, key)
}

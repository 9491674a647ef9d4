package tlsconfig

import (
	"errors"
	"strings"
	"testing"
)

func TestFromSecret_NeedsSomethingAndNeverQuotesKeys(t *testing.T) {
	if _, err := FromSecret(map[string][]byte{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	if _, err := FromSecret(map[string][]byte{CAKey: []byte("not pem")}); err == nil || !strings.Contains(err.Error(), CAKey) {
		t.Errorf("bad CA: %v", err)
	}
	if _, err := FromSecret(map[string][]byte{CertKey: []byte("c")}); err == nil || !strings.Contains(err.Error(), "together") {
		t.Errorf("cert without key: %v", err)
	}
	const secret = "PRIVATE-KEY-MATERIAL"
	_, err := FromSecret(map[string][]byte{CertKey: []byte("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"), KeyKey: []byte(secret)})
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("bad pair: %v", err)
	}
	cfg, err := FromPEM(nil, nil, nil)
	if err != nil || cfg.MinVersion == 0 {
		t.Errorf("default: %+v %v", cfg, err)
	}
}

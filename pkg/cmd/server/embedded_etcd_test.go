package server

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestEmbeddedEtcd_RequiresClientCertificates: only a client presenting the
// certificate made for gitops-apiserver can use the embedded etcd.
func TestEmbeddedEtcd_RequiresClientCertificates(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e, err := startEmbeddedEtcd(ctx, filepath.Join(t.TempDir(), "etcd"))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	put := func(tlsInfo transport.TLSInfo) error {
		tlsCfg, err := tlsInfo.ClientConfig()
		if err != nil {
			return err
		}
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{e.clientURL}, TLS: tlsCfg, DialTimeout: 3 * time.Second})
		if err != nil {
			return err
		}
		defer c.Close()
		opCtx, opCancel := context.WithTimeout(ctx, 5*time.Second)
		defer opCancel()
		_, err = c.Put(opCtx, "/probe", "x")
		return err
	}
	if err := put(transport.TLSInfo{TrustedCAFile: e.caFile}); err == nil {
		t.Error("a client without a certificate wrote to the embedded etcd")
	}
	if err := put(transport.TLSInfo{TrustedCAFile: e.caFile, CertFile: e.client.CertFile, KeyFile: e.client.KeyFile}); err != nil {
		t.Errorf("gitops-apiserver's certificate was refused: %v", err)
	}
}

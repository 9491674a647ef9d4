package server

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/klog/v2"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/deploy"
)

// embeddedEtcd is a single-member etcd serving only loopback, so one binary
// runs with no other service. Its client and peer ports require TLS client
// certificates (made at every start, in a 0700 directory), so no other
// process sharing the network namespace can read or write the objects.
type embeddedEtcd struct {
	etcd      *embed.Etcd
	clientURL string
	// client is the certificate gitops-apiserver presents; caFile signs it
	// and the server certificate.
	client deploy.KeyPair
	caFile string
}

// startEmbeddedEtcd starts etcd with its data in dir and waits until it
// serves.
func startEmbeddedEtcd(ctx context.Context, dir string) (*embeddedEtcd, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	clientURL, err := freeLoopbackURL()
	if err != nil {
		return nil, err
	}
	peerURL, err := freeLoopbackURL()
	if err != nil {
		return nil, err
	}
	// With HTTP (health, metrics) on a port of its own, the client port
	// serves gRPC natively instead of through net/http's HTTP/2 server,
	// which is cheaper per request.
	httpURL, err := freeLoopbackURL()
	if err != nil {
		return nil, err
	}
	pki, err := etcdPKI(filepath.Join(filepath.Dir(dir), "etcd-pki"))
	if err != nil {
		return nil, fmt.Errorf("certificates for the embedded etcd: %w", err)
	}
	cfg := embed.NewConfig()
	cfg.Name = "gitops-apiserver"
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.ListenClientHttpUrls = []url.URL{*httpURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.Name + "=" + peerURL.String()
	cfg.ClientTLSInfo = transport.TLSInfo{CertFile: pki.server.CertFile, KeyFile: pki.server.KeyFile, TrustedCAFile: pki.ca, ClientCertAuth: true}
	cfg.PeerTLSInfo = cfg.ClientTLSInfo
	cfg.LogLevel = "warn"
	// "new" only matters on the first start: with data in dir, etcd
	// restarts its existing single-member cluster.
	cfg.ClusterState = embed.ClusterStateFlagNew
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s not ready after 60s", dir)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	klog.InfoS("Embedded etcd ready", "dataDir", dir, "url", clientURL.String())
	return &embeddedEtcd{etcd: e, clientURL: clientURL.String(), client: pki.client, caFile: pki.ca}, nil
}

type etcdCerts struct {
	ca             string
	server, client deploy.KeyPair
}

// etcdPKI makes a fresh CA, a loopback server certificate and a client
// certificate in dir (replacing any from an earlier start).
func etcdPKI(dir string) (*etcdCerts, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ca, err := deploy.NewCA(dir, "etcd")
	if err != nil {
		return nil, err
	}
	server, err := ca.Serving(dir, "etcd-server", "localhost")
	if err != nil {
		return nil, err
	}
	// etcd checks peer certificates for client use too.
	client, err := ca.Client(dir, "etcd-client", "gitops-apiserver")
	if err != nil {
		return nil, err
	}
	return &etcdCerts{ca: ca.CertFile, server: server, client: client}, nil
}

// Close stops etcd.
func (e *embeddedEtcd) Close() { e.etcd.Close() }

// freeLoopbackURL finds a free loopback port. Another process could take it
// before etcd listens; on loopback of one machine that is unlikely and shows
// up as a clear startup error.
func freeLoopbackURL() (*url.URL, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return nil, err
	}
	return &url.URL{Scheme: "https", Host: addr}, nil
}

package framework

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/deploy"
)

func (cp *ControlPlane) startEtcd(ctx context.Context) error {
	p, err := startProcess(cp.opts.Dir, "etcd", filepath.Join(cp.opts.BinDir, "etcd"),
		"--data-dir="+filepath.Join(cp.opts.Dir, "etcd-data"),
		"--listen-client-url="+cp.etcdClientURL,
		"--listen-peer-url="+cp.etcdPeerURL)
	if err != nil {
		return err
	}
	cp.etcd = p
	client := &http.Client{Timeout: 2 * time.Second}
	return poll(ctx, 60*time.Second, p, "etcd health", func() (bool, error) {
		resp, err := client.Get(cp.etcdClientURL + "/health")
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

func (cp *ControlPlane) startKubeAPIServer(ctx context.Context) error {
	k := cp.pki
	p, err := startProcess(cp.opts.Dir, "kube-apiserver", filepath.Join(cp.opts.BinDir, "kube-apiserver"),
		"--etcd-servers="+cp.etcdClientURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(cp.kubePort),
		"--cert-dir="+filepath.Join(cp.opts.Dir, "kube-apiserver-certs"),
		"--tls-cert-file="+k.kubeServing.CertFile,
		"--tls-private-key-file="+k.kubeServing.KeyFile,
		"--client-ca-file="+k.clientCA.CertFile,
		"--service-account-key-file="+k.serviceAccountKey,
		"--service-account-signing-key-file="+k.serviceAccountKey,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=RBAC",
		// The aggregation layer: kube-apiserver proxies our groups to
		// gitops-apiserver, presenting this client certificate and the
		// user in X-Remote-* headers.
		"--requestheader-client-ca-file="+k.frontProxyCA.CertFile,
		"--requestheader-allowed-names="+FrontProxyUser,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file="+k.frontProxyClient.CertFile,
		"--proxy-client-key-file="+k.frontProxyClient.KeyFile,
		// No nodes or cluster network: do not publish loopback endpoints.
		"--endpoint-reconciler-type=none",
	)
	if err != nil {
		return err
	}
	cp.kubeAPIServer = p
	cp.Kubeconfig = filepath.Join(cp.opts.Dir, "kubeconfig")
	cp.GitOpsKubeconfig = filepath.Join(cp.opts.Dir, "gitops-apiserver.kubeconfig")
	if err := cp.writeKubeconfig(cp.Kubeconfig, "admin", k.admin); err != nil {
		return err
	}
	if err := cp.writeKubeconfig(cp.GitOpsKubeconfig, "gitops-apiserver", k.gitopsClient); err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		return err
	}
	return poll(ctx, 120*time.Second, p, "kube-apiserver /readyz", func() (bool, error) {
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", err
	})
}

func (cp *ControlPlane) writeKubeconfig(file, user string, kp deploy.KeyPair) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{
		Server:               fmt.Sprintf("https://127.0.0.1:%d", cp.kubePort),
		CertificateAuthority: cp.pki.serverCA.CertFile,
	}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificate: kp.CertFile, ClientKey: kp.KeyFile}
	cfg.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: user}
	cfg.CurrentContext = "local"
	return clientcmd.WriteToFile(*cfg, file)
}

// gitopsReady checks gitops-apiserver's own /readyz (not through the
// aggregator); it is readable without credentials.
func (cp *ControlPlane) gitopsReady() (bool, error) {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		// The serving CA is ours; readiness needs no verification.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback health probe
	}}
	resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/readyz", cp.gitopsPort))
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

func withCodec(cfg *rest.Config) *rest.Config {
	cfg.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	return cfg
}

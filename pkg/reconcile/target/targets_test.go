package target

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// kubeconfig returns a config with one cluster and one user, each with
// inline credentials, changed by mutate.
func kubeconfig(mutate func(*clientcmdapi.Cluster, *clientcmdapi.AuthInfo)) *clientcmdapi.Config {
	c := &clientcmdapi.Cluster{Server: "https://remote.example:6443", CertificateAuthorityData: []byte("ca")}
	u := &clientcmdapi.AuthInfo{Token: "t0ken", ClientCertificateData: []byte("cert"), ClientKeyData: []byte("key")}
	if mutate != nil {
		mutate(c, u)
	}
	return &clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{"remote": c},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{"admin": u},
		Contexts:       map[string]*clientcmdapi.Context{"remote": {Cluster: "remote", AuthInfo: "admin"}},
		CurrentContext: "remote",
	}
}

func TestCheckKubeConfig_RefusesPluginsAndServerFiles(t *testing.T) {
	const subject = "Secret/apps/remote"
	exec := &clientcmdapi.ExecConfig{Command: "aws", APIVersion: "client.authentication.k8s.io/v1"}
	tests := []struct {
		name      string
		mutate    func(*clientcmdapi.Cluster, *clientcmdapi.AuthInfo)
		allowExec bool
		// wantErr is the whole message; empty means accepted.
		wantErr string
	}{
		{name: "inline data accepted"},
		{name: "basic auth accepted", mutate: func(_ *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) {
			*u = clientcmdapi.AuthInfo{Username: "u", Password: "p"}
		}},
		{name: "exec plugin refused", mutate: func(_ *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) { u.Exec = exec },
			wantErr: `kubeconfig Secret/apps/remote: user "admin" uses an exec credential plugin, which this server refuses (start it with --insecure-kubeconfig-exec to allow)`},
		{name: "exec plugin allowed", allowExec: true, mutate: func(_ *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) { u.Exec = exec }},
		{name: "auth provider refused", mutate: func(_ *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) {
			u.AuthProvider = &clientcmdapi.AuthProviderConfig{Name: "gcp"}
		}, wantErr: `kubeconfig Secret/apps/remote: user "admin" uses an auth-provider plugin, which is not supported`},
		{name: "auth provider refused when exec is allowed", allowExec: true, mutate: func(_ *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) {
			u.AuthProvider = &clientcmdapi.AuthProviderConfig{Name: "oidc"}
		}, wantErr: `kubeconfig Secret/apps/remote: user "admin" uses an auth-provider plugin, which is not supported`},
		{name: "token file refused", mutate: func(_ *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) { u.TokenFile = "/var/run/token" },
			wantErr: `kubeconfig Secret/apps/remote: user "admin" refers to files on the server's disk, which is refused`},
		{name: "client certificate file refused", mutate: func(_ *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) {
			u.ClientCertificate = "/etc/tls.crt"
		}, wantErr: `kubeconfig Secret/apps/remote: user "admin" refers to files on the server's disk, which is refused`},
		{name: "client key file refused", mutate: func(_ *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) { u.ClientKey = "/etc/tls.key" },
			wantErr: `kubeconfig Secret/apps/remote: user "admin" refers to files on the server's disk, which is refused`},
		{name: "certificate authority file refused", mutate: func(c *clientcmdapi.Cluster, _ *clientcmdapi.AuthInfo) {
			c.CertificateAuthority = "/etc/ca.crt"
		}, wantErr: `kubeconfig Secret/apps/remote: cluster "remote" refers to a CA file on the server's disk, which is refused`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkKubeConfig(subject, kubeconfig(tt.mutate), tt.allowExec)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("checkKubeConfig: %v, want accepted", err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			// Changing the kubeconfig is the only fix: no retry before that.
			if outcome, reason := loop.Classify(err, ""); outcome != loop.Stalled || reason != reconciliationFailedReason {
				t.Errorf("outcome %v %q, want Stalled %q", outcome, reason, reconciliationFailedReason)
			}
			if strings.Contains(err.Error(), "t0ken") {
				t.Errorf("error %q shows a credential", err)
			}
		})
	}
}

func TestTargetsConfig_ImpersonatesTheServiceAccount(t *testing.T) {
	tests := []struct {
		name           string
		serviceAccount string
		defaultSA      string
		wantUser       string
		wantKey        string
	}{
		{name: "own identity", wantKey: "host"},
		{name: "serviceAccountName", serviceAccount: "deployer",
			wantUser: "system:serviceaccount:apps:deployer", wantKey: "host|system:serviceaccount:apps:deployer"},
		{name: "default service account", defaultSA: "kustomize",
			wantUser: "system:serviceaccount:apps:kustomize", wantKey: "host|system:serviceaccount:apps:kustomize"},
		{name: "serviceAccountName wins over the default", serviceAccount: "deployer", defaultSA: "kustomize",
			wantUser: "system:serviceaccount:apps:deployer", wantKey: "host|system:serviceaccount:apps:deployer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := &rest.Config{Host: "https://127.0.0.1:1", QPS: 5, Burst: 10}
			targets := &Targets{HostConfig: host, DefaultServiceAccount: tt.defaultSA, UserAgent: "gitops-apiserver/kustomize-controller"}
			obj := Ref{Namespace: "apps", ServiceAccountName: tt.serviceAccount}

			cfg, key, err := targets.config(context.Background(), obj)
			if err != nil {
				t.Fatalf("config: %v", err)
			}
			if cfg.Impersonate.UserName != tt.wantUser {
				t.Errorf("impersonated user %q, want %q", cfg.Impersonate.UserName, tt.wantUser)
			}
			if key != tt.wantKey {
				t.Errorf("key %q, want %q", key, tt.wantKey)
			}
			if cfg.Host != host.Host {
				t.Errorf("host %q, want %q", cfg.Host, host.Host)
			}
			if !strings.HasSuffix(cfg.UserAgent, "/gitops-apiserver/kustomize-controller") {
				t.Errorf("user agent %q, want the worker's", cfg.UserAgent)
			}
			if cfg.QPS != 5 || cfg.Burst != 10 {
				t.Errorf("QPS %v Burst %d, want the host config's 5 and 10 when Targets sets none", cfg.QPS, cfg.Burst)
			}
			if host.Impersonate.UserName != "" || host.UserAgent != "" {
				t.Errorf("HostConfig changed: %+v", host)
			}
		})
	}
}

func TestTargetsConfig_SetsQPSAndBurst(t *testing.T) {
	targets := &Targets{HostConfig: &rest.Config{Host: "https://127.0.0.1:1"}, QPS: 50, Burst: 100}
	cfg, _, err := targets.config(context.Background(), Ref{Namespace: "apps"})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if cfg.QPS != 50 || cfg.Burst != 100 {
		t.Errorf("QPS %v Burst %d, want 50 and 100", cfg.QPS, cfg.Burst)
	}
}

const remoteKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: remote
  cluster:
    server: https://remote.example:6443
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: t0ken
contexts:
- name: remote
  context: {cluster: remote, user: admin}
current-context: remote
`

const execKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: remote
  cluster: {server: "https://remote.example:6443"}
users:
- name: admin
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}
contexts:
- name: remote
  context: {cluster: remote, user: admin}
current-context: remote
`

func TestTargetsConfig_ReadsKubeConfigFromSecret(t *testing.T) {
	tests := []struct {
		name       string
		data       map[string][]byte
		ref        *common.KubeConfigReference
		sa         string
		wantHost   string
		wantKey    string
		wantErr    string
		wantStall  bool
		hostSecret bool
	}{
		{name: "key value", data: map[string][]byte{"value": []byte(remoteKubeconfig)},
			ref: &common.KubeConfigReference{SecretRef: &common.SecretKeyReference{Name: "remote"}},
			sa:  "deployer", wantHost: "https://remote.example:6443",
			wantKey: "secret:apps/remote[value]@42|system:serviceaccount:apps:deployer"},
		{name: "key value.yaml", data: map[string][]byte{"value.yaml": []byte(remoteKubeconfig)},
			ref:      &common.KubeConfigReference{SecretRef: &common.SecretKeyReference{Name: "remote"}},
			wantHost: "https://remote.example:6443", wantKey: "secret:apps/remote[value.yaml]@42"},
		{name: "named key", data: map[string][]byte{"value": []byte("junk"), "cfg": []byte(remoteKubeconfig)},
			ref:      &common.KubeConfigReference{SecretRef: &common.SecretKeyReference{Name: "remote", Key: "cfg"}},
			wantHost: "https://remote.example:6443", wantKey: "secret:apps/remote[cfg]@42"},
		// Another key of the same Secret is another cluster or identity:
		// its clients and watches are never shared with the first.
		{name: "another named key", data: map[string][]byte{"value": []byte("junk"), "cfg": []byte(remoteKubeconfig), "prod": []byte(remoteKubeconfig)},
			ref:      &common.KubeConfigReference{SecretRef: &common.SecretKeyReference{Name: "remote", Key: "prod"}},
			wantHost: "https://remote.example:6443", wantKey: "secret:apps/remote[prod]@42"},
		{name: "configMapRef unsupported", ref: &common.KubeConfigReference{ConfigMapRef: &common.LocalObjectReference{Name: "aws"}},
			wantStall: true, wantErr: "spec.kubeConfig.configMapRef: workload identity kubeconfigs are not supported by this server; use secretRef"},
		{name: "missing Secret", ref: &common.KubeConfigReference{SecretRef: &common.SecretKeyReference{Name: "other"}},
			wantErr: "kubeconfig Secret/apps/other not found"},
		{name: "missing key", data: map[string][]byte{"value": []byte(remoteKubeconfig)},
			ref:       &common.KubeConfigReference{SecretRef: &common.SecretKeyReference{Name: "remote", Key: "cfg"}},
			wantStall: true, wantErr: `kubeconfig Secret/apps/remote has no key "cfg"`},
		{name: "not a kubeconfig", data: map[string][]byte{"value": []byte("{not yaml: [t0ken")},
			ref:       &common.KubeConfigReference{SecretRef: &common.SecretKeyReference{Name: "remote"}},
			wantStall: true, wantErr: `kubeconfig Secret/apps/remote key "value" is not a valid kubeconfig`},
		{name: "exec refused", data: map[string][]byte{"value": []byte(execKubeconfig)},
			ref:       &common.KubeConfigReference{SecretRef: &common.SecretKeyReference{Name: "remote"}},
			wantStall: true, wantErr: `kubeconfig Secret/apps/remote: user "admin" uses an exec credential plugin, which this server refuses (start it with --insecure-kubeconfig-exec to allow)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "remote", ResourceVersion: "42"},
				Data:       tt.data,
			}
			host := &rest.Config{Host: "https://127.0.0.1:1"}
			targets := &Targets{HostConfig: host, Host: fake.NewSimpleClientset(secret), UserAgent: "gitops-apiserver/kustomize-controller"}
			obj := Ref{Namespace: "apps", KubeConfig: tt.ref, ServiceAccountName: tt.sa}

			cfg, key, err := targets.config(context.Background(), obj)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if outcome, _ := loop.Classify(err, ""); (outcome == loop.Stalled) != tt.wantStall {
					t.Errorf("outcome %v, want stalled %v", outcome, tt.wantStall)
				}
				return
			}
			if err != nil {
				t.Fatalf("config: %v", err)
			}
			if cfg.Host != tt.wantHost || key != tt.wantKey {
				t.Errorf("host %q key %q, want %q %q", cfg.Host, key, tt.wantHost, tt.wantKey)
			}
			if cfg.BearerToken != "t0ken" {
				t.Errorf("the remote config does not carry the kubeconfig's token")
			}
			if !strings.HasSuffix(cfg.UserAgent, "/gitops-apiserver/kustomize-controller") {
				t.Errorf("user agent %q, want the worker's", cfg.UserAgent)
			}
		})
	}
}

// TestTargetsConfig_RemoteDialsAreGuardedWithoutTheRunsContext: a remote
// target's config checks --source-deny-networks itself, so clients that
// dial with a context of their own (informers, Helm's kube client and
// discovery) are refused too. The host cluster is never checked.
func TestTargetsConfig_RemoteDialsAreGuardedWithoutTheRunsContext(t *testing.T) {
	guard, err := netguard.Parse([]string{"loopback"})
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "remote", ResourceVersion: "42"},
		Data: map[string][]byte{"value": []byte(strings.Replace(remoteKubeconfig, "https://remote.example:6443", "https://127.0.0.1:1", 1))}}
	targets := &Targets{HostConfig: &rest.Config{Host: "https://127.0.0.1:2"}, Host: fake.NewSimpleClientset(secret), Guard: guard}

	cfg, _, err := targets.config(context.Background(), Ref{Namespace: "apps",
		KubeConfig: &common.KubeConfigReference{SecretRef: &common.SecretKeyReference{Name: "remote"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Dial(context.Background(), "tcp", "127.0.0.1:1"); !errors.Is(err, netguard.ErrRefused) {
		t.Errorf("a dial without the run's context reached a refused network: %v", err)
	}
	host, _, err := targets.config(context.Background(), Ref{Namespace: "apps"})
	if err != nil {
		t.Fatal(err)
	}
	if host.Dial != nil {
		t.Error("the host cluster's dialer is guarded")
	}
}

// Package target hands out clients for the cluster an applier (a
// Kustomization or a HelmRelease) acts on: the host cluster, or the cluster
// of spec.kubeConfig, as the server's identity or impersonating
// spec.serviceAccountName. Clients are cached per cluster and identity.
package target

import (
	"context"
	"fmt"
	"net"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// maxTargets bounds the cache of apply managers (one per cluster and
// identity); past it the cache starts over.
const maxTargets = 256

// reconciliationFailedReason is the condition reason of target errors; it
// is the same word for Kustomizations and HelmReleases.
const reconciliationFailedReason = "ReconciliationFailed"

// Ref names an object's target.
type Ref struct {
	// Namespace is the object's namespace: where kubeconfig Secrets and
	// service accounts are looked up.
	Namespace string
	// KubeConfig is spec.kubeConfig; nil targets the host cluster.
	KubeConfig *common.KubeConfigReference
	// ServiceAccountName is spec.serviceAccountName.
	ServiceAccountName string
}

// Target is the cluster and identity an object acts with.
type Target struct {
	// Manager applies, diffs and waits as Targets.Owner.
	Manager *ssa.Manager
	// Config reaches the target (for other clients, e.g. Helm's).
	Config *rest.Config
	// Key names the cluster and identity, for caches of other clients.
	Key string
}

// Targets hands out the Target of an object: the host cluster or the
// cluster of spec.kubeConfig, as our own identity or impersonating
// spec.serviceAccountName. Targets are cached per cluster and identity so
// their discovery and resourceVersion caches are shared.
type Targets struct {
	// Owner is the field manager (and annotation group) of the appliers.
	Owner ssa.Owner
	// UserAgent names the worker in the target's audit log.
	UserAgent string
	// HostConfig reaches the host cluster as the server's identity.
	HostConfig *rest.Config
	// Host reads kubeconfig Secrets.
	Host kubernetes.Interface
	// AllowExec lets kubeconfigs run exec credential plugins.
	AllowExec bool
	// DefaultServiceAccount is impersonated when spec.serviceAccountName
	// is empty.
	DefaultServiceAccount string
	// QPS and Burst of the clients built for targets.
	QPS   float32
	Burst int
	// Guard refuses remote clusters' addresses (--source-deny-networks).
	// It is bound into their configs, so that every client of a target is
	// checked, whatever context it dials with: informers run on their own
	// context, and Helm's kube client and discovery dial with none of the
	// run's.
	Guard *netguard.Guard

	mu      sync.Mutex
	targets map[string]*Target
}

// For returns the target of ref.
func (t *Targets) For(ctx context.Context, ref Ref) (*Target, error) {
	cfg, key, err := t.config(ctx, ref)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if tg, ok := t.targets[key]; ok {
		return tg, nil
	}
	m, err := ssa.New(cfg, t.Owner)
	if err != nil {
		return nil, loop.Failf(reconciliationFailedReason, "client for the target cluster: %v", err)
	}
	if t.targets == nil || len(t.targets) >= maxTargets {
		t.targets = map[string]*Target{}
	}
	tg := &Target{Manager: m, Config: cfg, Key: key}
	t.targets[key] = tg
	return tg, nil
}

// config returns the rest.Config of ref's target and a key naming it.
func (t *Targets) config(ctx context.Context, ref Ref) (*rest.Config, string, error) {
	cfg := rest.CopyConfig(t.HostConfig)
	key := "host"
	if kc := ref.KubeConfig; kc != nil {
		if kc.SecretRef == nil {
			return nil, "", loop.Stallf(reconciliationFailedReason,
				"spec.kubeConfig.configMapRef: workload identity kubeconfigs are not supported by this server; use secretRef")
		}
		remote, dataKey, rv, err := t.remoteConfig(ctx, ref.Namespace, kc.SecretRef.Name, kc.SecretRef.Key)
		if err != nil {
			return nil, "", err
		}
		cfg = remote
		// A tenant's cluster address is checked like a source URL
		// (--source-deny-networks), at dial time.
		guard := t.Guard
		cfg.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
			return netguard.DialContext(netguard.WithContext(ctx, guard), network, address)
		}
		// Two keys of one Secret are two clusters or identities.
		key = fmt.Sprintf("secret:%s/%s[%s]@%s", ref.Namespace, kc.SecretRef.Name, dataKey, rv)
	}
	sa := ref.ServiceAccountName
	if sa == "" {
		sa = t.DefaultServiceAccount
	}
	if sa != "" {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: fmt.Sprintf("system:serviceaccount:%s:%s", ref.Namespace, sa)}
		key += "|" + cfg.Impersonate.UserName
	}
	if t.UserAgent != "" {
		cfg = rest.AddUserAgent(cfg, t.UserAgent)
	}
	if t.QPS > 0 {
		cfg.QPS, cfg.Burst = t.QPS, t.Burst
	}
	return cfg, key, nil
}

// remoteConfig reads a kubeconfig from a Secret (key "value" or
// "value.yaml" unless named) and refuses exec plugins unless allowed. It
// returns the config, the data key read and the Secret's resourceVersion.
func (t *Targets) remoteConfig(ctx context.Context, namespace, name, key string) (*rest.Config, string, string, error) {
	subject := fmt.Sprintf("Secret/%s/%s", namespace, name)
	secret, err := t.Host.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, "", "", loop.Failf(reconciliationFailedReason, "kubeconfig %s not found", subject)
	}
	if err != nil {
		return nil, "", "", loop.Failf(reconciliationFailedReason, "kubeconfig %s: %v", subject, err)
	}
	var data []byte
	if key != "" {
		data = secret.Data[key]
	} else if d, ok := secret.Data["value"]; ok {
		data, key = d, "value"
	} else {
		data, key = secret.Data["value.yaml"], "value.yaml"
	}
	if len(data) == 0 {
		return nil, "", "", loop.Stallf(reconciliationFailedReason, "kubeconfig %s has no key %q", subject, key)
	}
	raw, err := clientcmd.Load(data)
	if err != nil {
		// The parse error may quote the file; do not repeat it.
		return nil, "", "", loop.Stallf(reconciliationFailedReason, "kubeconfig %s key %q is not a valid kubeconfig", subject, key)
	}
	if err := checkKubeConfig(subject, raw, t.AllowExec); err != nil {
		return nil, "", "", err
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*raw, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, "", "", loop.Stallf(reconciliationFailedReason, "kubeconfig %s: %v", subject, err)
	}
	return cfg, key, secret.ResourceVersion, nil
}

// checkKubeConfig refuses what a kubeconfig from a Secret must not do on
// this server: run exec credential plugins (unless allowExec), use
// auth-provider plugins, or read files from the server's disk.
func checkKubeConfig(subject string, raw *clientcmdapi.Config, allowExec bool) error {
	for name, user := range raw.AuthInfos {
		if user.Exec != nil && !allowExec {
			return loop.Stallf(reconciliationFailedReason,
				"kubeconfig %s: user %q uses an exec credential plugin, which this server refuses (start it with --insecure-kubeconfig-exec to allow)", subject, name)
		}
		if user.AuthProvider != nil {
			return loop.Stallf(reconciliationFailedReason,
				"kubeconfig %s: user %q uses an auth-provider plugin, which is not supported", subject, name)
		}
		if user.TokenFile != "" || user.ClientCertificate != "" || user.ClientKey != "" {
			return loop.Stallf(reconciliationFailedReason,
				"kubeconfig %s: user %q refers to files on the server's disk, which is refused", subject, name)
		}
	}
	for name, c := range raw.Clusters {
		if c.CertificateAuthority != "" {
			return loop.Stallf(reconciliationFailedReason,
				"kubeconfig %s: cluster %q refers to a CA file on the server's disk, which is refused", subject, name)
		}
	}
	return nil
}

package kustomize

import (
	"context"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// maxTargets bounds the cache of apply managers (one per cluster and
// identity); past it the cache starts over.
const maxTargets = 256

// Targets hands out the apply manager of a Kustomization's target: the
// host cluster or the cluster of spec.kubeConfig, as our own identity or
// impersonating spec.serviceAccountName. Managers are cached per target
// so their discovery and resourceVersion caches are shared.
type Targets struct {
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

	mu       sync.Mutex
	managers map[string]*ssa.Manager
}

// For returns the manager obj applies with.
func (t *Targets) For(ctx context.Context, obj *kustomizev1.Kustomization) (*ssa.Manager, error) {
	cfg, key, err := t.config(ctx, obj)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if m, ok := t.managers[key]; ok {
		return m, nil
	}
	m, err := ssa.New(cfg, ssa.Owner{Field: FieldManager, Group: kustomize.GroupName})
	if err != nil {
		return nil, loop.Failf(kustomize.ReconciliationFailedReason, "client for the target cluster: %v", err)
	}
	if t.managers == nil || len(t.managers) >= maxTargets {
		t.managers = map[string]*ssa.Manager{}
	}
	t.managers[key] = m
	return m, nil
}

// config returns the rest.Config of obj's target and a key naming it.
func (t *Targets) config(ctx context.Context, obj *kustomizev1.Kustomization) (*rest.Config, string, error) {
	cfg := rest.CopyConfig(t.HostConfig)
	key := "host"
	if kc := obj.Spec.KubeConfig; kc != nil {
		if kc.SecretRef == nil {
			return nil, "", loop.Stallf(kustomize.ReconciliationFailedReason,
				"spec.kubeConfig.configMapRef: workload identity kubeconfigs are not supported by this server; use secretRef")
		}
		remote, rv, err := t.remoteConfig(ctx, obj.Namespace, kc.SecretRef.Name, kc.SecretRef.Key)
		if err != nil {
			return nil, "", err
		}
		cfg = remote
		// A tenant's cluster address is checked like a source URL
		// (--source-deny-networks), at dial time.
		cfg.Dial = netguard.DialContext
		key = fmt.Sprintf("secret:%s/%s@%s", obj.Namespace, kc.SecretRef.Name, rv)
	}
	sa := obj.Spec.ServiceAccountName
	if sa == "" {
		sa = t.DefaultServiceAccount
	}
	if sa != "" {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: fmt.Sprintf("system:serviceaccount:%s:%s", obj.Namespace, sa)}
		key += "|" + cfg.Impersonate.UserName
	}
	cfg = rest.AddUserAgent(cfg, "gitops-apiserver/kustomize-controller")
	if t.QPS > 0 {
		cfg.QPS, cfg.Burst = t.QPS, t.Burst
	}
	return cfg, key, nil
}

// remoteConfig reads a kubeconfig from a Secret (key "value" or
// "value.yaml" unless named) and refuses exec plugins unless allowed.
func (t *Targets) remoteConfig(ctx context.Context, namespace, name, key string) (*rest.Config, string, error) {
	subject := fmt.Sprintf("Secret/%s/%s", namespace, name)
	secret, err := t.Host.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, "", loop.Failf(kustomize.ReconciliationFailedReason, "kubeconfig %s not found", subject)
	}
	if err != nil {
		return nil, "", loop.Failf(kustomize.ReconciliationFailedReason, "kubeconfig %s: %v", subject, err)
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
		return nil, "", loop.Stallf(kustomize.ReconciliationFailedReason, "kubeconfig %s has no key %q", subject, key)
	}
	raw, err := clientcmd.Load(data)
	if err != nil {
		// The parse error may quote the file; do not repeat it.
		return nil, "", loop.Stallf(kustomize.ReconciliationFailedReason, "kubeconfig %s key %q is not a valid kubeconfig", subject, key)
	}
	if err := checkKubeConfig(subject, raw, t.AllowExec); err != nil {
		return nil, "", err
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*raw, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, "", loop.Stallf(kustomize.ReconciliationFailedReason, "kubeconfig %s: %v", subject, err)
	}
	return cfg, secret.ResourceVersion, nil
}

// checkKubeConfig refuses what a kubeconfig from a Secret must not do on
// this server: run exec credential plugins (unless allowExec), use
// auth-provider plugins, or read files from the server's disk.
func checkKubeConfig(subject string, raw *clientcmdapi.Config, allowExec bool) error {
	for name, user := range raw.AuthInfos {
		if user.Exec != nil && !allowExec {
			return loop.Stallf(kustomize.ReconciliationFailedReason,
				"kubeconfig %s: user %q uses an exec credential plugin, which this server refuses (start it with --insecure-kubeconfig-exec to allow)", subject, name)
		}
		if user.AuthProvider != nil {
			return loop.Stallf(kustomize.ReconciliationFailedReason,
				"kubeconfig %s: user %q uses an auth-provider plugin, which is not supported", subject, name)
		}
		if user.TokenFile != "" || user.ClientCertificate != "" || user.ClientKey != "" {
			return loop.Stallf(kustomize.ReconciliationFailedReason,
				"kubeconfig %s: user %q refers to files on the server's disk, which is refused", subject, name)
		}
	}
	for name, c := range raw.Clusters {
		if c.CertificateAuthority != "" {
			return loop.Stallf(kustomize.ReconciliationFailedReason,
				"kubeconfig %s: cluster %q refers to a CA file on the server's disk, which is refused", subject, name)
		}
	}
	return nil
}

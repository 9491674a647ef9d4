package source

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helmrepo"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// helmUserAgent identifies the Helm source workers to repositories.
const helmUserAgent = "gitops-apiserver/source-controller"

// helmClient builds a client for the HTTP/S repository of spec (in
// namespace) from its Secrets: basic auth from spec.secretRef
// (username/password), TLS from spec.certSecretRef (ca.crt, tls.crt,
// tls.key). spec.insecure and spec.provider only matter for type oci.
func (e *Env) helmClient(ctx context.Context, namespace string, spec *sourcev1.HelmRepositorySpec) (*helmrepo.Client, error) {
	opts := helmrepo.Options{
		URL:             spec.URL,
		PassCredentials: spec.PassCredentials,
		Timeout:         helmrepo.DefaultTimeout,
		MaxSize:         e.MaxFetchSize,
		UserAgent:       helmUserAgent,
	}
	if spec.Timeout != nil {
		if d, err := spec.Timeout.Parse(); err == nil && d > 0 {
			opts.Timeout = d
		}
	}
	if spec.SecretRef != nil {
		secret, err := e.helmSecret(ctx, namespace, spec.SecretRef.Name)
		if err != nil {
			return nil, err
		}
		opts.Username, opts.Password = string(secret.Data["username"]), string(secret.Data["password"])
		if (opts.Username == "") != (opts.Password == "") {
			return nil, loop.Failf(source.AuthenticationFailedReason,
				"secret '%s/%s' (spec.secretRef) must have both 'username' and 'password' or neither", namespace, spec.SecretRef.Name)
		}
	}
	if spec.CertSecretRef != nil {
		secret, err := e.helmSecret(ctx, namespace, spec.CertSecretRef.Name)
		if err != nil {
			return nil, err
		}
		opts.TLS = &helmrepo.TLSConfig{CA: secret.Data["ca.crt"], Cert: secret.Data["tls.crt"], Key: secret.Data["tls.key"]}
	}
	client, err := helmrepo.NewClient(opts)
	switch {
	case errors.Is(err, helmrepo.ErrInvalidURL):
		// Retrying cannot help until the object changes.
		return nil, loop.Stallf(source.URLInvalidReason, "spec.url: %w", err)
	case err != nil:
		// Bad PEM: the Secret may be fixed.
		return nil, loop.Failf(source.AuthenticationFailedReason, "invalid secret (spec.certSecretRef): %w", err)
	}
	return client, nil
}

// helmSecret reads a referenced Secret; errors carry Flux's
// AuthenticationFailed reason and are retried (the Secret may appear).
func (e *Env) helmSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	secret, err := e.Secret(ctx, namespace, name)
	switch {
	case apierrors.IsNotFound(err) || (err == nil && secret == nil):
		return nil, loop.Failf(source.AuthenticationFailedReason, "secret '%s/%s' not found", namespace, name)
	case err != nil:
		return nil, loop.Failf(source.AuthenticationFailedReason, "failed to get secret '%s/%s': %w", namespace, name, err)
	}
	return secret, nil
}

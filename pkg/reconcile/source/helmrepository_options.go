package source

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helm"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// helmUserAgent identifies the Helm source workers to repositories.
const helmUserAgent = "gitops-apiserver/source-controller"

// helmTimeout is spec.timeout, or Flux's default.
func helmTimeout(spec *sourcev1.HelmRepositorySpec) time.Duration {
	if spec.Timeout != nil {
		if d, err := spec.Timeout.Parse(); err == nil && d > 0 {
			return d
		}
	}
	return helm.DefaultTimeout
}

// helmRepositoryOptions turns the spec of an HTTP/S HelmRepository (in
// namespace) and its Secrets into options: basic auth from spec.secretRef
// (username/password), TLS from spec.certSecretRef (ca.crt, tls.crt,
// tls.key). spec.insecure and spec.provider only matter for type oci.
func (e *Env) helmRepositoryOptions(ctx context.Context, namespace string, spec *sourcev1.HelmRepositorySpec) (helm.RepositoryOptions, error) {
	opts := helm.RepositoryOptions{
		URL:             spec.URL,
		PassCredentials: spec.PassCredentials,
		Timeout:         helmTimeout(spec),
		MaxSize:         e.MaxFetchSize,
		UserAgent:       helmUserAgent,
	}
	if spec.SecretRef != nil {
		secret, err := e.getSecret(ctx, namespace, spec.SecretRef.Name, "spec.secretRef", source.AuthenticationFailedReason)
		if err != nil {
			return opts, err
		}
		opts.Username, opts.Password = string(secret.Data["username"]), string(secret.Data["password"])
		if (opts.Username == "") != (opts.Password == "") {
			return opts, loop.Failf(source.AuthenticationFailedReason,
				"secret '%s/%s' (spec.secretRef) must have both 'username' and 'password' or neither", namespace, spec.SecretRef.Name)
		}
	}
	if spec.CertSecretRef != nil {
		secret, err := e.getSecret(ctx, namespace, spec.CertSecretRef.Name, "spec.certSecretRef", source.AuthenticationFailedReason)
		if err != nil {
			return opts, err
		}
		opts.TLS = &helm.TLSConfig{CA: secret.Data[oci.CACertKey], Cert: secret.Data[oci.TLSCertKey], Key: secret.Data[oci.TLSKeyKey]}
	}
	return opts, nil
}

// helmRepository builds the client of an HTTP/S HelmRepository.
func (e *Env) helmRepository(ctx context.Context, namespace string, spec *sourcev1.HelmRepositorySpec) (*helm.Repository, error) {
	opts, err := e.helmRepositoryOptions(ctx, namespace, spec)
	if err != nil {
		return nil, err
	}
	client, err := helm.NewRepository(opts)
	switch {
	case errors.Is(err, helm.ErrInvalidURL):
		// Retrying cannot help until the object changes.
		return nil, loop.Stallf(source.URLInvalidReason, "spec.url: %w", err)
	case err != nil:
		// Bad PEM: the Secret may be fixed.
		return nil, loop.Failf(source.AuthenticationFailedReason, "invalid secret (spec.certSecretRef): %w", err)
	}
	return client, nil
}

// registryHost turns the spec of a HelmRepository of type oci and its
// Secrets into how to reach its registry: spec.secretRef is a
// kubernetes.io/dockerconfigjson Secret or has username/password (as in
// Flux), spec.certSecretRef has ca.crt/tls.crt/tls.key, spec.insecure
// allows plain HTTP. Only provider generic is supported.
func (e *Env) registryHost(ctx context.Context, namespace string, spec *sourcev1.HelmRepositorySpec) (helm.RegistryHost, error) {
	host, err := helm.RegistryHostOf(spec.URL)
	if err != nil {
		return helm.RegistryHost{}, loop.Stallf(source.URLInvalidReason, "spec.url: %w", err)
	}
	h := helm.RegistryHost{Host: host, Insecure: spec.Insecure}
	if spec.Provider != "" && spec.Provider != source.GenericProvider {
		return h, loop.Stallf(source.AuthenticationFailedReason,
			"spec.provider '%s' is not supported by this server yet; use 'generic' with spec.secretRef", spec.Provider)
	}
	if spec.SecretRef != nil {
		name := spec.SecretRef.Name
		secret, err := e.getSecret(ctx, namespace, name, "spec.secretRef", source.AuthenticationFailedReason)
		if err != nil {
			return h, err
		}
		if config, ok := secret.Data[oci.DockerConfigJSONKey]; ok {
			creds, err := oci.CredentialsFromDockerConfig(spec.URL, config)
			if err != nil {
				return h, loop.Failf(source.AuthenticationFailedReason, "invalid secret '%s/%s' (spec.secretRef): %w", namespace, name, err)
			}
			if creds != nil {
				h.Username, h.Password, h.IdentityToken, h.RegistryToken = creds.Username, creds.Password, creds.IdentityToken, creds.RegistryToken
			}
		} else {
			h.Username, h.Password = string(secret.Data["username"]), string(secret.Data["password"])
			if h.Username == "" || h.Password == "" {
				return h, loop.Failf(source.AuthenticationFailedReason,
					"secret '%s/%s' (spec.secretRef) must have '%s' or both 'username' and 'password'", namespace, name, oci.DockerConfigJSONKey)
			}
		}
	}
	if spec.CertSecretRef != nil {
		secret, err := e.getSecret(ctx, namespace, spec.CertSecretRef.Name, "spec.certSecretRef", source.AuthenticationFailedReason)
		if err != nil {
			return h, err
		}
		tls, err := oci.TLSFromSecret(secret.Data)
		if err != nil {
			return h, loop.Failf(source.AuthenticationFailedReason, "invalid secret '%s/%s' (spec.certSecretRef): %w", namespace, spec.CertSecretRef.Name, err)
		}
		h.TLS = &helm.TLSConfig{CA: tls.CA, Cert: tls.Cert, Key: tls.Key}
	}
	return h, nil
}

// sameRepositoryURL compares repository URLs as Flux matches a chart
// dependency to a HelmRepository: scheme and host ignore case, a trailing
// slash does not count.
func sameRepositoryURL(a, b string) bool {
	return normalizeRepositoryURL(a) == normalizeRepositoryURL(b)
}

func normalizeRepositoryURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return s
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u.String()
}

package source

import (
	"context"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// ociUserAgent identifies the OCI source worker to registries.
const ociUserAgent = "gitops-apiserver/source-controller"

// ociOptions turns the spec and its Secrets into pkg/oci options. Features
// this server does not implement yet fail the object (Stalled) instead of
// being ignored: skipping a signature check or a proxy silently would be
// worse than not producing an artifact.
func (r *OCIRepositoryReconciler) ociOptions(ctx context.Context, obj *sourcev1.OCIRepository) (oci.Options, error) {
	spec := &obj.Spec
	opts := oci.Options{
		URL:       spec.URL,
		Insecure:  spec.Insecure,
		Timeout:   oci.DefaultTimeout,
		MaxSize:   r.MaxFetchSize,
		UserAgent: ociUserAgent,
	}
	if ref := spec.Reference; ref != nil {
		opts.Ref = oci.Ref{Digest: ref.Digest, SemVer: ref.SemVer, SemverFilter: ref.SemverFilter, Tag: ref.Tag}
	}
	if spec.Timeout != nil {
		if d, err := spec.Timeout.Parse(); err == nil {
			opts.Timeout = d
		}
	}
	switch {
	case spec.Provider != "" && spec.Provider != source.GenericProvider:
		return opts, loop.Stallf(source.AuthenticationFailedReason,
			"spec.provider '%s' is not supported by this server yet; use 'generic' with spec.secretRef", spec.Provider)
	case spec.ServiceAccountName != "":
		return opts, loop.Stallf(source.AuthenticationFailedReason,
			"spec.serviceAccountName is not supported by this server yet; reference the pull secret in spec.secretRef")
	case spec.ProxySecretRef != nil:
		return opts, loop.Stallf(source.OCIPullFailedReason,
			"spec.proxySecretRef is not supported by this server yet; remove it")
	}

	if spec.SecretRef != nil {
		secret, err := r.getSecret(ctx, obj.Namespace, spec.SecretRef.Name, "spec.secretRef", source.AuthenticationFailedReason)
		if err != nil {
			return opts, err
		}
		config, ok := secret.Data[oci.DockerConfigJSONKey]
		if !ok {
			return opts, loop.Failf(source.AuthenticationFailedReason,
				"secret '%s/%s' (spec.secretRef) has no '%s' key; create it with `kubectl create secret docker-registry`",
				obj.Namespace, spec.SecretRef.Name, oci.DockerConfigJSONKey)
		}
		creds, err := oci.CredentialsFromDockerConfig(spec.URL, config)
		if err != nil {
			return opts, loop.Failf(source.AuthenticationFailedReason, "invalid secret '%s/%s' (spec.secretRef): %w", obj.Namespace, spec.SecretRef.Name, err)
		}
		opts.Credentials = creds
	}
	if spec.CertSecretRef != nil {
		secret, err := r.getSecret(ctx, obj.Namespace, spec.CertSecretRef.Name, "spec.certSecretRef", source.AuthenticationFailedReason)
		if err != nil {
			return opts, err
		}
		tls, err := oci.TLSFromSecret(secret.Data)
		if err != nil {
			return opts, loop.Failf(source.AuthenticationFailedReason, "invalid secret '%s/%s' (spec.certSecretRef): %w", obj.Namespace, spec.CertSecretRef.Name, err)
		}
		opts.TLS = tls
	}
	return opts, nil
}

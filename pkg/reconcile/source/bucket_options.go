package source

import (
	"context"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/bucket"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// client builds the S3 client of obj from its spec and Secrets.
func (r *BucketReconciler) client(ctx context.Context, obj *sourcev1.Bucket) (*bucket.Client, error) {
	if err := r.unsupported(obj); err != nil {
		return nil, err
	}
	opts := bucket.Options{
		Provider: obj.Spec.Provider,
		Endpoint: obj.Spec.Endpoint,
		Bucket:   obj.Spec.BucketName,
		Insecure: obj.Spec.Insecure,
		Region:   obj.Spec.Region,
		Prefix:   obj.Spec.Prefix,
		Ignore:   ignorePatterns(obj.Spec.Ignore),
		MaxSize:  r.MaxFetchSize,
	}
	if ref := obj.Spec.SecretRef; ref != nil {
		secret, err := r.getSecret(ctx, obj.Namespace, ref.Name, "spec.secretRef", source.AuthenticationFailedReason)
		if err != nil {
			return nil, err
		}
		creds, err := bucket.CredentialsFromSecret(secret.Data)
		if err != nil {
			return nil, loop.Failf(source.AuthenticationFailedReason, "invalid secret '%s' (spec.secretRef): %w", secretName(obj, ref.Name), err)
		}
		opts.Credentials = creds
	}
	if ref := obj.Spec.CertSecretRef; ref != nil {
		secret, err := r.getSecret(ctx, obj.Namespace, ref.Name, "spec.certSecretRef", source.AuthenticationFailedReason)
		if err != nil {
			return nil, err
		}
		cfg, err := bucket.TLSFromSecret(secret.Data)
		if err != nil {
			return nil, loop.Failf(source.AuthenticationFailedReason, "invalid secret '%s' (spec.certSecretRef): %w", secretName(obj, ref.Name), err)
		}
		opts.TLS = cfg
	}
	if ref := obj.Spec.ProxySecretRef; ref != nil {
		secret, err := r.getSecret(ctx, obj.Namespace, ref.Name, "spec.proxySecretRef", source.BucketOperationFailedReason)
		if err != nil {
			return nil, err
		}
		proxy, err := bucket.ProxyFromSecret(secret.Data)
		if err != nil {
			return nil, loop.Failf(source.BucketOperationFailedReason, "invalid secret '%s' (spec.proxySecretRef): %w", secretName(obj, ref.Name), err)
		}
		opts.Proxy = proxy
	}
	c, err := bucket.New(opts)
	if err != nil {
		// A malformed endpoint: only a spec change helps.
		return nil, loop.Stallf(source.URLInvalidReason, "spec.endpoint: %w", err)
	}
	return c, nil
}

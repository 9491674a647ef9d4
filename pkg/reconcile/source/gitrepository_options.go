package source

import (
	"context"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// defaultGitTimeout is Flux's default for spec.timeout.
const defaultGitTimeout = 60 * time.Second

// unsupported refuses the GitRepository fields this server accepts (they are
// Flux's API) but does not implement, so that none is silently ignored;
// retrying cannot help, and nothing is fetched.
func unsupportedGit(obj *sourcev1.GitRepository) error {
	switch p := obj.Spec.Provider; p {
	case "", source.GenericProvider:
	default:
		return loop.Stallf(source.GitOperationFailedReason,
			"spec.provider: provider '%s' is not supported by this server; use spec.secretRef", p)
	}
	if obj.Spec.ServiceAccountName != "" {
		return loop.Stallf(source.GitOperationFailedReason,
			"spec.serviceAccountName: workload identity is not supported by this server; use spec.secretRef")
	}
	if obj.Spec.ProxySecretRef != nil {
		return loop.Stallf(source.GitOperationFailedReason,
			"spec.proxySecretRef: proxies are not supported by this server; remove spec.proxySecretRef to connect directly")
	}
	return nil
}

// GitOptions builds the options to reach obj's repository from its spec and
// Secret: URL, reference, credentials, timeout, size cap and Guard
// (spec.verify is read by verification). The image update automation
// clones and pushes with them. Fields this server does not implement fail
// as Stalled.
func (e *Env) GitOptions(ctx context.Context, obj *sourcev1.GitRepository) (git.Options, error) {
	if err := unsupportedGit(obj); err != nil {
		return git.Options{}, err
	}
	opts := git.Options{
		URL:               obj.Spec.URL,
		SparseCheckout:    obj.Spec.SparseCheckout,
		RecurseSubmodules: obj.Spec.RecurseSubmodules,
		MaxFetchSize:      e.MaxFetchSize,
		Guard:             e.Guard,
	}
	if ref := obj.Spec.Reference; ref != nil {
		opts.Ref = git.Ref{Branch: ref.Branch, Tag: ref.Tag, SemVer: ref.SemVer, Name: ref.Name, Commit: ref.Commit}
	}
	opts.Timeout = defaultGitTimeout
	if obj.Spec.Timeout != nil {
		if d, err := obj.Spec.Timeout.Parse(); err == nil {
			opts.Timeout = d
		}
	}
	if obj.Spec.SecretRef != nil {
		secret, err := e.getSecret(ctx, obj.Namespace, obj.Spec.SecretRef.Name, "spec.secretRef", source.AuthenticationFailedReason)
		if err != nil {
			return opts, err
		}
		auth, err := git.AuthFromSecret(obj.Spec.URL, secret.Data)
		if err != nil {
			return opts, loop.Failf(source.AuthenticationFailedReason, "invalid secret '%s/%s': %w", obj.Namespace, obj.Spec.SecretRef.Name, err)
		}
		opts.Auth = auth
	}
	return opts, nil
}

// Package apiserver wires the Flux API groups, their storage and the
// background workers into one generic API server.
package apiserver

import (
	"errors"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/registry"
)

// ParameterCodec converts query parameters (ListOptions...) of every version.
var ParameterCodec = runtime.NewParameterCodec(Scheme)

// ExtraConfig holds what this server adds to the generic configuration.
type ExtraConfig struct {
	// Workers configures the in-process reconcilers started after the
	// server is serving.
	Workers reconcile.Options
}

// Config is the whole server configuration.
type Config struct {
	GenericConfig *genericapiserver.RecommendedConfig
	ExtraConfig   ExtraConfig
}

// GitOpsServer is the running API server.
type GitOpsServer struct {
	GenericAPIServer *genericapiserver.GenericAPIServer
}

type completedConfig struct {
	GenericConfig genericapiserver.CompletedConfig
	ExtraConfig   *ExtraConfig
}

// CompletedConfig can only be made by Config.Complete, so no field is left
// unset by accident.
type CompletedConfig struct {
	*completedConfig
}

// Complete fills in the fields that were not set.
func (cfg *Config) Complete() CompletedConfig {
	return CompletedConfig{&completedConfig{
		GenericConfig: cfg.GenericConfig.Complete(),
		ExtraConfig:   &cfg.ExtraConfig,
	}}
}

// New returns a server serving every Flux API group, with the workers
// registered as a post-start hook.
func (c completedConfig) New() (*GitOpsServer, error) {
	generic, err := c.GenericConfig.New("gitops-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}
	manager := reconcile.NewManager(c.ExtraConfig.Workers)
	trees := newTreeBuilder(c.GenericConfig.Authorization.Authorizer)
	deps := registry.Deps{Differ: differ(manager, c.ExtraConfig.Workers), Trees: trees,
		Reconcilers: &registry.Reconcilers{}, Authorizer: c.GenericConfig.Authorization.Authorizer,
		WorkerFinalizers: !c.ExtraConfig.Workers.Disabled}
	if st := c.ExtraConfig.Workers.Store; st != nil {
		deps.Artifacts = artifactOpener{st}
	}
	installed, err := installAPIGroups(generic, c.GenericConfig.RESTOptionsGetter, deps)
	if err != nil {
		return nil, err
	}
	for _, i := range installed {
		if i.kind.Applier {
			trees.add(i.kind, i.storage.REST)
		}
	}
	if err := generic.AddPostStartHook("start-gitops-workers", func(ctx genericapiserver.PostStartHookContext) error {
		return manager.Start(ctx, ctx.LoopbackClientConfig)
	}); err != nil {
		return nil, err
	}
	return &GitOpsServer{GenericAPIServer: generic}, nil
}

// artifactOpener serves /artifact subresources from the artifact store.
type artifactOpener struct{ store *artifact.Store }

func (o artifactOpener) OpenArtifact(kind, namespace, name, path string) (io.ReadCloser, int64, error) {
	f, info, err := o.store.OpenFor(artifact.Key{Kind: kind, Namespace: namespace, Name: name}, path)
	if errors.Is(err, artifact.ErrNotFound) {
		return nil, 0, registry.ErrArtifactNotFound
	}
	if err != nil {
		return nil, 0, err
	}
	return f, info.Size, nil
}

package server

import (
	"context"
	"fmt"
	"path/filepath"

	"k8s.io/client-go/rest"

	"github.com/spf13/cobra"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	cliflag "k8s.io/component-base/cli/flag"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/component-base/version/verflag"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apiserver"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/openapi"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile"
)

// NewCommand returns the gitops-apiserver command.
func NewCommand(ctx context.Context) *cobra.Command {
	o := NewOptions()
	cmd := &cobra.Command{
		Use:   "gitops-apiserver",
		Short: "Serves the Flux GitOps API as a Kubernetes aggregated API server and reconciles it",
		RunE: func(cmd *cobra.Command, _ []string) error {
			verflag.PrintAndExitIfRequested()
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.SetContext(ctx)
	fss := o.Flags()
	verflag.AddFlags(fss.FlagSet("global"))
	for _, fs := range fss.FlagSets {
		cmd.Flags().AddFlagSet(fs)
	}
	cliflag.SetUsageAndHelpFunc(cmd, fss, 100)
	return cmd
}

// Run serves metrics on --metrics-addr and starts etcd if embedded, then
// serves until ctx is done.
func (o *Options) Run(ctx context.Context) error {
	if o.MetricsAddr != "" {
		if err := serveMetrics(ctx, o.MetricsAddr); err != nil {
			return err
		}
	}
	if o.usesEmbeddedEtcd() {
		e, err := startEmbeddedEtcd(ctx, o.etcdDataDir())
		if err != nil {
			return err
		}
		defer e.Close()
		t := &o.Recommended.Etcd.StorageConfig.Transport
		t.ServerList = []string{e.clientURL}
		t.CertFile, t.KeyFile, t.TrustedCAFile = e.client.CertFile, e.client.KeyFile, e.caFile
	}
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	s, err := cfg.Complete().New()
	if err != nil {
		return err
	}
	return s.GenericAPIServer.PrepareRun().RunWithContext(ctx)
}

// Config builds the server configuration from the options.
func (o *Options) Config() (*apiserver.Config, error) {
	if err := o.completeServing(); err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	gc := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	gc.Serializer = apiserver.Serializer
	gc.EffectiveVersion = basecompatibility.NewEffectiveVersionFromString("1.37", "", "")
	namer := openapinamer.NewDefinitionNamer(apiserver.Scheme)
	gc.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openapi.GetOpenAPIDefinitions, namer)
	gc.OpenAPIConfig.Info.Title = "gitops-apiserver"
	gc.OpenAPIConfig.Info.Version = "v1"
	gc.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openapi.GetOpenAPIDefinitions, namer)
	gc.OpenAPIV3Config.Info.Title = "gitops-apiserver"
	gc.OpenAPIV3Config.Info.Version = "v1"

	// Storage is applied separately: each resource is stored in its own
	// version (see apiserver.storageEncoding), which RecommendedOptions'
	// single-codec storage cannot express.
	etcd := o.Recommended.Etcd
	o.Recommended.Etcd = nil
	err := o.Recommended.ApplyTo(gc)
	o.Recommended.Etcd = etcd
	if err != nil {
		return nil, err
	}
	storageConfig := etcd.StorageConfig
	storageConfig.StorageObjectCountTracker = gc.StorageObjectCountTracker
	factory := serverstorage.NewDefaultStorageFactory(
		storageConfig,
		etcd.DefaultStorageMediaType,
		apiserver.Codecs,
		apiserver.StorageEncoding(),
		enabledResources(),
		nil,
	)
	if err := etcd.ApplyWithStorageFactoryTo(factory, &gc.Config); err != nil {
		return nil, err
	}
	store, err := artifact.NewStore(o.artifactDir(), artifact.StoreOptions{Keep: o.ArtifactRetention, MaxSize: o.MaxFetchSize})
	if err != nil {
		return nil, fmt.Errorf("artifact store: %w", err)
	}
	if err := registerStoreMetrics(store); err != nil {
		return nil, fmt.Errorf("artifact store metrics: %w", err)
	}
	guard, err := netguard.Parse(o.SourceDenyNetworks)
	if err != nil {
		return nil, fmt.Errorf("--source-deny-networks: %w", err)
	}
	return &apiserver.Config{
		GenericConfig: gc,
		ExtraConfig: apiserver.ExtraConfig{Workers: reconcile.Options{
			Disabled:                 o.DisableWorkers,
			HostConfig:               o.hostConfig(gc.ClientConfig),
			Store:                    store,
			TmpDir:                   filepath.Join(o.DataDir, "tmp"),
			ImageTagDir:              filepath.Join(o.DataDir, "image-tags"),
			Concurrency:              o.Concurrency,
			MaxFetchSize:             o.MaxFetchSize,
			MaxBuildSize:             o.MaxBuildSize,
			MaxBuildFiles:            o.MaxBuildFiles,
			LeaderElect:              o.LeaderElect,
			LeaderElectionNamespace:  o.LeaderElectionNamespace,
			NoCrossNamespaceRefs:     o.NoCrossNamespaceRefs,
			AllowServerCloudIdentity: o.AllowServerCloudIdentity,
			SourceGuard:              guard,
			ReceiverAddr:             o.ReceiverAddr,
			EventsAddr:               o.EventsAddr,
			AllowRemoteBases:         o.AllowRemoteBases,
			AllowKubeConfigExec:      o.InsecureKubeConfigExec,
			DefaultServiceAccount:    o.DefaultServiceAccount,
		}},
	}, nil
}

func enabledResources() *serverstorage.ResourceConfig {
	rc := serverstorage.NewResourceConfig()
	rc.EnableVersions(apiserver.GroupVersions()...)
	return rc
}

// hostConfig is the workers' configuration for the host cluster: the
// server's own, rate-limited by --kube-api-qps and --kube-api-burst
// instead of client-go's default of 5 requests per second, at which the
// Events of 1000 Kustomizations took minutes to send.
func (o *Options) hostConfig(cfg *rest.Config) *rest.Config {
	if cfg == nil {
		return nil
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = o.KubeAPIQPS, o.KubeAPIBurst
	return cfg
}

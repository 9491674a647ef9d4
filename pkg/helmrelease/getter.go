package helmrelease

import (
	"io"
	"log/slog"
	"sync"

	"helm.sh/helm/v4/pkg/action"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// maxClusters bounds the cached discovery of target clusters; past it the
// cache starts over.
const maxClusters = 256

// Clusters caches discovery per target cluster and identity, so the many
// action configurations of one cluster share one discovery cache and REST
// mapper (Helm reads both on every action).
type Clusters struct {
	mu       sync.Mutex
	clusters map[string]*cluster
}

type cluster struct {
	cfg    *rest.Config
	disco  discovery.CachedDiscoveryInterface
	mapper meta.ResettableRESTMapper
}

func (c *Clusters) get(key string, cfg *rest.Config) (*cluster, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clusters[key]; ok {
		return cl, nil
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disco := memory.NewMemCacheClient(dc)
	cl := &cluster{cfg: cfg, disco: disco, mapper: restmapper.NewDeferredDiscoveryRESTMapper(disco)}
	if c.clusters == nil || len(c.clusters) >= maxClusters {
		c.clusters = map[string]*cluster{}
	}
	c.clusters[key] = cl
	return cl, nil
}

// Invalidate drops the cached discovery of a cluster, e.g. after a chart
// installed CRDs.
func (c *Clusters) Invalidate(key string) {
	c.mu.Lock()
	cl := c.clusters[key]
	c.mu.Unlock()
	if cl != nil {
		cl.disco.Invalidate()
		cl.mapper.Reset()
	}
}

// Configuration returns a Helm action configuration acting on the cluster
// of cfg (named key for the cache): objects without a namespace go to
// releaseNamespace, releases are stored as Secrets in storageNamespace.
func (c *Clusters) Configuration(key string, cfg *rest.Config, releaseNamespace, storageNamespace string, log slog.Handler) (*action.Configuration, error) {
	cl, err := c.get(key, cfg)
	if err != nil {
		return nil, err
	}
	conf := action.NewConfiguration(action.ConfigurationSetLogger(log))
	getter := &restGetter{cluster: cl, namespace: releaseNamespace}
	if err := conf.Init(getter, storageNamespace, "secret"); err != nil {
		return nil, err
	}
	// Hook logs would go to the server's stdout otherwise.
	conf.SetHookOutputFunc(func(_, _, _ string) io.Writer { return io.Discard })
	return conf, nil
}

// restGetter is a genericclioptions.RESTClientGetter over a cached cluster
// with a default namespace.
type restGetter struct {
	cluster   *cluster
	namespace string
}

var _ genericclioptions.RESTClientGetter = &restGetter{}

func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cluster.cfg), nil }

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.cluster.disco, nil
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) { return g.cluster.mapper, nil }

// ToRawKubeConfigLoader only carries the namespace: the cluster and
// credentials come from ToRESTConfig.
func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(*clientcmdapi.NewConfig(), &clientcmd.ConfigOverrides{
		Context: clientcmdapi.Context{Namespace: g.namespace},
	})
}

package helmrelease

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/kubectl/pkg/validation"
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

	// validators are the schemas Helm validates rendered manifests with,
	// by field validation directive, shared by the cluster's actions (see
	// sharedValidator).
	mu         sync.Mutex
	validators map[string]validatorEntry
	// caps are the cluster's capabilities as Helm computes them, and when.
	caps     *common.Capabilities
	capsMade time.Time
}

// validatorEntry is a schema and when it was made.
type validatorEntry struct {
	schema validation.Schema
	made   time.Time
}

// validatorTTL bounds how long a cluster's validation schema is kept: it
// remembers per kind whether the server validates fields itself, which a
// CRD installed since may change.
const validatorTTL = 5 * time.Minute

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
		cl.mu.Lock()
		cl.validators, cl.caps = nil, nil
		cl.mu.Unlock()
	}
}

// sharedValidator is a Helm kube.Factory whose Validator is made once per
// cluster and directive instead of once per action. kubectl's strict
// validator asks, per kind, whether the server validates fields itself by
// parsing the group version's OpenAPI v3 document, and caches the answer
// in the validator only; with a Factory per action (one per HelmRelease
// reconciliation) that parse was 58% of the server's CPU when installing
// 100 releases (docs/benchmarks.md). The validator is safe for concurrent
// use (its cache is locked) and holds nothing of one release.
type sharedValidator struct {
	kube.Factory
	cluster *cluster
}

func (f *sharedValidator) Validator(directive string) (validation.Schema, error) {
	cl := f.cluster
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if e, ok := cl.validators[directive]; ok && time.Since(e.made) < validatorTTL {
		return e.schema, nil
	}
	schema, err := f.Factory.Validator(directive)
	if err != nil {
		return nil, err
	}
	if cl.validators == nil {
		cl.validators = map[string]validatorEntry{}
	}
	cl.validators[directive] = validatorEntry{schema: schema, made: time.Now()}
	return schema, nil
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
	if kc, ok := conf.KubeClient.(*kube.Client); ok {
		kc.Factory = &sharedValidator{Factory: kc.Factory, cluster: cl}
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

// Capabilities returns what Helm's .Capabilities holds for the cluster of
// cfg (named key): its version and API versions, computed as Helm computes
// them and kept validatorTTL. Set on an action configuration, it stops
// Helm from invalidating the cluster's shared discovery cache and reading
// discovery again for every action, which cost two discovery requests per
// install (GET /api and /apis, 3758 for 1000 HelmReleases) and dropped the
// cache every other action of the cluster was using. Leave it unset for a
// chart that installs CRDs: Helm then reads discovery after installing
// them, and the chart's templates see the new kinds; call Invalidate after.
func (c *Clusters) Capabilities(key string, cfg *rest.Config) (*common.Capabilities, error) {
	cl, err := c.get(key, cfg)
	if err != nil {
		return nil, err
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.caps != nil && time.Since(cl.capsMade) < validatorTTL {
		return cl.caps.Copy(), nil
	}
	cl.disco.Invalidate()
	version, err := cl.disco.ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("could not get server version from Kubernetes: %w", err)
	}
	apiVersions, err := action.GetVersionSet(cl.disco)
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		// Helm warns and goes on when an APIService is unavailable: the
		// other groups are there.
		return nil, fmt.Errorf("could not get apiVersions from Kubernetes: %w", err)
	}
	cl.caps = &common.Capabilities{
		APIVersions: apiVersions,
		KubeVersion: common.KubeVersion{Version: version.GitVersion, Major: version.Major, Minor: version.Minor},
		HelmVersion: common.DefaultCapabilities.HelmVersion,
	}
	cl.capsMade = time.Now()
	return cl.caps.Copy(), nil
}

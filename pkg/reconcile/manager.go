// Package reconcile runs the in-process workers that reconcile Flux objects.
// The manager lists every controller explicitly.
package reconcile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/semaphore"
	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helmrelease"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	helmrec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/helm"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	notificationrec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/notification"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/target"
)

// Options configure the workers.
type Options struct {
	// Disabled turns every worker off, leaving a pure API server.
	Disabled bool
	// HostConfig reaches the cluster the objects act on (Secrets, Events,
	// the leader Lease); nil disables the workers.
	HostConfig *rest.Config
	// Store keeps the artifacts.
	Store *artifact.Store
	// TmpDir is where fetches are unpacked.
	TmpDir string
	// ImageTagDir keeps the tags ImageRepositories scanned (default
	// TmpDir/image-tags).
	ImageTagDir string
	// Concurrency is the number of workers per kind.
	Concurrency int
	// MaxFetchSize caps one fetch (bytes).
	MaxFetchSize int64
	// MaxBuildSize and MaxBuildFiles cap an artifact unpacked in memory for
	// a build or /diff; twice MaxBuildSize is held at most at once.
	MaxBuildSize  int64
	MaxBuildFiles int
	// LeaderElect runs the workers only in the replica holding the Lease.
	LeaderElect bool
	// LeaderElectionNamespace holds the Lease.
	LeaderElectionNamespace string
	// NoCrossNamespaceRefs refuses references to sources and dependencies
	// in other namespaces.
	NoCrossNamespaceRefs bool
	// AllowServerCloudIdentity lets sources with a cloud provider and no
	// Secret use the server's own identity when NoCrossNamespaceRefs is set.
	AllowServerCloudIdentity bool
	// ReceiverAddr is where Receivers' webhooks are served (host:port);
	// empty serves none.
	ReceiverAddr string
	// EventsAddr is where Flux's event ingest API is served; empty serves
	// none.
	EventsAddr string
	// SourceGuard refuses fetches for tenants from some networks (sources,
	// remote clusters); nil refuses nothing.
	SourceGuard *netguard.Guard
	// AllowRemoteBases lets kustomizations load remote bases.
	AllowRemoteBases bool
	// AllowKubeConfigExec lets spec.kubeConfig kubeconfigs run exec
	// credential plugins.
	AllowKubeConfigExec bool
	// DefaultServiceAccount is impersonated by Kustomizations that name
	// none; empty applies with the server's own identity.
	DefaultServiceAccount string
}

// Controller is one worker loop.
type Controller interface {
	// Name identifies the controller in logs and metrics.
	Name() string
	// Run works until ctx is done.
	Run(ctx context.Context) error
}

// Manager starts the controllers.
type Manager struct {
	opts    Options
	metrics *loop.Metrics
	leader  *leaderMetrics

	// loopback reaches this server; set by Start.
	loopback atomic.Pointer[rest.Config]
	// applyTargets caches apply clients per target cluster and identity.
	targetsOnce  sync.Once
	applyTargets *target.Targets
	// helmTargetsCache caches clients per HelmRelease target; helmClusters
	// caches Helm's discovery per target.
	helmTargetsOnce  sync.Once
	helmTargetsCache *target.Targets
	helmClusters     *helmrelease.Clusters
	// dispatcher sends every worker's events to the matching Alerts.
	dispatcher *notificationrec.Dispatcher
	// buildMemory bounds the memory of artifacts unpacked for builds and
	// /diff at once: twice --max-build-size.
	buildMemory *semaphore.Weighted
	// fetcher downloads and caches the artifacts of ExternalArtifacts that
	// other servers publish, for the workers and /diff alike.
	fetcher *artifact.Fetcher
}

// NewManager returns a manager for opts.
func NewManager(opts Options) *Manager {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.MaxBuildSize <= 0 {
		opts.MaxBuildSize = 128 << 20
	}
	m := &Manager{opts: opts, buildMemory: semaphore.NewWeighted(2 * opts.MaxBuildSize), helmClusters: &helmrelease.Clusters{},
		dispatcher: notificationrec.NewDispatcher(nil), fetcher: newExternalArtifactFetcher(opts)}
	if !opts.Disabled {
		m.metrics = loop.NewMetrics()
		m.leader = newLeaderMetrics()
	}
	return m
}

// Start runs the controllers in the background until ctx is done: at once,
// or whenever this replica holds the leader Lease. It returns immediately.
func (m *Manager) Start(ctx context.Context, loopback *rest.Config) error {
	if m.opts.Disabled {
		klog.InfoS("Workers disabled")
		if m.opts.HostConfig != nil {
			go func() {
				if err := m.releaseOrphanFinalizers(ctx, loopback); err != nil && ctx.Err() == nil {
					klog.ErrorS(err, "Releasing finalizers of deleted objects")
				}
			}()
		}
		return nil
	}
	if m.opts.HostConfig == nil {
		return fmt.Errorf("workers need a kubeconfig for the host cluster (--kubeconfig or in-cluster)")
	}
	m.loopback.Store(rest.CopyConfig(loopback))
	// Checkouts left by a crash are never reused: start empty.
	if err := os.RemoveAll(m.opts.TmpDir); err != nil {
		return err
	}
	if err := os.MkdirAll(m.opts.TmpDir, 0o700); err != nil {
		return err
	}
	if !m.opts.LeaderElect {
		go m.run(ctx, loopback)
		return nil
	}
	go m.leaderElect(ctx, loopback)
	return nil
}

func (m *Manager) leaderElect(ctx context.Context, loopback *rest.Config) {
	host := kubernetes.NewForConfigOrDie(rest.AddUserAgent(rest.CopyConfig(m.opts.HostConfig), "gitops-apiserver/leader-election"))
	hostname, _ := os.Hostname()
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, m.opts.LeaderElectionNamespace, workersLease,
		host.CoreV1(), host.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: hostname + "_" + uuid.NewString()})
	if err != nil {
		klog.ErrorS(err, "Leader election lock")
		return
	}
	for ctx.Err() == nil {
		leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   15 * time.Second,
			RenewDeadline:   10 * time.Second,
			RetryPeriod:     2 * time.Second,
			ReleaseOnCancel: true,
			Name:            workersLease,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(leaderCtx context.Context) { m.run(leaderCtx, loopback) },
				OnStoppedLeading: func() {
					if ctx.Err() != nil {
						return // shutting down: the Lease was released
					}
					m.leader.lostLease()
					klog.InfoS("Lost the workers' lease; workers stopped")
				},
			},
		})
	}
}

// run builds and runs every controller until ctx is done.
func (m *Manager) run(ctx context.Context, loopback *rest.Config) {
	// Helm's field manager is a package variable of the SDK: release
	// objects are owned by helm-controller, as in Flux, which is also what
	// drift correction applies as.
	kube.ManagedFieldsManager = helmrec.FieldManager
	controllers, start, err := m.controllers(loopback)
	if err != nil {
		klog.ErrorS(err, "Building controllers")
		return
	}
	start(ctx)
	m.leader.running(true)
	defer m.leader.running(false)
	done := make(chan struct{}, len(controllers))
	for _, c := range controllers {
		go func() {
			defer func() { done <- struct{}{} }()
			if err := c.Run(ctx); err != nil && ctx.Err() == nil {
				klog.ErrorS(err, "Controller stopped", "controller", c.Name())
			}
		}()
	}
	for range controllers {
		<-done
	}
}

// newExternalArtifactFetcher caches external artifacts under TmpDir
// (emptied at each start), at most twice --max-fetch-size of them (and
// always the newest one), each download at most --max-fetch-size, dialling
// through the Guard of the reconciliation.
func newExternalArtifactFetcher(opts Options) *artifact.Fetcher {
	return artifact.NewFetcher(artifact.FetcherOptions{
		Dir:          filepath.Join(opts.TmpDir, "external-artifacts"),
		MaxCacheSize: 2 * opts.MaxFetchSize,
		Download: artifact.DownloadOptions{
			Transport: netguard.Transport(nil),
			MaxSize:   opts.MaxFetchSize,
			UserAgent: "gitops-apiserver/source-fetcher",
		},
	})
}

// Package server holds the gitops-apiserver command: flags (Options), the
// configuration built from them, and running the server.
package server

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	cliflag "k8s.io/component-base/cli/flag"
	logsapi "k8s.io/component-base/logs/api/v1"
)

// DefaultEtcdPathPrefix is where objects live in etcd, apart from
// kube-apiserver's /registry when an etcd cluster is shared.
const DefaultEtcdPathPrefix = "/gitops.fluxcd.io"

// Options are the command-line options of gitops-apiserver.
type Options struct {
	Recommended *genericoptions.RecommendedOptions
	Logs        *logsapi.LoggingConfiguration

	// DataDir holds the embedded etcd's data (and later the artifact store).
	DataDir string
	// DisableWorkers serves the API without reconciling anything.
	DisableWorkers bool
	// ArtifactDir holds the artifact store; <data-dir>/artifacts when empty.
	ArtifactDir string
	// ArtifactRetention is how many artifacts are kept per object.
	ArtifactRetention int
	// Concurrency is the number of workers per kind.
	Concurrency int
	// KubeAPIQPS and KubeAPIBurst rate-limit the workers' clients of the
	// host cluster (Events, Secrets, ConfigMaps, leader election), as
	// Flux's --kube-api-qps and --kube-api-burst.
	KubeAPIQPS   float32
	KubeAPIBurst int
	// MaxFetchSize caps one fetch, in bytes.
	MaxFetchSize int64
	// MaxBuildSize and MaxBuildFiles cap an artifact unpacked in memory for
	// a Kustomization build or /diff.
	MaxBuildSize  int64
	MaxBuildFiles int
	// LeaderElect and LeaderElectionNamespace: only the replica holding the
	// Lease runs workers.
	LeaderElect             bool
	LeaderElectionNamespace string
	// Kustomization lockdown and escape hatches, named as Flux's
	// kustomize-controller flags.
	NoCrossNamespaceRefs bool
	// AllowServerCloudIdentity lets sources with a cloud provider and no
	// Secret use the server's own identity in lockdown mode.
	AllowServerCloudIdentity bool
	// SourceDenyNetworks are the networks fetches for tenants may not reach.
	SourceDenyNetworks []string
	// MetricsAddr serves /metrics over plain HTTP (Flux's --metrics-addr);
	// empty serves it on the secure port only.
	MetricsAddr string
	// ReceiverAddr and EventsAddr are where Receivers' webhooks and Flux's
	// event ingest API are served.
	ReceiverAddr, EventsAddr string
	AllowRemoteBases         bool
	InsecureKubeConfigExec   bool
	DefaultServiceAccount    string
}

// NewOptions returns options with the defaults of an aggregated API server.
func NewOptions() *Options {
	registerLogFormats()
	o := &Options{
		Recommended: genericoptions.NewRecommendedOptions(DefaultEtcdPathPrefix, nil),
		Logs:        logsapi.NewLoggingConfiguration(),
		DataDir:     "/var/lib/gitops-apiserver",

		ArtifactRetention:       2,
		Concurrency:             4,
		KubeAPIQPS:              50,
		KubeAPIBurst:            300,
		MaxFetchSize:            512 << 20,
		MaxBuildSize:            128 << 20,
		MaxBuildFiles:           20_000,
		LeaderElect:             true,
		LeaderElectionNamespace: "flux-system",
	}
	// No etcd servers means the embedded etcd (see Complete).
	o.Recommended.Etcd.StorageConfig.Transport.ServerList = nil
	return o
}

// Flags returns the options as named flag sets, for help output by section.
func (o *Options) Flags() cliflag.NamedFlagSets {
	var fss cliflag.NamedFlagSets
	o.Recommended.AddFlags(fss.FlagSet("generic"))
	logs := fss.FlagSet("logs")
	logsapi.AddFlags(o.Logs, logs)
	logs.Var(logEncoding{&o.Logs.Format}, "log-encoding",
		"Flux's name for the log format: json (one JSON object a line with Flux's keys, which flux logs reads) or console (klog text, the default). Same as --logging-format=json|text; the last one given wins.")
	fs := fss.FlagSet("gitops")
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir,
		"Directory for the embedded etcd's data (used when --etcd-servers is empty). Data survives restarts.")
	fs.BoolVar(&o.DisableWorkers, "disable-workers", o.DisableWorkers,
		"Serve the API only; run no reconcilers.")
	fs.StringVar(&o.ArtifactDir, "artifact-dir", o.ArtifactDir,
		"Directory of the artifact store (default <data-dir>/artifacts).")
	fs.IntVar(&o.ArtifactRetention, "artifact-retention-records", o.ArtifactRetention,
		"How many artifacts to keep per source object.")
	fs.IntVar(&o.Concurrency, "concurrent", o.Concurrency,
		"Number of objects of each kind reconciled at once.")
	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS,
		"Requests per second the workers' clients of the cluster may send (Events, Secrets, ConfigMaps, the Lease), as Flux's controllers' flag; appliers of Kustomizations and HelmReleases have their own, higher limits.")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst,
		"Burst of --kube-api-qps.")
	fs.Int64Var(&o.MaxFetchSize, "max-fetch-size", o.MaxFetchSize,
		"Largest source (in bytes, unpacked) one fetch may produce.")
	fs.Int64Var(&o.MaxBuildSize, "max-build-size", o.MaxBuildSize,
		"Largest artifact (in bytes, unpacked) a Kustomization build or /diff holds in memory; larger ones stall naming this flag. At most two are held at once.")
	fs.IntVar(&o.MaxBuildFiles, "max-build-files", o.MaxBuildFiles,
		"Most files an artifact unpacked in memory for a build may have.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect,
		"Run the workers only in the replica holding a Lease in the host cluster (API serving stays active on all).")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", o.LeaderElectionNamespace,
		"Namespace of the workers' Lease.")
	fs.BoolVar(&o.NoCrossNamespaceRefs, "no-cross-namespace-refs", o.NoCrossNamespaceRefs,
		"Refuse Kustomization sourceRef and dependsOn references to objects in other namespaces (multi-tenant lockdown).")
	fs.BoolVar(&o.AllowServerCloudIdentity, "allow-server-cloud-identity", o.AllowServerCloudIdentity,
		"With --no-cross-namespace-refs, still let Buckets with a cloud provider and no secretRef use this server's own cloud identity (refused and Stalled otherwise).")
	fs.StringSliceVar(&o.SourceDenyNetworks, "source-deny-networks", o.SourceDenyNetworks,
		"Networks that source fetches (git, OCI, Helm, S3, redirects included) and remote kubeconfig clusters may not reach, "+
			"checked on the address actually dialled: link-local (cloud metadata), loopback, private, or CIDRs. Empty (the default, as in Flux) refuses nothing.")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", o.MetricsAddr,
		"host:port where /metrics is also served over plain HTTP without authentication, for Prometheus (Flux's controllers use :8080). Empty serves it only on the secure port, to authorized clients.")
	fs.StringVar(&o.ReceiverAddr, "receiver-addr", o.ReceiverAddr,
		"host:port where Receivers' webhooks are served (/hook/<digest>; Flux's notification-controller uses :9292). Empty serves none.")
	fs.StringVar(&o.EventsAddr, "events-addr", o.EventsAddr,
		"host:port of Flux's event ingest API (a POST of a Flux event, from controllers that report to Flux; Flux uses :9090). Unauthenticated, as Flux's: keep it on the cluster network. Empty serves none.")
	fs.BoolVar(&o.AllowRemoteBases, "allow-remote-bases", o.AllowRemoteBases,
		"Let kustomizations load remote bases (git or HTTP URLs); off by default, so builds use the source artifact only.")
	fs.BoolVar(&o.InsecureKubeConfigExec, "insecure-kubeconfig-exec", o.InsecureKubeConfigExec,
		"Let kubeconfigs from spec.kubeConfig.secretRef run exec credential plugins on this server.")
	fs.StringVar(&o.DefaultServiceAccount, "default-service-account", o.DefaultServiceAccount,
		"Service account impersonated by Kustomizations without spec.serviceAccountName (multi-tenant lockdown); empty applies with the server's identity.")
	return fss
}

// Validate reports every invalid option.
func (o *Options) Validate() error {
	var errs []error
	if o.usesEmbeddedEtcd() {
		// The embedded etcd's URL is only known once it runs; validate the
		// other etcd options against a stand-in.
		etcd := o.Recommended.Etcd
		standIn := *etcd
		standIn.StorageConfig.Transport.ServerList = []string{"http://127.0.0.1:2379"}
		o.Recommended.Etcd = &standIn
		defer func() { o.Recommended.Etcd = etcd }()
	}
	errs = append(errs, o.Recommended.Validate()...)
	if _, err := netguard.Parse(o.SourceDenyNetworks); err != nil {
		errs = append(errs, fmt.Errorf("--source-deny-networks: %w", err))
	}
	if o.KubeAPIQPS <= 0 || o.KubeAPIBurst < 1 {
		errs = append(errs, fmt.Errorf("--kube-api-qps %v and --kube-api-burst %d: both must be positive", o.KubeAPIQPS, o.KubeAPIBurst))
	}
	if o.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(o.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("--metrics-addr %q: want host:port, e.g. :8080", o.MetricsAddr))
		}
	}
	if err := logsapi.ValidateAndApply(o.Logs, nil); err != nil {
		errs = append(errs, err)
	}
	if o.usesEmbeddedEtcd() && o.DataDir == "" {
		errs = append(errs, fmt.Errorf("--data-dir is required when --etcd-servers is empty"))
	}
	return utilerrors.NewAggregate(errs)
}

func (o *Options) usesEmbeddedEtcd() bool {
	return len(o.Recommended.Etcd.StorageConfig.Transport.ServerList) == 0
}

func (o *Options) artifactDir() string {
	if o.ArtifactDir != "" {
		return o.ArtifactDir
	}
	return filepath.Join(o.DataDir, "artifacts")
}

// etcdDataDir is where the embedded etcd keeps its data.
func (o *Options) etcdDataDir() string {
	return filepath.Join(o.DataDir, "etcd")
}

// completeServing makes a self-signed serving certificate when none is given
// (only for local use; deployments mount a real one).
func (o *Options) completeServing() error {
	certDir := filepath.Join(o.DataDir, "certs")
	o.Recommended.SecureServing.ServerCert.CertDirectory = certDir
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return err
	}
	return o.Recommended.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil, []net.IP{net.ParseIP("127.0.0.1")})
}

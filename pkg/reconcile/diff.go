package reconcile

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/clientset/versioned"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/inspect"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	helmrec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/helm"
	kustomizerec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/kustomize"
)

// Diff computes what reconciling the Kustomization now would change in its
// target cluster: it builds the current source artifact and dry-runs the
// apply with the identity the worker would use. It works in every replica,
// leader or not, as long as the workers are enabled.
func (m *Manager) Diff(ctx context.Context, kind, namespace, name string) (*inspect.DiffReport, error) {
	loopback := m.loopback.Load()
	if m.opts.Disabled || loopback == nil {
		return nil, apierrors.NewServiceUnavailable("diff needs the workers, which are disabled on this server")
	}
	var report *inspect.DiffReport
	var err error
	switch kind {
	case kustomize.KustomizationKind:
		report, err = m.diffKustomization(ctx, loopback, namespace, name)
	case helm.HelmReleaseKind:
		report, err = m.diffHelmRelease(ctx, loopback, namespace, name)
	default:
		return nil, apierrors.NewMethodNotSupported(schema.GroupResource{Group: helm.GroupName, Resource: "helmreleases"}, "diff")
	}
	if err != nil {
		if _, ok := err.(apierrors.APIStatus); ok {
			return nil, err
		}
		return nil, apierrors.NewInternalError(fmt.Errorf("%s/%s/%s: %v", kind, namespace, name, err))
	}
	return report, nil
}

func (m *Manager) diffKustomization(ctx context.Context, loopback *rest.Config, namespace, name string) (*inspect.DiffReport, error) {
	cl, err := m.clientsFor(loopback, "kustomize-controller")
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	obj, err := cl.flux.KustomizeV1().Kustomizations(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	rec := &kustomizerec.Reconciler{
		Options:   m.kustomizeOptions(),
		GetSource: liveSources{cl.flux, ctx}.get,
		GetKustomization: func(namespace, name string) (*kustomizev1.Kustomization, error) {
			return cl.flux.KustomizeV1().Kustomizations(namespace).Get(ctx, name, metav1.GetOptions{})
		},
		Store:   m.opts.Store,
		Host:    cl.host,
		Targets: m.targets(),
	}
	return rec.Diff(ctx, obj)
}

// diffHelmRelease renders the HelmRelease's upgrade as the worker would run
// it now and diffs it against its target cluster.
func (m *Manager) diffHelmRelease(ctx context.Context, loopback *rest.Config, namespace, name string) (*inspect.DiffReport, error) {
	cl, err := m.clientsFor(loopback, "helm-controller")
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	obj, err := cl.flux.HelmV2().HelmReleases(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	rec := &helmrec.Reconciler{
		Options: helmrec.Options{NoCrossNamespaceRefs: m.opts.NoCrossNamespaceRefs, MaxChartSize: m.opts.MaxFetchSize, Guard: m.opts.SourceGuard,
			Fetcher: m.fetcher},
		GetSource: func(kind, namespace, name string) (*helmrec.Source, error) {
			src, get := cl.flux.SourceV1(), metav1.GetOptions{}
			switch kind {
			case helm.HelmChartKind:
				return toChartSource(src.HelmCharts(namespace).Get(ctx, name, get))
			case helm.OCIRepositoryKind:
				return toChartSource(src.OCIRepositories(namespace).Get(ctx, name, get))
			case helm.ExternalArtifactKind:
				return toChartSource(src.ExternalArtifacts(namespace).Get(ctx, name, get))
			}
			return nil, fmt.Errorf("chart source kind %q is not supported", kind)
		},
		Store:    m.opts.Store,
		Host:     cl.host,
		Targets:  m.helmTargets(),
		Clusters: m.helmClusters,
	}
	return rec.Diff(netguard.WithContext(ctx, m.opts.SourceGuard), obj)
}

// liveSources reads sources with a GET, for requests served by replicas
// whose informers may not run.
type liveSources struct {
	flux versioned.Interface
	ctx  context.Context
}

func (s liveSources) get(kind, namespace, name string) (*kustomizerec.Source, error) {
	src, get := s.flux.SourceV1(), metav1.GetOptions{}
	switch kind {
	case kustomize.GitRepositoryKind:
		return toSource(src.GitRepositories(namespace).Get(s.ctx, name, get))
	case kustomize.OCIRepositoryKind:
		return toSource(src.OCIRepositories(namespace).Get(s.ctx, name, get))
	case kustomize.BucketKind:
		return toSource(src.Buckets(namespace).Get(s.ctx, name, get))
	case kustomize.ExternalArtifactKind:
		return toSource(src.ExternalArtifacts(namespace).Get(s.ctx, name, get))
	}
	return nil, unsupportedSource(kind)
}

package reconcile

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/clientset/versioned"
	fluxscheme "github.com/gitops-apiserver/gitops-apiserver/pkg/generated/clientset/versioned/scheme"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/informers/externalversions"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/source"
)

// clients are the clients of one worker group, each with its own user agent
// so audit logs show which worker wrote what.
type clients struct {
	flux versioned.Interface
	host kubernetes.Interface
}

func (m *Manager) clientsFor(loopback *rest.Config, agent string) (clients, error) {
	ua := "gitops-apiserver/" + agent
	lb := rest.AddUserAgent(rest.CopyConfig(loopback), ua)
	// Workers write a lot of status: the loopback connection is in-process.
	lb.QPS, lb.Burst = 200, 400
	flux, err := versioned.NewForConfig(lb)
	if err != nil {
		return clients{}, err
	}
	host, err := kubernetes.NewForConfig(rest.AddUserAgent(rest.CopyConfig(m.opts.HostConfig), ua))
	if err != nil {
		return clients{}, err
	}
	return clients{flux: flux, host: host}, nil
}

// eventRecorder records Kubernetes Events in the host cluster with the Flux
// object as involvedObject, under Flux's controller names.
func eventRecorder(ctx context.Context, host kubernetes.Interface, component string) record.EventRecorder {
	b := record.NewBroadcaster(record.WithContext(ctx))
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: host.CoreV1().Events("")})
	return b.NewRecorder(fluxscheme.Scheme, corev1.EventSource{Component: component})
}

// controllers lists every controller. The returned start function starts
// the informers they share.
func (m *Manager) controllers(loopback *rest.Config) ([]Controller, func(context.Context), error) {
	src, err := m.clientsFor(loopback, "source-controller")
	if err != nil {
		return nil, nil, err
	}
	factory := externalversions.NewSharedInformerFactory(src.flux, 0)
	env := source.Env{
		Secret: func(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
			return src.host.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
		},
		Store:        m.opts.Store,
		TmpDir:       m.opts.TmpDir,
		MaxFetchSize: m.opts.MaxFetchSize,
	}

	gitRepos := factory.Source().V1().GitRepositories()
	gitReconciler := &source.GitRepositoryReconciler{Env: env}
	gitController, err := loop.New(loop.Config[*sourcev1.GitRepository]{
		Kind:     "GitRepository",
		Workers:  m.opts.Concurrency,
		Informer: gitRepos.Informer(),
		Get: func(namespace, name string) (*sourcev1.GitRepository, error) {
			return gitRepos.Lister().GitRepositories(namespace).Get(name)
		},
		UpdateStatus: func(ctx context.Context, obj *sourcev1.GitRepository) error {
			_, err := src.flux.SourceV1().GitRepositories(obj.Namespace).UpdateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: "source-controller"})
			return err
		},
		Reconciler: gitReconciler,
		OnDelete: func(namespace, name string) {
			_ = m.opts.Store.Delete(artifact.Key{Kind: "GitRepository", Namespace: namespace, Name: name})
		},
		Metrics: m.metrics,
	})
	if err != nil {
		return nil, nil, err
	}
	start := func(ctx context.Context) {
		gitReconciler.Events = eventRecorder(ctx, src.host, "source-controller")
		factory.Start(ctx.Done())
	}
	return []Controller{gitController}, start, nil
}

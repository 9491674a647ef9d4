package reconcile

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/clientset/versioned"
	fluxscheme "github.com/gitops-apiserver/gitops-apiserver/pkg/generated/clientset/versioned/scheme"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/informers/externalversions"
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
	// Compressing watch events and lists on loopback only costs CPU.
	lb.DisableCompression = true
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

// sourceWorkers is what every source controller is built from.
type sourceWorkers struct {
	clients
	factory externalversions.SharedInformerFactory
	env     *source.Env
}

// controllers lists every controller. The returned start function starts
// the event recorder and the informers they share.
func (m *Manager) controllers(loopback *rest.Config) ([]Controller, func(context.Context), error) {
	src, err := m.clientsFor(loopback, "source-controller")
	if err != nil {
		return nil, nil, err
	}
	w := sourceWorkers{
		clients: src,
		factory: externalversions.NewSharedInformerFactory(src.flux, 0),
		env: &source.Env{
			Secret: func(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
				return src.host.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
			},
			Store:        m.opts.Store,
			TmpDir:       m.opts.TmpDir,
			MaxFetchSize: m.opts.MaxFetchSize,

			Lockdown:                 m.opts.NoCrossNamespaceRefs,
			AllowServerCloudIdentity: m.opts.AllowServerCloudIdentity,
			Guard:                    m.opts.SourceGuard,
		},
	}
	var controllers []Controller
	for _, build := range []func(sourceWorkers) (Controller, error){
		m.gitRepositoryController,
		m.bucketController,
		m.ociRepositoryController,
		m.helmRepositoryController,
		m.helmChartController,
	} {
		c, err := build(w)
		if err != nil {
			return nil, nil, err
		}
		controllers = append(controllers, c)
	}
	ks, ksRec, err := m.kustomizationController(w, loopback)
	if err != nil {
		return nil, nil, err
	}
	hr, hrRec, err := m.helmReleaseController(w, loopback)
	if err != nil {
		return nil, nil, err
	}
	notifications, startNotifications, err := m.notificationWorkers(w, loopback)
	if err != nil {
		return nil, nil, err
	}
	images, startImages, err := m.imageWorkers(w, loopback)
	if err != nil {
		return nil, nil, err
	}
	controllers = append(controllers, ks, hr)
	controllers = append(controllers, notifications...)
	controllers = append(controllers, images...)
	start := func(ctx context.Context) {
		w.env.Events = m.forwarding(eventRecorder(ctx, src.host, "source-controller"), "source-controller")
		ksRec.Events = m.forwarding(eventRecorder(ctx, ksRec.Host, "kustomize-controller"), "kustomize-controller")
		hrRec.Events = m.forwarding(eventRecorder(ctx, hrRec.Host, "helm-controller"), "helm-controller")
		startNotifications(ctx)
		startImages(ctx)
		w.factory.Start(ctx.Done())
		go sweepOrphanArtifacts(ctx, m.opts.Store, w.factory)
	}
	return controllers, start, nil
}

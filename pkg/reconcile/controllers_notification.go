package reconcile

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	notificationv1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/v1"
	notificationv1beta3 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/v1beta3"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/clientset/versioned"
	fluxscheme "github.com/gitops-apiserver/gitops-apiserver/pkg/generated/clientset/versioned/scheme"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/informers/externalversions"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/receiver"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	notificationrec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/notification"
)

// notificationController names the notification worker's events and user
// agent, as Flux's controller is named.
const notificationController = "notification-controller"

// forwarding wraps a worker's event recorder so its events also reach the
// Alerts in-process.
func (m *Manager) forwarding(rec record.EventRecorder, controller string) record.EventRecorder {
	return &notificationrec.Recorder{EventRecorder: rec, Scheme: fluxscheme.Scheme, Controller: controller, Dispatch: m.dispatcher.Dispatch}
}

// notificationWorkers builds the Alert dispatch (routes over the caches),
// the Receiver worker and the two HTTP servers: webhooks (--receiver-addr)
// and Flux's event ingest (--events-addr). The returned start runs what
// is not a loop controller.
func (m *Manager) notificationWorkers(w sourceWorkers, loopback *rest.Config) ([]Controller, func(context.Context), error) {
	cl, err := m.clientsFor(loopback, notificationController)
	if err != nil {
		return nil, nil, err
	}
	nf := w.factory.Notification()
	alerts, providers, receivers := nf.V1beta3().Alerts(), nf.V1beta3().Providers(), nf.V1().Receivers()
	secret := func(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
		return cl.host.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	}
	objects := fluxObjects{factory: w.factory, flux: cl.flux}
	routes := &notificationrec.Routes{
		ListAlerts: func() ([]*notificationv1beta3.Alert, error) { return alerts.Lister().List(labels.Everything()) },
		GetProvider: func(namespace, name string) (*notificationv1beta3.Provider, error) {
			return providers.Lister().Providers(namespace).Get(name)
		},
		Secret: secret,
		LabelsOf: func(kind, namespace, name string) map[string]string {
			o, err := objects.get(kind, namespace, name)
			if err != nil {
				return nil
			}
			return o.Labels
		},
		Guard:    m.opts.SourceGuard,
		Lockdown: m.opts.NoCrossNamespaceRefs,
	}
	m.dispatcher.SetRouter(routes.Route)
	// The Alerts' and Providers' informers only feed the caches.
	_ = alerts.Informer()
	_ = providers.Informer()

	rr := &notificationrec.ReceiverReconciler{
		Secret: secret, List: objects.list, Get: objects.get, RequestReconcile: objects.requestReconcile,
	}
	update, getLive := statusWriter[*notificationv1.Receiver](cl.flux.NotificationV1().Receivers, notificationController)
	rc, err := loop.New(loop.Config[*notificationv1.Receiver]{
		Kind: "Receiver", Workers: 1, Informer: receivers.Informer(),
		Get: func(namespace, name string) (*notificationv1.Receiver, error) {
			return receivers.Lister().Receivers(namespace).Get(name)
		},
		UpdateStatus: update, GetLive: getLive, Reconciler: rr, OnDelete: rr.Forget, Metrics: m.metrics,
	})
	if err != nil {
		return nil, nil, err
	}
	start := func(ctx context.Context) {
		events := eventRecorder(ctx, cl.host, notificationController)
		routes.Events, rr.Events = events, events
		go m.dispatcher.Run(ctx, 2)
		if m.opts.ReceiverAddr != "" {
			hooks := &receiver.Handler{Lookup: rr.Lookup, Trigger: rr.Trigger}
			go serve(ctx, "webhook receiver", m.opts.ReceiverAddr, hooks)
		}
		if m.opts.EventsAddr != "" {
			go serve(ctx, "event ingest", m.opts.EventsAddr, &notificationrec.IngestHandler{Dispatch: m.dispatcher.Dispatch})
		}
	}
	return []Controller{rc}, start, nil
}

// serve runs an HTTP server on addr until ctx is done.
func serve(ctx context.Context, what, addr string, h http.Handler) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		klog.ErrorS(err, "Cannot listen", "server", what, "address", addr)
		return
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	klog.InfoS("Serving", "server", what, "address", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		klog.ErrorS(err, "Server stopped", "server", what)
	}
}

// fluxObjects reads Flux objects of any reconcilable kind from the caches
// and asks for their reconciliation, for Receivers and Alerts.
type fluxObjects struct {
	factory externalversions.SharedInformerFactory
	flux    versioned.Interface
}

// kindAccess is how one kind is listed and reconciled.
type kindAccess struct {
	informer cache.SharedIndexInformer
	client   rest.Interface
	resource string
}

func (f fluxObjects) access(kind string) (kindAccess, error) {
	src, ks, hr, img := f.factory.Source().V1(), f.factory.Kustomize().V1(), f.factory.Helm().V2(), f.factory.Image().V1()
	switch kind {
	case "GitRepository":
		return kindAccess{src.GitRepositories().Informer(), f.flux.SourceV1().RESTClient(), "gitrepositories"}, nil
	case "OCIRepository":
		return kindAccess{src.OCIRepositories().Informer(), f.flux.SourceV1().RESTClient(), "ocirepositories"}, nil
	case "HelmRepository":
		return kindAccess{src.HelmRepositories().Informer(), f.flux.SourceV1().RESTClient(), "helmrepositories"}, nil
	case "HelmChart":
		return kindAccess{src.HelmCharts().Informer(), f.flux.SourceV1().RESTClient(), "helmcharts"}, nil
	case "Bucket":
		return kindAccess{src.Buckets().Informer(), f.flux.SourceV1().RESTClient(), "buckets"}, nil
	case "Kustomization":
		return kindAccess{ks.Kustomizations().Informer(), f.flux.KustomizeV1().RESTClient(), "kustomizations"}, nil
	case "HelmRelease":
		return kindAccess{hr.HelmReleases().Informer(), f.flux.HelmV2().RESTClient(), "helmreleases"}, nil
	case "ImageRepository":
		return kindAccess{img.ImageRepositories().Informer(), f.flux.ImageV1().RESTClient(), "imagerepositories"}, nil
	case "ImageUpdateAutomation":
		return kindAccess{img.ImageUpdateAutomations().Informer(), f.flux.ImageV1().RESTClient(), "imageupdateautomations"}, nil
	}
	return kindAccess{}, fmt.Errorf("kind %q cannot be reconciled by a Receiver", kind)
}

func (f fluxObjects) get(kind, namespace, name string) (notificationrec.Object, error) {
	a, err := f.access(kind)
	if err != nil {
		return notificationrec.Object{}, err
	}
	item, exists, err := a.informer.GetIndexer().GetByKey(namespace + "/" + name)
	if err != nil {
		return notificationrec.Object{}, err
	}
	if !exists {
		return notificationrec.Object{}, fmt.Errorf("not found")
	}
	return toObject(kind, item)
}

func (f fluxObjects) list(kind, namespace string, selector labels.Selector) ([]notificationrec.Object, error) {
	a, err := f.access(kind)
	if err != nil {
		return nil, err
	}
	items, err := a.informer.GetIndexer().ByIndex(cache.NamespaceIndex, namespace)
	if err != nil {
		return nil, err
	}
	var out []notificationrec.Object
	for _, item := range items {
		o, err := toObject(kind, item)
		if err != nil || !selector.Matches(labels.Set(o.Labels)) {
			continue
		}
		out = append(out, o)
	}
	return out, nil
}

func toObject(kind string, item any) (notificationrec.Object, error) {
	m, ok := item.(metav1.Object)
	if !ok {
		return notificationrec.Object{}, fmt.Errorf("unexpected %T", item)
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(item)
	if err != nil {
		return notificationrec.Object{}, err
	}
	return notificationrec.Object{Kind: kind, Namespace: m.GetNamespace(), Name: m.GetName(), Labels: m.GetLabels(), Content: content}, nil
}

// requestReconcile POSTs the object's /reconcile subresource, the same
// path `flux reconcile` and users take.
func (f fluxObjects) requestReconcile(ctx context.Context, o notificationrec.Object) error {
	a, err := f.access(o.Kind)
	if err != nil {
		return err
	}
	return a.client.Post().Namespace(o.Namespace).Resource(a.resource).Name(o.Name).SubResource("reconcile").
		Body([]byte(`{}`)).SetHeader("Content-Type", "application/json").Do(ctx).Error()
}

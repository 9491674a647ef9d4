package reconcile

import (
	"context"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	imagev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/v1"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	img "github.com/gitops-apiserver/gitops-apiserver/pkg/image"
	imagerec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/image"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"

	"k8s.io/client-go/rest"
)

// Flux's names for the image workers, in events and user agents.
const (
	imageReflectorController  = "image-reflector-controller"
	imageAutomationController = "image-automation-controller"
)

// imageWorkers builds the ImageRepository, ImagePolicy and
// ImageUpdateAutomation controllers and wires them to each other: a scan
// that changes a repository's tags re-evaluates its policies at once, and a
// policy whose pick changes runs its namespace's automations at once.
func (m *Manager) imageWorkers(w sourceWorkers, loopback *rest.Config) ([]Controller, func(context.Context), error) {
	reflector, err := m.clientsFor(loopback, imageReflectorController)
	if err != nil {
		return nil, nil, err
	}
	automation, err := m.clientsFor(loopback, imageAutomationController)
	if err != nil {
		return nil, nil, err
	}
	dir := m.opts.ImageTagDir
	if dir == "" {
		dir = filepath.Join(m.opts.TmpDir, "image-tags")
	}
	tags, err := img.NewTagStore(dir)
	if err != nil {
		return nil, nil, err
	}
	envFor := func(cl clients) *imagerec.Env {
		return &imagerec.Env{
			Secret: func(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
				return cl.host.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
			},
			ServiceAccount: func(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
				return cl.host.CoreV1().ServiceAccounts(namespace).Get(ctx, name, metav1.GetOptions{})
			},
			Namespace: func(ctx context.Context, name string) (*corev1.Namespace, error) {
				return cl.host.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
			},
			Tags:     tags,
			Lockdown: m.opts.NoCrossNamespaceRefs,
			Guard:    m.opts.SourceGuard,
		}
	}
	reflectorEnv, automationEnv := envFor(reflector), envFor(automation)

	iv := w.factory.Image().V1()
	repos, policies, automations := iv.ImageRepositories(), iv.ImagePolicies(), iv.ImageUpdateAutomations()
	gits := w.factory.Source().V1().GitRepositories()

	getRepo := func(namespace, name string) (*imagev1.ImageRepository, error) {
		return repos.Lister().ImageRepositories(namespace).Get(name)
	}
	update, getLive := statusWriter[*imagev1.ImageRepository](reflector.flux.ImageV1().ImageRepositories, imageReflectorController)
	rc, err := loop.New(loop.Config[*imagev1.ImageRepository]{
		Kind: "ImageRepository", Workers: m.opts.Concurrency, Informer: repos.Informer(), Get: getRepo,
		UpdateStatus: update, GetLive: getLive, Reconciler: &imagerec.ImageRepositoryReconciler{Env: reflectorEnv},
		OnDelete: func(namespace, name string) { _ = tags.Delete(namespace + "/" + name) },
		Metrics:  m.metrics,
	})
	if err != nil {
		return nil, nil, err
	}

	updateP, getLiveP := statusWriter[*imagev1.ImagePolicy](reflector.flux.ImageV1().ImagePolicies, imageReflectorController)
	pc, err := loop.New(loop.Config[*imagev1.ImagePolicy]{
		Kind: "ImagePolicy", Workers: m.opts.Concurrency, Informer: policies.Informer(),
		Get: func(namespace, name string) (*imagev1.ImagePolicy, error) {
			return policies.Lister().ImagePolicies(namespace).Get(name)
		},
		UpdateStatus: updateP, GetLive: getLiveP,
		Reconciler: &imagerec.ImagePolicyReconciler{Env: reflectorEnv, GetRepository: getRepo},
		Metrics:    m.metrics,
	})
	if err != nil {
		return nil, nil, err
	}

	updateA, getLiveA := statusWriter[*imagev1.ImageUpdateAutomation](automation.flux.ImageV1().ImageUpdateAutomations, imageAutomationController)
	srcEnv := w.env
	ac, err := loop.New(loop.Config[*imagev1.ImageUpdateAutomation]{
		Kind: "ImageUpdateAutomation", Workers: m.opts.Concurrency, Informer: automations.Informer(),
		Get: func(namespace, name string) (*imagev1.ImageUpdateAutomation, error) {
			return automations.Lister().ImageUpdateAutomations(namespace).Get(name)
		},
		UpdateStatus: updateA, GetLive: getLiveA,
		Reconciler: &imagerec.ImageUpdateAutomationReconciler{
			Env:    automationEnv,
			TmpDir: m.opts.TmpDir,
			GetGitRepository: func(namespace, name string) (*sourcev1.GitRepository, error) {
				return gits.Lister().GitRepositories(namespace).Get(name)
			},
			// The automation reads the GitRepository's Secret as the
			// source worker would, with the automation's client.
			GitOptions: func(ctx context.Context, repo *sourcev1.GitRepository) (git.Options, error) {
				env := *srcEnv
				env.Secret = automationEnv.Secret
				return env.GitOptions(ctx, repo)
			},
			ListPolicies: func(namespace string, selector labels.Selector) ([]*imagev1.ImagePolicy, error) {
				return policies.Lister().ImagePolicies(namespace).List(selector)
			},
			RequestReconcile: func(ctx context.Context, namespace, name string) error {
				return automation.flux.SourceV1().RESTClient().Post().Namespace(namespace).Resource("gitrepositories").
					Name(name).SubResource("reconcile").Body([]byte(`{}`)).SetHeader("Content-Type", "application/json").
					Do(ctx).Error()
			},
		},
		Metrics: m.metrics,
	})
	if err != nil {
		return nil, nil, err
	}

	// A scan with new tags (or a repository whose spec changed, e.g. its
	// accessFrom) re-evaluates the policies that use it.
	_, err = repos.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj interface{}) {
			o, ok1 := oldObj.(*imagev1.ImageRepository)
			n, ok2 := newObj.(*imagev1.ImageRepository)
			if !ok1 || !ok2 || (scanRevision(o) == scanRevision(n) && o.Generation == n.Generation) {
				return
			}
			all, err := policies.Lister().List(labels.Everything())
			if err != nil {
				return
			}
			for _, p := range all {
				ns := p.Spec.ImageRepositoryRef.Namespace
				if ns == "" {
					ns = p.Namespace
				}
				if ns == n.Namespace && p.Spec.ImageRepositoryRef.Name == n.Name {
					pc.Enqueue(p.Namespace, p.Name)
				}
			}
		},
	})
	if err != nil {
		return nil, nil, err
	}
	// A policy's new pick runs the automations of its namespace.
	_, err = policies.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj interface{}) {
			o, ok1 := oldObj.(*imagev1.ImagePolicy)
			n, ok2 := newObj.(*imagev1.ImagePolicy)
			if !ok1 || !ok2 || sameRef(o.Status.LatestRef, n.Status.LatestRef) {
				return
			}
			list, err := automations.Lister().ImageUpdateAutomations(n.Namespace).List(labels.Everything())
			if err != nil {
				return
			}
			for _, a := range list {
				ac.Enqueue(a.Namespace, a.Name)
			}
		},
	})
	if err != nil {
		return nil, nil, err
	}

	start := func(ctx context.Context) {
		reflectorEnv.Events = m.forwarding(eventRecorder(ctx, reflector.host, imageReflectorController), imageReflectorController)
		automationEnv.Events = m.forwarding(eventRecorder(ctx, automation.host, imageAutomationController), imageAutomationController)
	}
	return []Controller{rc, pc, ac}, start, nil
}

func scanRevision(r *imagev1.ImageRepository) string {
	if r.Status.LastScanResult == nil {
		return ""
	}
	return r.Status.LastScanResult.Revision
}

func sameRef(a, b *imagev1.ImageRef) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Package loop is the worker runtime every reconciler runs in: an informer
// feeding a rate-limited work queue, N workers per kind, requeue at the
// object's interval (with jitter), backoff on errors, status written only
// when it changed, and metrics.
package loop

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// Object is a Flux object as the generated clientset returns it.
type Object interface {
	metav1.Object
	runtime.Object
}

// Result is what one reconciliation asks of the loop.
type Result struct {
	// Err is nil on success, or one of the typed errors of this package.
	Err error
	// RequeueAfter is when to reconcile again (normally spec.interval);
	// zero means only on the next change.
	RequeueAfter time.Duration
}

// Reconciler reconciles one object. It gets a deep copy it may change;
// the loop writes the status if it differs from the cached one.
type Reconciler[T Object] interface {
	Reconcile(ctx context.Context, obj T) Result
}

// Config describes one controller.
type Config[T Object] struct {
	// Kind names the kind in logs and metrics, e.g. "GitRepository".
	Kind string
	// Workers is how many objects are reconciled at once.
	Workers int
	// Informer watches the kind; Get reads an object from its cache.
	Informer cache.SharedIndexInformer
	Get      func(namespace, name string) (T, error)
	// UpdateStatus writes obj's status through the /status subresource.
	UpdateStatus func(ctx context.Context, obj T) error
	// GetLive reads the object from the API (not the cache). When a status
	// write meets a conflict (someone changed the object meanwhile), the
	// run's status is written again onto what it reads, so the result of
	// the run (an inventory, a history) is not lost. Nil gives up and
	// retries the whole run instead.
	GetLive    func(ctx context.Context, namespace, name string) (T, error)
	Reconciler Reconciler[T]
	// OnDelete runs when an object is gone (e.g. to drop its artifacts).
	OnDelete func(namespace, name string)
	// MaxBackoff caps the exponential backoff after failures.
	MaxBackoff time.Duration
	// Metrics records reconciliations; nil records nothing.
	Metrics *Metrics
}

// Controller runs a Config.
type Controller[T Object] struct {
	cfg Config[T]
	// kind is the group and kind of the objects, for logs.
	kind    schema.GroupKind
	limiter workqueue.TypedRateLimiter[cache.ObjectName]
	queue   workqueue.TypedRateLimitingInterface[cache.ObjectName]
}

// New returns a controller; Run starts it.
func New[T Object](cfg Config[T]) (*Controller[T], error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	limiter := workqueue.NewTypedItemExponentialFailureRateLimiter[cache.ObjectName](time.Second, cfg.MaxBackoff)
	c := &Controller[T]{
		cfg:     cfg,
		kind:    objectKind[T](cfg.Kind),
		limiter: limiter,
		// Named as controller-runtime names a kind's queue, so the
		// workqueue_* metrics read as Flux's.
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(limiter,
			workqueue.TypedRateLimitingQueueConfig[cache.ObjectName]{Name: controllerName(cfg.Kind)}),
	}
	_, err := cfg.Informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueueObject,
		UpdateFunc: func(oldObj, newObj interface{}) {
			if needsReconcile(oldObj, newObj) {
				c.enqueueObject(newObj)
			}
		},
		DeleteFunc: func(obj interface{}) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if m, ok := obj.(metav1.Object); ok {
				c.cfg.Metrics.forget(c.cfg.Kind, m.GetNamespace(), m.GetName())
				if c.cfg.OnDelete != nil {
					c.cfg.OnDelete(m.GetNamespace(), m.GetName())
				}
			}
		},
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Name implements reconcile.Controller.
func (c *Controller[T]) Name() string { return c.cfg.Kind }

// Enqueue asks for a reconciliation of namespace/name now (e.g. when a
// source it depends on has a new artifact).
func (c *Controller[T]) Enqueue(namespace, name string) {
	c.queue.Add(cache.ObjectName{Namespace: namespace, Name: name})
}

func (c *Controller[T]) enqueueObject(obj interface{}) {
	if m, ok := obj.(metav1.Object); ok {
		c.Enqueue(m.GetNamespace(), m.GetName())
	}
}

// needsReconcile filters out updates that only touch status (our own
// writes) or unrelated metadata: a new generation, a reconcile request, or
// a deletion matter.
func needsReconcile(oldObj, newObj interface{}) bool {
	o, ok1 := oldObj.(metav1.Object)
	n, ok2 := newObj.(metav1.Object)
	if !ok1 || !ok2 {
		return true
	}
	return o.GetGeneration() != n.GetGeneration() ||
		o.GetAnnotations()[common.ReconcileRequestAnnotation] != n.GetAnnotations()[common.ReconcileRequestAnnotation] ||
		!reflect.DeepEqual(o.GetDeletionTimestamp(), n.GetDeletionTimestamp()) ||
		!reflect.DeepEqual(o.GetLabels(), n.GetLabels())
}

// Run works until ctx is done. The informer must be started by the caller.
func (c *Controller[T]) Run(ctx context.Context) error {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), c.cfg.Informer.HasSynced) {
		return fmt.Errorf("%s: informer cache did not sync", c.cfg.Kind)
	}
	klog.InfoS("Starting workers", "controller", controllerName(c.cfg.Kind), "controllerKind", c.kind.Kind, "workers", c.cfg.Workers)
	c.cfg.Metrics.start(c.cfg.Kind, c.cfg.Workers)
	defer c.cfg.Metrics.stop(c.cfg.Kind)
	var wg sync.WaitGroup
	for i := 0; i < c.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wait.UntilWithContext(ctx, c.work, time.Second)
		}()
	}
	<-ctx.Done()
	// Stop handing out work and wait for runs in progress, so a controller
	// started after a lost and regained Lease never overlaps this one.
	c.queue.ShutDown()
	wg.Wait()
	return nil
}

func (c *Controller[T]) work(ctx context.Context) {
	for c.next(ctx) {
	}
}

func (c *Controller[T]) next(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	c.cfg.Metrics.busy(c.cfg.Kind, 1)
	defer c.cfg.Metrics.busy(c.cfg.Kind, -1)
	c.reconcile(ctx, key)
	return true
}

func (c *Controller[T]) reconcile(ctx context.Context, key cache.ObjectName) {
	cached, err := c.cfg.Get(key.Namespace, key.Name)
	if apierrors.IsNotFound(err) {
		c.queue.Forget(key)
		return
	}
	if err != nil {
		utilruntime.HandleError(fmt.Errorf("%s %s: %w", c.cfg.Kind, key, err))
		c.queue.AddRateLimited(key)
		return
	}
	obj := cached.DeepCopyObject().(T)
	logger := c.runLogger(klog.FromContext(ctx), key)
	ctx = klog.NewContext(ctx, logger)

	start := time.Now()
	res := c.cfg.Reconciler.Reconcile(ctx, obj)
	took := time.Since(start)
	outcome, _ := Classify(res.Err, "")

	if statusChanged(cached, obj) {
		if err := c.writeStatus(ctx, key, obj); err != nil {
			c.cfg.Metrics.observe(c.cfg.Kind, obj, took, Failed, true)
			if !apierrors.IsNotFound(err) {
				logger.V(1).Info("Status update failed; retrying", "err", err)
				c.queue.AddRateLimited(key)
			}
			return
		}
	}

	var next time.Duration
	switch outcome {
	case Failed:
		next = c.limiter.When(key)
		if res.RequeueAfter > 0 && next > res.RequeueAfter {
			next = res.RequeueAfter
		}
		c.queue.AddAfter(key, next)
	case Waited, InProgress:
		c.queue.Forget(key)
		if next = requeueOf(res.Err); next <= 0 {
			next = res.RequeueAfter
		}
		if next > 0 {
			c.queue.AddAfter(key, next)
		}
	default:
		c.queue.Forget(key)
		if res.RequeueAfter > 0 {
			next = wait.Jitter(res.RequeueAfter, 0.05)
			c.queue.AddAfter(key, next)
		}
	}
	c.cfg.Metrics.observe(c.cfg.Kind, obj, took, outcome, next > 0)
	logRun(logger, outcome, res.Err, obj, took, next)
}

// statusConflictRetries is how many times a status write that met a
// conflict is tried again on a freshly read object.
const statusConflictRetries = 3

// writeStatus writes obj's status; after a conflict it carries the status
// over to the object as stored now and writes again.
func (c *Controller[T]) writeStatus(ctx context.Context, key cache.ObjectName, obj T) error {
	err := c.cfg.UpdateStatus(ctx, obj)
	for i := 0; i < statusConflictRetries && apierrors.IsConflict(err) && c.cfg.GetLive != nil; i++ {
		latest, getErr := c.cfg.GetLive(ctx, key.Namespace, key.Name)
		if getErr != nil {
			return getErr
		}
		// The status is the run's; everything else is what is stored. A
		// newer generation is reconciled next (its update event queued it).
		fresh := latest.DeepCopyObject().(T)
		copyStatus(fresh, obj)
		err = c.cfg.UpdateStatus(ctx, fresh)
	}
	return err
}

// copyStatus sets dst.Status to src.Status.
func copyStatus(dst, src runtime.Object) {
	d := reflect.ValueOf(dst).Elem().FieldByName("Status")
	s := reflect.ValueOf(src).Elem().FieldByName("Status")
	if d.IsValid() && s.IsValid() && d.CanSet() {
		d.Set(s)
	}
}

func statusChanged(old, updated runtime.Object) bool {
	o := reflect.ValueOf(old).Elem().FieldByName("Status")
	n := reflect.ValueOf(updated).Elem().FieldByName("Status")
	if !o.IsValid() || !n.IsValid() {
		return false
	}
	return !apiequality.Semantic.DeepEqual(o.Interface(), n.Interface())
}

package notification

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	notificationv1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/receiver"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// Condition reasons of Receivers, as Flux's.
const (
	receiverSucceededReason = "Succeeded"
	tokenNotFoundReason     = "TokenNotFound"
	receiverFailedReason    = "ReconciliationFailed"
)

// Object is what a Receiver's trigger needs of a target object.
type Object struct {
	Kind, Namespace, Name string
	Labels                map[string]string
	// Content is the object as JSON-like maps, for resourceFilter.
	Content map[string]any
}

// ReceiverReconciler keeps status.webhookPath of Receivers and the table of
// paths the webhook server answers.
type ReceiverReconciler struct {
	// Secret reads the token Secret.
	Secret func(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	// List returns the objects of kind in namespace with the labels.
	List func(kind, namespace string, selector labels.Selector) ([]Object, error)
	// Get returns one object (NotFound when missing).
	Get func(kind, namespace, name string) (Object, error)
	// RequestReconcile asks for a run of an object, through /reconcile.
	RequestReconcile func(ctx context.Context, obj Object) error
	// Events records Kubernetes Events about Receivers.
	Events record.EventRecorder

	mu     sync.RWMutex
	byPath map[string]*active
	pathOf map[string]string // namespace/name → path
}

// active is a Receiver the webhook server answers for.
type active struct {
	hook   receiver.Receiver
	spec   notificationv1.ReceiverSpec
	filter cel.Program // nil: every resource
	ref    *notificationv1.Receiver
}

var _ loop.Reconciler[*notificationv1.Receiver] = &ReceiverReconciler{}

// Reconcile implements loop.Reconciler.
func (r *ReceiverReconciler) Reconcile(ctx context.Context, obj *notificationv1.Receiver) loop.Result {
	key := obj.Namespace + "/" + obj.Name
	if obj.DeletionTimestamp != nil || obj.Spec.Suspend {
		r.Forget(obj.Namespace, obj.Name)
		return loop.Result{}
	}
	loop.RecordReconcileRequest(obj, &obj.Status.ReconcileRequestStatus)
	interval := 10 * time.Minute
	if obj.Spec.Interval != nil {
		if d, err := obj.Spec.Interval.Parse(); err == nil && d > 0 {
			interval = d
		}
	}
	path, err := r.activate(ctx, obj)
	msg := ""
	if err == nil {
		obj.Status.WebhookPath = path
		msg = "Receiver initialized for path: " + path
	} else {
		r.Forget(obj.Namespace, obj.Name)
	}
	loop.Summarize(&obj.Status.Conditions, loop.Summary{Err: err, Generation: obj.Generation,
		SuccessReason: receiverSucceededReason, SuccessMessage: msg, FailureReason: receiverFailedReason})
	if outcome, _ := loop.Classify(err, ""); outcome == loop.Succeeded || outcome == loop.Stalled {
		obj.Status.ObservedGeneration = obj.Generation
	}
	klog.FromContext(ctx).V(2).Info("Receiver reconciled", "receiver", key, "err", err)
	return loop.Result{Err: err, RequeueAfter: interval}
}

// activate validates obj, reads its token and (re)registers its path.
func (r *ReceiverReconciler) activate(ctx context.Context, obj *notificationv1.Receiver) (string, error) {
	if len(obj.Spec.OIDCProviders) > 0 {
		return "", loop.Stallf(receiverFailedReason, "spec.oidcProviders: OIDC verification of webhook callers is not supported by this server")
	}
	if obj.Spec.SecretRef == nil {
		return "", loop.Stallf(tokenNotFoundReason, "spec.secretRef is required: the token Secret")
	}
	s, err := r.Secret(ctx, obj.Namespace, obj.Spec.SecretRef.Name)
	if apierrors.IsNotFound(err) {
		return "", loop.Failf(tokenNotFoundReason, "Secret %s/%s (spec.secretRef) not found", obj.Namespace, obj.Spec.SecretRef.Name)
	}
	if err != nil {
		return "", loop.Failf(tokenNotFoundReason, "Secret %s/%s (spec.secretRef): %v", obj.Namespace, obj.Spec.SecretRef.Name, err)
	}
	token := strings.TrimSpace(string(s.Data["token"]))
	if token == "" {
		return "", loop.Stallf(tokenNotFoundReason, "Secret %s/%s (spec.secretRef) has no key token", obj.Namespace, obj.Spec.SecretRef.Name)
	}
	hook := receiver.Receiver{Namespace: obj.Namespace, Name: obj.Name, Type: obj.Spec.Type, Token: token, Events: obj.Spec.Events}
	if err := receiver.CheckType(hook.Type); err != nil {
		return "", loop.Stallf(receiverFailedReason, "spec.type: %v", err)
	}
	var filter cel.Program
	if obj.Spec.ResourceFilter != "" {
		if filter, err = compileFilter(obj.Spec.ResourceFilter); err != nil {
			return "", loop.Stallf(receiverFailedReason, "spec.resourceFilter: %v", err)
		}
	}
	for i, res := range obj.Spec.Resources {
		if res.Filter != "" {
			return "", loop.Stallf(receiverFailedReason, "spec.resources[%d].filter: per-resource filters are not supported by this server; use spec.resourceFilter", i)
		}
	}
	path := receiver.WebhookPath(token, obj.Name, obj.Namespace)
	r.register(path, &active{hook: hook, spec: *obj.Spec.DeepCopy(), filter: filter, ref: obj.DeepCopy()})
	return path, nil
}

func (r *ReceiverReconciler) register(path string, a *active) {
	key := a.hook.Namespace + "/" + a.hook.Name
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byPath == nil {
		r.byPath, r.pathOf = map[string]*active{}, map[string]string{}
	}
	if old, ok := r.pathOf[key]; ok && old != path {
		delete(r.byPath, old)
	}
	r.byPath[path], r.pathOf[key] = a, path
}

// Forget stops answering for a Receiver (deleted, suspended or invalid).
func (r *ReceiverReconciler) Forget(namespace, name string) {
	key := namespace + "/" + name
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.pathOf[key]; ok {
		delete(r.byPath, p)
		delete(r.pathOf, key)
	}
}

// Lookup is the webhook server's table of paths.
func (r *ReceiverReconciler) Lookup(path string) (receiver.Receiver, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.byPath[path]
	if !ok {
		return receiver.Receiver{}, false
	}
	return a.hook, true
}

// Trigger requests a reconcile of every resource of a verified call's
// Receiver (those resourceFilter lets through), as Flux does.
func (r *ReceiverReconciler) Trigger(ctx context.Context, hook receiver.Receiver, payload []byte) error {
	r.mu.RLock()
	a, ok := r.byPath[receiver.WebhookPath(hook.Token, hook.Name, hook.Namespace)]
	r.mu.RUnlock()
	if !ok {
		return fmt.Errorf("receiver %s/%s is gone", hook.Namespace, hook.Name)
	}
	var req map[string]any
	if a.filter != nil {
		_ = json.Unmarshal(payload, &req) // a non-JSON payload filters as an empty request
	}
	var errs []string
	n := 0
	for _, res := range a.spec.Resources {
		objs, err := r.targets(hook.Namespace, res)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		for _, o := range objs {
			if a.filter != nil && !accepts(a.filter, o, req) {
				continue
			}
			if err := r.RequestReconcile(ctx, o); err != nil {
				errs = append(errs, fmt.Sprintf("%s/%s/%s: %v", o.Kind, o.Namespace, o.Name, err))
				continue
			}
			n++
		}
	}
	msg := fmt.Sprintf("handled webhook call: requested the reconciliation of %d object(s)", n)
	if len(errs) > 0 {
		msg += "; failed: " + strings.Join(errs, "; ")
		r.Events.Event(a.ref, corev1.EventTypeWarning, receiverFailedReason, msg)
		return fmt.Errorf("%s", msg)
	}
	r.Events.Event(a.ref, corev1.EventTypeNormal, receiverSucceededReason, msg)
	return nil
}

// targets resolves one spec.resources entry: one object by name, or every
// object of the kind with matchLabels when the name is "*".
func (r *ReceiverReconciler) targets(namespace string, res notificationv1.ReceiverResource) ([]Object, error) {
	if res.Namespace != "" {
		namespace = res.Namespace
	}
	if res.Name == "*" {
		// As Flux: a wildcard without labels would trigger every object of
		// the kind in the namespace, so it is refused.
		if len(res.MatchLabels) == 0 {
			return nil, fmt.Errorf("%s/%s/*: matchLabels must be set when the name is the wildcard '*'", res.Kind, namespace)
		}
		return r.List(res.Kind, namespace, labels.SelectorFromSet(res.MatchLabels))
	}
	o, err := r.Get(res.Kind, namespace, res.Name)
	if err != nil {
		return nil, fmt.Errorf("%s/%s/%s: %w", res.Kind, namespace, res.Name, err)
	}
	return []Object{o}, nil
}

// compileFilter compiles spec.resourceFilter: a CEL expression over res
// (the object) and req (the webhook's JSON payload) that must be a bool.
func compileFilter(expr string) (cel.Program, error) {
	env, err := cel.NewEnv(cel.Variable("res", cel.DynType), cel.Variable("req", cel.DynType))
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, iss.Err()
	}
	if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("the expression must be a bool, not %s", ast.OutputType())
	}
	return env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(1_000_000))
}

func accepts(p cel.Program, o Object, req map[string]any) bool {
	if req == nil {
		req = map[string]any{}
	}
	out, _, err := p.Eval(map[string]any{"res": o.Content, "req": req})
	if err != nil {
		return false
	}
	b, ok := out.Value().(bool)
	return ok && b
}

package ssa

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ApplyOptions tune ApplyAllStaged.
type ApplyOptions struct {
	// Force recreates an object whose change the server refuses because a
	// field is immutable (spec.force). Objects annotated
	// <group>/force: Enabled are recreated regardless.
	Force bool
	// WaitInterval and WaitTimeout bound the wait for the first stage
	// (CRDs Established, Namespaces Active) and for deletions when
	// recreating. Defaults: 500ms and 1m.
	WaitInterval, WaitTimeout time.Duration
	// DryRunFirst dry-runs the objects of a stage before applying any of
	// it, so an invalid object fails the stage with nothing of it written
	// (the cluster keeps the last good state). Objects whose manifest is
	// exactly what the Manager applied successfully before are not
	// dry-run again: the server accepted them. It costs one more request
	// per new or changed object; callers ask for it when the manifests
	// changed.
	DryRunFirst bool
	// Keep returns, for an object, JSON pointers whose fields are left to
	// whoever wrote them (spec.ignore): under the Override policy kubectl's
	// edits elsewhere are taken over and reverted, not those. Only paths of
	// object keys are honoured. Nil keeps nothing.
	Keep func(obj *unstructured.Unstructured) []string
	// Owned lists the IDs the caller applied before (its inventory). An
	// object that is neither in it nor known to the Manager is applied
	// without reading it first: most likely it does not exist yet, and a
	// 201 says so. When it did exist it is reported configured.
	Owned map[string]bool
	// Current, when set, may name a newer resourceVersion of an object
	// the Manager last saw at seen, when the caller knows (from a watch)
	// that what changed since is not the applied content: a controller's
	// status write, another writer's annotation. The apply then carries it
	// as its precondition instead of meeting a 409 and reading the object
	// first. "" keeps seen.
	Current func(resource schema.GroupVersionResource, namespace, name, seen string) string
}

func (o ApplyOptions) withDefaults() ApplyOptions {
	if o.WaitInterval <= 0 {
		o.WaitInterval = 500 * time.Millisecond
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = time.Minute
	}
	return o
}

// maxConflicts bounds how often an apply is repeated after its
// resourceVersion precondition failed (someone else keeps writing).
const maxConflicts = 3

// target is one object to apply.
type target struct {
	body    *unstructured.Unstructured // what is sent: applyBody of the manifest
	gvk     schema.GroupVersionKind
	subject string
}

// applied is the outcome of applying one target.
type applied struct {
	change Change
	live   *unstructured.Unstructured // as stored; nil when skipped
}

// ApplyAllStaged server-side applies objs as the owner's field manager,
// forcing conflicts, in stages (see the package documentation): after the
// first stage it waits until the CRDs are Established and the Namespaces
// Active, and makes the REST mapper re-read discovery if a CRD changed.
// Within a stage up to four objects are applied at once; the changes keep
// the stage order and, within a stage, the order of objs. Applying stops at
// the first failure, and the changes made so far are returned with an error
// naming the object.
//
// Objects are skipped (ActionSkipped, nothing sent) when the manifest says
// <group>/ssa: Ignore or <group>/reconcile: disabled, and when the
// in-cluster object carries reconcile: disabled (annotation or label) or
// ssa: Ignore. An existing object annotated ssa: IfNotPresent is left as it
// is and reported unchanged: it remains part of the set (and is pruned with
// it). Namespaced objects need metadata.namespace; cluster-scoped ones lose
// theirs.
func (m *Manager) ApplyAllStaged(ctx context.Context, objs []*unstructured.Unstructured, opts ApplyOptions) ([]Change, error) {
	opts = opts.withDefaults()
	targets := make([]*target, len(objs))
	kinds := make([]schema.GroupKind, len(objs))
	for i, u := range objs {
		t, err := newTarget(u)
		if err != nil {
			return nil, err
		}
		targets[i], kinds[i] = t, t.gvk.GroupKind()
	}
	var changes []Change
	for s, idx := range splitStages(kinds) {
		if len(idx) == 0 {
			continue
		}
		stage := make([]*target, len(idx))
		for j, i := range idx {
			stage[j] = targets[i]
		}
		if opts.DryRunFirst {
			if err := m.dryRunStage(ctx, stage, opts); err != nil {
				return changes, err
			}
		}
		results, err := m.applyStage(ctx, stage, opts)
		for _, r := range results {
			changes = append(changes, r.change)
		}
		if err != nil {
			return changes, err
		}
		if s == stageDefinitions {
			if err := m.settleDefinitions(ctx, results, opts); err != nil {
				return changes, err
			}
		}
	}
	return changes, nil
}

// newTarget checks what can be checked of u without the server.
func newTarget(u *unstructured.Unstructured) (*target, error) {
	gvk := u.GroupVersionKind()
	switch {
	case u.GetKind() == "" || gvk.Version == "":
		return nil, fmt.Errorf("object %q has no apiVersion or kind", u.GetName())
	case u.GetName() == "":
		return nil, fmt.Errorf("%s without metadata.name (generateName cannot be applied)", u.GetKind())
	}
	return &target{body: applyBody(u), gvk: gvk, subject: subjectOf(u)}, nil
}

// applyStage applies targets with bounded parallelism. It returns the
// outcomes of the targets that were applied, in order, and the failures;
// after a failure no further target is started.
func (m *Manager) applyStage(ctx context.Context, targets []*target, opts ApplyOptions) ([]applied, error) {
	return untilFailure(ctx, len(targets), func(i int) (applied, error) {
		return m.applyOne(ctx, targets[i], opts)
	})
}

// dryRunStage server-side dry-runs the targets (as the apply would, but
// without the resourceVersion precondition) and returns every failure,
// each naming its object. Skipped and IfNotPresent objects are left out;
// an immutable-field error is no failure when the object will be
// recreated.
func (m *Manager) dryRunStage(ctx context.Context, targets []*target, opts ApplyOptions) error {
	errs := make([]error, len(targets))
	forEach(ctx, len(targets), func() bool { return false }, func(i int) {
		t := targets[i]
		policy := m.keys.desiredPolicy(t.body)
		if policy == policyIgnore || policy == policyIfNotPresent {
			return
		}
		mp, err := m.mapping(ctx, t.gvk)
		if err != nil {
			errs[i] = fmt.Errorf("%s: %w", t.subject, err)
			return
		}
		body := t.body.DeepCopy()
		if err := checkScope(mp, body); err != nil {
			errs[i] = err
			return
		}
		if m.acceptedBefore(changeOf(body, ActionSkipped).ID, body) {
			return
		}
		_, _, err = m.applyRequest(ctx, mp, body, "", true)
		if err != nil && !(isImmutableError(err) && (opts.Force || m.keys.forceEnabled(t.body))) {
			errs[i] = objectError(t.gvk.GroupKind(), subjectOf(body), "dry-run", err)
		}
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// applyOne applies one object: one request when the Manager knows its
// resourceVersion and nobody changed it since; a read first otherwise.
func (m *Manager) applyOne(ctx context.Context, t *target, opts ApplyOptions) (applied, error) {
	policy := m.keys.desiredPolicy(t.body)
	if policy == policyIgnore {
		// Not even looked up: its kind need not be served.
		return applied{change: changeOf(t.body, ActionSkipped)}, nil
	}
	mp, err := m.mapping(ctx, t.gvk)
	if err != nil {
		return applied{}, fmt.Errorf("%s: %w", t.subject, err)
	}
	if err := checkScope(mp, t.body); err != nil {
		return applied{}, err
	}
	change := changeOf(t.body, ActionSkipped)
	t.subject = change.Subject // checkScope may have dropped the namespace
	res, err := m.applyKnown(ctx, mp, t, change, policy, opts)
	res.change.Live = liveOf(mp.Resource, res.live, t.body)
	return res, err
}

// applyKnown applies t against what the Manager last saw of it, reading it
// first when that is unknown or not to be trusted.
func (m *Manager) applyKnown(ctx context.Context, mp *meta.RESTMapping, t *target, change Change, policy applyPolicy, opts ApplyOptions) (applied, error) {
	gk := t.gvk.GroupKind()
	seen, known := m.seen.get(change.ID)
	// Read first when the cache cannot be trusted, for IfNotPresent (only
	// existence matters), and when the policy became Override (kubectl's
	// fields may need taking over).
	mustRead := !known || seen.reread || policy == policyIfNotPresent || (policy == policyOverride && !seen.override)
	if !known && opts.Owned != nil && !opts.Owned[change.ID] && policy != policyIfNotPresent {
		mustRead = false
	}
	rv, before, haveBefore := seen.resourceVersion, seen.content, known
	if !mustRead && rv != "" && opts.Current != nil {
		if current := opts.Current(mp.Resource, t.body.GetNamespace(), t.body.GetName(), rv); current != "" {
			rv = current
		}
	}
	for conflicts := 0; ; conflicts++ {
		if mustRead {
			live, err := m.get(ctx, mp, t.body.GetNamespace(), t.body.GetName())
			if err != nil {
				return applied{}, objectError(gk, t.subject, "read", err)
			}
			rv, haveBefore = "", live != nil
			if live != nil {
				if m.keys.liveExcluded(live) {
					m.remember(change.ID, live, false)
					return applied{change: change, live: live}, nil
				}
				if policy == policyIfNotPresent {
					// Left as it is but still ours: unchanged, not
					// skipped, so that it stays in the inventory.
					m.remember(change.ID, live, false)
					change.Action = ActionUnchanged
					return applied{change: change, live: live}, nil
				}
				rv, before = live.GetResourceVersion(), contentHash(live)
				if policy == policyOverride {
					var keep []string
					if opts.Keep != nil {
						keep = opts.Keep(t.body)
					}
					rv = m.takeOverKubectlFields(ctx, mp, t.body, live, keep)
				}
			}
		}
		out, created, err := m.applyRequest(ctx, mp, t.body, rv, false)
		switch {
		case err != nil && apierrors.IsConflict(err) && rv != "" && conflicts < maxConflicts:
			// Changed since we last saw it: read it, then apply again.
			mustRead = true
			continue
		case err != nil && isImmutableError(err) && (opts.Force || m.keys.forceEnabled(t.body)):
			return m.recreate(ctx, mp, t, change, policy == policyOverride, opts)
		case err != nil && isImmutableError(err):
			return applied{}, fmt.Errorf("%w; %s", objectError(gk, t.subject, "apply", err), m.keys.immutableHint())
		case err != nil:
			return applied{}, objectError(gk, t.subject, "apply", err)
		}
		after := m.remember(change.ID, out, policy == policyOverride)
		m.accepted(change.ID, t.body)
		switch {
		case created:
			change.Action = ActionCreated
		case rv != "" && out.GetResourceVersion() == rv:
			change.Action = ActionUnchanged
		case haveBefore && after.content == before:
			// Written, but only managedFields changed (e.g. the server's
			// first record of our ownership).
			change.Action = ActionUnchanged
		default:
			change.Action = ActionConfigured
		}
		return applied{change: change, live: out}, nil
	}
}

// checkScope requires a namespace on namespaced objects and drops it from
// cluster-scoped ones (as kubectl does), so IDs match what is stored.
func checkScope(mp *meta.RESTMapping, u *unstructured.Unstructured) error {
	if mp.Scope.Name() == meta.RESTScopeNameNamespace {
		if u.GetNamespace() == "" {
			return fmt.Errorf("%s/%s namespace not specified: set metadata.namespace (or the Kustomization's spec.targetNamespace)", u.GetKind(), u.GetName())
		}
		return nil
	}
	u.SetNamespace("")
	return nil
}

// recreate deletes the object, waits until it is gone and applies it again.
func (m *Manager) recreate(ctx context.Context, mp *meta.RESTMapping, t *target, change Change, override bool, opts ApplyOptions) (applied, error) {
	gk := t.gvk.GroupKind()
	ns, name := t.body.GetNamespace(), t.body.GetName()
	bg := metav1.DeletePropagationBackground
	err := m.resource(mp, ns).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &bg})
	if err != nil && !apierrors.IsNotFound(err) {
		return applied{}, objectError(gk, t.subject, "delete (to recreate it)", err)
	}
	m.seen.forget(change.ID)
	item := &waitItem{mp: mp, namespace: ns, name: name, subject: t.subject}
	if err := m.pollItems(ctx, []*waitItem{item}, opts.WaitInterval, opts.WaitTimeout, m.goneCheck); err != nil {
		return applied{}, fmt.Errorf("%s recreate: %w", t.subject, err)
	}
	out, _, err := m.applyRequest(ctx, mp, t.body, "", false)
	if err != nil {
		return applied{}, objectError(gk, t.subject, "apply (recreating it)", err)
	}
	m.remember(change.ID, out, override)
	m.accepted(change.ID, t.body)
	change.Action = ActionCreated
	return applied{change: change, live: out}, nil
}

package ssa

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// DeleteOptions tune Delete.
type DeleteOptions struct {
	// Labels must all be on the live object, with these values, for it to
	// be deleted (e.g. kustomize.toolkit.fluxcd.io/name and /namespace);
	// objects without them were adopted by something else and are skipped.
	// Objects annotated (or labelled) <group>/prune: disabled,
	// <group>/reconcile: disabled or <group>/ssa: Ignore are skipped too.
	Labels map[string]string
	// DryRun reports what would be deleted or skipped and deletes nothing.
	DryRun bool
	// PropagationPolicy defaults to Background.
	PropagationPolicy metav1.DeletionPropagation
}

// Delete deletes the objects named by refs: ordinary objects first, then
// class definitions, then CRDs, Namespaces and ClusterRoles (the reverse of
// the apply stages). Objects that do not exist, or whose kind is not served,
// are left out silently; each other object gets a Change, deleted or
// skipped. A failure does not stop the other deletions; all failures are
// returned together.
func (m *Manager) Delete(ctx context.Context, refs []Ref, opts DeleteOptions) ([]Change, error) {
	if opts.PropagationPolicy == "" {
		opts.PropagationPolicy = metav1.DeletePropagationBackground
	}
	kinds := make([]schema.GroupKind, len(refs))
	for i, r := range refs {
		_, gvk, err := ParseRef(r)
		if err != nil {
			return nil, err
		}
		kinds[i] = gvk.GroupKind()
	}
	order := deletionOrder(kinds)
	changes := make([]*Change, len(order))
	errs := make([]error, len(order))
	forEach(ctx, len(order), func() bool { return false }, func(i int) {
		changes[i], errs[i] = m.deleteOne(ctx, refs[order[i]], opts)
	})
	var out []Change
	for i := range order {
		if changes[i] != nil {
			out = append(out, *changes[i])
		}
	}
	err := errors.Join(errs...)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return out, err
}

// deleteOne deletes one object if its labels and annotations allow it. It
// returns nil when there was nothing to delete.
func (m *Manager) deleteOne(ctx context.Context, ref Ref, opts DeleteOptions) (*Change, error) {
	id, gvk, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	subj := subject(gvk.Kind, id.Namespace, id.Name)
	change := &Change{ID: ref.ID, Version: ref.Version, Subject: subj, Action: ActionSkipped}
	mp, err := m.mapping(ctx, gvk)
	if isNotServed(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", subj, err)
	}
	live, err := m.get(ctx, mp, id.Namespace, id.Name)
	if err != nil {
		return nil, objectError(gvk.GroupKind(), subj, "read", err)
	}
	if live == nil {
		m.seen.forget(ref.ID)
		return nil, nil
	}
	if m.keys.pruneExcluded(live) || !hasLabels(live, opts.Labels) {
		return change, nil
	}
	change.Action = ActionDeleted
	if live.GetDeletionTimestamp() != nil || opts.DryRun {
		return change, nil // already going away, or only asked
	}
	uid := live.GetUID()
	policy := opts.PropagationPolicy
	err = m.resource(mp, id.Namespace).Delete(ctx, id.Name, metav1.DeleteOptions{
		PropagationPolicy: &policy,
		// Never delete an object recreated since we read it.
		Preconditions: &metav1.Preconditions{UID: &uid},
	})
	switch {
	case apierrors.IsNotFound(err):
		m.seen.forget(ref.ID)
		return nil, nil // deleted by someone else meanwhile
	case apierrors.IsConflict(err):
		change.Action = ActionSkipped // replaced by a new object meanwhile
		return change, nil
	case err != nil:
		return nil, objectError(gvk.GroupKind(), subj, "delete", err)
	}
	m.seen.forget(ref.ID)
	return change, nil
}

package ssa

import (
	"context"
	"fmt"

	"github.com/pmezard/go-difflib/difflib"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// DiffEntry is what applying one object would do.
type DiffEntry struct {
	Subject string
	ID      string
	Version string
	// Action is created, configured, unchanged or skipped.
	Action Action
	// Diff is a unified diff of the live object against the result of a
	// server-side dry-run apply, both as YAML without server-managed
	// metadata and status; set for configured objects only. Secret values
	// are masked.
	Diff string
}

// Diff dry-runs the apply of every object (dryRun=All, the owner's field
// manager, forced conflicts) and compares the result with the live object.
// It costs two requests per object (read, dry-run) and changes nothing.
// Objects whose kind or namespace is only created by this same set cannot
// be dry-run yet and are reported as created. The entries keep the order of
// objs; the first failure ends the diff.
func (m *Manager) Diff(ctx context.Context, objs []*unstructured.Unstructured) ([]DiffEntry, error) {
	targets := make([]*target, len(objs))
	defined := map[schema.GroupKind]bool{}
	for i, u := range objs {
		t, err := newTarget(u)
		if err != nil {
			return nil, err
		}
		targets[i] = t
		if t.gvk.GroupKind() == crdKind {
			for _, gvk := range servedKinds(u) {
				defined[gvk.GroupKind()] = true
			}
		}
	}
	return untilFailure(ctx, len(targets), func(i int) (DiffEntry, error) {
		return m.diffOne(ctx, targets[i], defined)
	})
}

func (m *Manager) diffOne(ctx context.Context, t *target, defined map[schema.GroupKind]bool) (DiffEntry, error) {
	gk := t.gvk.GroupKind()
	entry := DiffEntry{Subject: t.subject, ID: RefOf(t.body).ID, Version: t.gvk.Version, Action: ActionSkipped}
	policy := m.keys.desiredPolicy(t.body)
	if policy == policyIgnore {
		return entry, nil
	}
	mp, err := m.mapping(ctx, t.gvk)
	if err != nil {
		if isNotServed(err) && defined[gk] {
			entry.Action = ActionCreated
			return entry, nil
		}
		return DiffEntry{}, fmt.Errorf("%s: %w", t.subject, err)
	}
	if err := checkScope(mp, t.body); err != nil {
		return DiffEntry{}, err
	}
	entry.ID, entry.Subject = RefOf(t.body).ID, subjectOf(t.body) // checkScope may have dropped the namespace
	live, err := m.get(ctx, mp, t.body.GetNamespace(), t.body.GetName())
	if err != nil {
		return DiffEntry{}, objectError(gk, entry.Subject, "read", err)
	}
	if live != nil {
		m.refresh(entry.ID, live)
	}
	if live != nil && m.keys.liveExcluded(live) {
		return entry, nil
	}
	if live != nil && policy == policyIfNotPresent {
		entry.Action = ActionUnchanged // as ApplyAllStaged reports it
		return entry, nil
	}
	merged, _, err := m.applyRequest(ctx, mp, t.body, "", true)
	switch {
	case err != nil && live == nil && apierrors.IsNotFound(err):
		// Its namespace does not exist yet.
		entry.Action = ActionCreated
		return entry, nil
	case err != nil && isImmutableError(err):
		return DiffEntry{}, fmt.Errorf("%w; %s", objectError(gk, entry.Subject, "dry-run", err), m.keys.immutableHint())
	case err != nil:
		return DiffEntry{}, objectError(gk, entry.Subject, "dry-run", err)
	case live == nil:
		entry.Action = ActionCreated
		return entry, nil
	}
	before, after := normalize(live), normalize(merged)
	if gk == secretKind {
		maskSecret(before, after)
	}
	text, err := renderDiff(entry.Subject, before, after)
	if err != nil {
		return DiffEntry{}, fmt.Errorf("%s: %w", entry.Subject, err)
	}
	entry.Action = ActionUnchanged
	if text != "" {
		entry.Action, entry.Diff = ActionConfigured, text
	}
	return entry, nil
}

// normalize returns a copy of u without what the server manages.
func normalize(u *unstructured.Unstructured) *unstructured.Unstructured {
	out := u.DeepCopy()
	for _, f := range []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"} {
		unstructured.RemoveNestedField(out.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(out.Object, "status")
	return out
}

// renderDiff is the unified diff of two objects as YAML, empty when they are
// equal.
func renderDiff(subj string, before, after *unstructured.Unstructured) (string, error) {
	a, err := yaml.Marshal(before.Object)
	if err != nil {
		return "", err
	}
	b, err := yaml.Marshal(after.Object)
	if err != nil {
		return "", err
	}
	if string(a) == string(b) {
		return "", nil
	}
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        difflib.SplitLines(string(a)),
		B:        difflib.SplitLines(string(b)),
		FromFile: subj + " (live)",
		ToFile:   subj + " (after apply)",
		Context:  3,
	})
}

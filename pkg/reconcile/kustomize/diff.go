package kustomize

import (
	"context"

	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/inspect"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// Diff reports what a reconciliation of obj would change now: each built
// object created, configured (with a diff) or unchanged, as a server-side
// dry-run with obj's identity shows it, and, when obj prunes, the objects
// that would be deleted. Nothing is written.
func (r *Reconciler) Diff(ctx context.Context, obj *kustomizev1.Kustomization) (*inspect.DiffReport, error) {
	// External artifacts and remote bases are fetched as for a run.
	ctx = netguard.WithContext(ctx, r.Guard)
	src, key, err := r.source(obj)
	if err != nil {
		return nil, err
	}
	if err := checkDecryption(obj); err != nil {
		return nil, err
	}
	// Decrypted as for an apply, so the diff shows the same objects;
	// Secret values are masked, and any decrypted value elsewhere redacted.
	objs, dec, err := r.build(ctx, obj, key, src.Artifact)
	if err != nil {
		return nil, err
	}
	mgr, err := r.manager(ctx, obj)
	if err != nil {
		return nil, err
	}
	entries, err := mgr.Diff(ctx, objs)
	if err != nil {
		return nil, redactErr(err, dec)
	}
	report := &inspect.DiffReport{
		Kind: inspect.DiffReportKind, APIVersion: inspect.APIVersion,
		Object:   inspect.ObjectRef{APIVersion: kustomizev1.SchemeGroupVersion.String(), Kind: "Kustomization", Namespace: obj.Namespace, Name: obj.Name},
		Revision: src.Artifact.Revision,
		Objects:  []inspect.ObjectDiff{},
	}
	built := &kustomizev1.ResourceInventory{}
	for _, e := range entries {
		report.Objects = append(report.Objects, inspect.ObjectDiff{Object: refOf(e.ID, e.Version), Action: string(e.Action), Diff: dec.Redact(e.Diff)})
		built.Entries = append(built.Entries, kustomizev1.ResourceRef{ID: e.ID, Version: e.Version})
	}
	if obj.Spec.Prune {
		// Ask the cluster as a prune would: objects that say prune:
		// disabled, reconcile: disabled or ssa: Ignore, or that another
		// owner took, are skipped, not pruned.
		stale, err := mgr.Delete(ctx, diffInventory(obj.Status.Inventory, built), ssa.DeleteOptions{Labels: ownerLabels(obj), DryRun: true})
		if err != nil {
			return nil, redactErr(err, dec)
		}
		for _, c := range stale {
			action := inspect.ActionPruned
			if c.Action != ssa.ActionDeleted {
				action = inspect.ActionSkipped
			}
			report.Objects = append(report.Objects, inspect.ObjectDiff{Object: refOf(c.ID, c.Version), Action: action})
		}
	}
	return report, nil
}

// refOf turns an inventory entry into an ObjectRef.
func refOf(id, version string) inspect.ObjectRef {
	ref, err := inspect.ParseInventoryID(id, version)
	if err != nil {
		return inspect.ObjectRef{Name: id, APIVersion: version}
	}
	return ref
}

package kustomize

import (
	"encoding/json"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// inventoryOf is the inventory of an apply: every object of the built set,
// including those skipped because the manifest says reconcile: disabled or
// the live object says ssa: Ignore. As in Flux they stay in the inventory,
// so they are never taken for objects that left the source and pruned.
func inventoryOf(changes []ssa.Change) *kustomizev1.ResourceInventory {
	inv := &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{}}
	for _, c := range changes {
		inv.Entries = append(inv.Entries, kustomizev1.ResourceRef{ID: c.ID, Version: c.Version})
	}
	return inv
}

// diffInventory returns the entries of old that are not in updated.
func diffInventory(old, updated *kustomizev1.ResourceInventory) []ssa.Ref {
	if old == nil {
		return nil
	}
	keep := map[string]bool{}
	if updated != nil {
		for _, e := range updated.Entries {
			keep[e.ID] = true
		}
	}
	var out []ssa.Ref
	for _, e := range old.Entries {
		if !keep[e.ID] {
			out = append(out, ssa.Ref{ID: e.ID, Version: e.Version})
		}
	}
	return out
}

// remaining is what of stale was not deleted.
func remaining(stale []ssa.Ref, deleted []ssa.Change) *kustomizev1.ResourceInventory {
	gone := map[string]bool{}
	for _, c := range deleted {
		if c.Action == ssa.ActionDeleted {
			gone[c.ID] = true
		}
	}
	inv := &kustomizev1.ResourceInventory{}
	for _, s := range stale {
		if !gone[s.ID] {
			inv.Entries = append(inv.Entries, kustomizev1.ResourceRef{ID: s.ID, Version: s.Version})
		}
	}
	return inv
}

func mergeInventories(a, b *kustomizev1.ResourceInventory) *kustomizev1.ResourceInventory {
	out := &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{}}
	seen := map[string]bool{}
	for _, inv := range []*kustomizev1.ResourceInventory{a, b} {
		if inv == nil {
			continue
		}
		for _, e := range inv.Entries {
			if !seen[e.ID] {
				seen[e.ID] = true
				out.Entries = append(out.Entries, e)
			}
		}
	}
	return out
}

// ownedIDs is the set of inventory IDs (never nil).
func ownedIDs(inv *kustomizev1.ResourceInventory) map[string]bool {
	owned := map[string]bool{}
	if inv != nil {
		for _, e := range inv.Entries {
			owned[e.ID] = true
		}
	}
	return owned
}

func hasInventory(obj *kustomizev1.Kustomization) bool {
	return obj.Status.Inventory != nil && len(obj.Status.Inventory.Entries) > 0
}

// lastAppliedDigest is the digest of the manifests last applied
// successfully, from status.history.
func lastAppliedDigest(st *kustomizev1.KustomizationStatus) string {
	for _, h := range st.History {
		if h.LastReconciledStatus == kustomize.ReconciliationSucceededReason {
			return h.Digest
		}
	}
	return ""
}

// recordHistory adds a reconciliation to status.history: the entry of the
// same applied state is updated, newest first, at most historyLimit.
func recordHistory(st *kustomizev1.KustomizationStatus, digest, revision, status string, start time.Time, took time.Duration) {
	now := metav1.NewTime(start.Add(took).Truncate(time.Second))
	for i := range st.History {
		h := &st.History[i]
		if h.Digest == digest {
			h.LastReconciled = now
			h.LastReconciledDuration = metav1.Duration{Duration: took}
			h.LastReconciledStatus = status
			h.TotalReconciliations++
			if revision != "" {
				h.Metadata = map[string]string{"revision": revision}
			}
			sort.SliceStable(st.History, func(a, b int) bool {
				return st.History[a].LastReconciled.After(st.History[b].LastReconciled.Time)
			})
			return
		}
	}
	entry := common.Snapshot{
		Digest: digest, FirstReconciled: now, LastReconciled: now,
		LastReconciledDuration: metav1.Duration{Duration: took}, LastReconciledStatus: status,
		TotalReconciliations: 1,
	}
	if revision != "" {
		entry.Metadata = map[string]string{"revision": revision}
	}
	st.History = append([]common.Snapshot{entry}, st.History...)
	if len(st.History) > historyLimit {
		st.History = st.History[:historyLimit]
	}
}

// maxStatusBytes is the most a Kustomization's status may take when stored,
// well under etcd's default request limit (1.5 MiB) to leave room for the
// rest of the object.
const maxStatusBytes = 1 << 20

// inventoryTooLarge returns a Stalling error when obj's status would not
// fit in one stored object; only large inventories are measured.
func inventoryTooLarge(obj *kustomizev1.Kustomization) error {
	inv := obj.Status.Inventory
	if inv == nil || len(inv.Entries) < 4000 {
		return nil
	}
	b, err := json.Marshal(&obj.Status)
	if err != nil || len(b) <= maxStatusBytes {
		return nil
	}
	return loop.Stallf(kustomize.ReconciliationFailedReason,
		"the inventory of %d objects takes %d KiB, more than one stored object can hold (%d KiB): split this Kustomization into several",
		len(inv.Entries), len(b)>>10, maxStatusBytes>>10)
}

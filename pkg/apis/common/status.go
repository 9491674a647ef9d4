package common

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ReconcileRequestStatus records the last handled value of the
// reconcile.fluxcd.io/requestedAt annotation (or /reconcile request).
type ReconcileRequestStatus struct {
	// LastHandledReconcileAt holds the value of the most recent reconcile
	// request handled by the workers.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
}

// Artifact describes an archive produced by a source and kept in the
// artifact store.
type Artifact struct {
	// Path is the artifact's path relative to the store's root.
	Path string `json:"path"`
	// URL is where the artifact can be fetched.
	URL string `json:"url"`
	// Revision is a human-readable identifier of the source revision, e.g.
	// "main@sha1:<hash>" or "1.2.3@sha256:<digest>".
	Revision string `json:"revision"`
	// Digest of the artifact file, "<algorithm>:<hex>".
	// +optional
	Digest string `json:"digest,omitempty"`
	// LastUpdateTime is when the artifact last changed.
	LastUpdateTime metav1.Time `json:"lastUpdateTime"`
	// Size of the artifact file in bytes.
	// +optional
	Size *int64 `json:"size,omitempty"`
	// Metadata holds upstream annotations, e.g. OCI manifest annotations.
	// +optional
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Snapshot summarises the reconciliations that produced one set of applied
// objects (an entry of status.history).
type Snapshot struct {
	// Digest identifies the applied state.
	Digest string `json:"digest"`
	// FirstReconciled is when this state was first reconciled.
	FirstReconciled metav1.Time `json:"firstReconciled"`
	// LastReconciled is when this state was last reconciled.
	LastReconciled metav1.Time `json:"lastReconciled"`
	// LastReconciledDuration is how long the last reconciliation took.
	LastReconciledDuration metav1.Duration `json:"lastReconciledDuration"`
	// LastReconciledStatus is the outcome of the last reconciliation.
	LastReconciledStatus string `json:"lastReconciledStatus"`
	// TotalReconciliations counts reconciliations of this state.
	TotalReconciliations int64 `json:"totalReconciliations"`
	// Metadata holds extra facts about the state, e.g. the source revision.
	// +optional
	Metadata map[string]string `json:"metadata,omitempty"`
}

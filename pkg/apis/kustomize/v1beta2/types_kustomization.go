package v1beta2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Kustomization builds a kustomize overlay (or a directory of plain
// manifests) from a source artifact and applies the result to a cluster.
// v1beta2 is deprecated and served for manifests written for older Flux
// releases; use v1.
type Kustomization struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state.
	Spec KustomizationSpec `json:"spec,omitempty"`
	// Status is the observed state, written by the reconciler.
	Status KustomizationStatus `json:"status,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// KustomizationList is a list of Kustomizations.
type KustomizationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Kustomization `json:"items"`
}

// KustomizationSpec is the desired state of a Kustomization.
type KustomizationSpec struct {
	// CommonMetadata holds labels and annotations added to every applied
	// object.
	// +optional
	CommonMetadata *CommonMetadata `json:"commonMetadata,omitempty"`

	// DependsOn lists Kustomizations that must be ready before this one is
	// reconciled.
	// +optional
	DependsOn []DependencyReference `json:"dependsOn,omitempty"`

	// Decryption decrypts Secrets in the built manifests before applying them.
	// +optional
	Decryption *Decryption `json:"decryption,omitempty"`

	// Interval between reconciliations, e.g. 10m.
	Interval common.Duration `json:"interval"`

	// RetryInterval between attempts after a failure; spec.interval when unset.
	// +optional
	RetryInterval *common.Duration `json:"retryInterval,omitempty"`

	// KubeConfig targets a remote cluster through a kubeconfig kept in a
	// Secret; combined with serviceAccountName the controller impersonates
	// that account there.
	// +optional
	KubeConfig *KubeConfigReference `json:"kubeConfig,omitempty"`

	// Path to the kustomization.yaml (or plain manifests) in the artifact;
	// the artifact root when empty.
	// +optional
	Path string `json:"path,omitempty"`

	// PostBuild holds the steps run on the built manifests, such as variable
	// substitution.
	// +optional
	PostBuild *PostBuild `json:"postBuild,omitempty"`

	// Prune deletes objects that were applied before but are no longer in
	// the built manifests.
	Prune bool `json:"prune"`

	// HealthChecks lists objects whose health gates readiness.
	// +optional
	HealthChecks []common.NamespacedObjectKindReference `json:"healthChecks,omitempty"`

	// Patches are strategic-merge or JSON 6902 patches applied to the
	// selected objects.
	// +optional
	Patches []common.Patch `json:"patches,omitempty"`

	// PatchesStrategicMerge are strategic merge patches, each an inline
	// object naming the object it patches.
	// Deprecated: stored as entries of spec.patches without a target.
	// +optional
	PatchesStrategicMerge []common.JSON `json:"patchesStrategicMerge,omitempty"`

	// PatchesJSON6902 are JSON 6902 patches, each a list of operations and
	// the objects it applies to.
	// Deprecated: stored as entries of spec.patches with a target.
	// +optional
	PatchesJSON6902 []JSON6902Patch `json:"patchesJson6902,omitempty"`

	// Images rewrites image names, tags or digests.
	// +optional
	Images []common.Image `json:"images,omitempty"`

	// ServiceAccountName is the service account impersonated when applying.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// SourceRef points at the source (GitRepository, OCIRepository or Bucket)
	// whose artifact holds the manifests.
	SourceRef common.NamespacedObjectKindReference `json:"sourceRef"`

	// Suspend stops further reconciliations; one already running finishes.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// TargetNamespace sets the namespace of every namespaced built object.
	// +optional
	TargetNamespace string `json:"targetNamespace,omitempty"`

	// Timeout for building, applying and health checking; derived from
	// spec.interval when unset.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`

	// Force recreates objects whose update fails on an immutable field.
	// +optional
	Force bool `json:"force,omitempty"`

	// Wait waits for every applied object to become ready, instead of only
	// those in spec.healthChecks.
	// +optional
	Wait bool `json:"wait,omitempty"`

	// Validation chose client- or server-side dry-run validation: none,
	// client or server.
	// Deprecated: ignored since server-side apply; not kept when the object
	// is stored.
	// +optional
	Validation string `json:"validation,omitempty"`

	// Components lists paths of kustomize Components to include.
	// +optional
	Components []string `json:"components,omitempty"`
}

// DependencyReference names a Kustomization or HelmRelease this one depends on.
type DependencyReference struct {
	// Name of the dependency.
	Name string `json:"name"`
	// Namespace of the dependency; the dependent's namespace when empty.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Kind of the dependency: Kustomization or HelmRelease; the dependent's own kind when
	// empty. (An extension of Flux's API, which allows only the same kind.)
	// +optional
	Kind string `json:"kind,omitempty"`
}

// CommonMetadata holds labels and annotations added to applied objects.
type CommonMetadata struct {
	// Annotations to add.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// Labels to add.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// Decryption configures the decryption of Secrets in built manifests.
type Decryption struct {
	// Provider is the decryption engine; only "sops".
	Provider string `json:"provider"`
	// SecretRef names a Secret holding the decryption keys.
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`
}

// KubeConfigReference points at a Secret holding a kubeconfig.
type KubeConfigReference struct {
	// SecretRef names the Secret and, optionally, its key holding the
	// kubeconfig ("value" or "value.yaml" when empty). The Secret lives in
	// the Kustomization's namespace.
	SecretRef common.SecretKeyReference `json:"secretRef"`
}

// PostBuild configures the steps run on the built manifests.
type PostBuild struct {
	// Substitute maps variable names to values replaced in the manifests;
	// bash-style forms such as ${var:=default} are supported.
	// +optional
	Substitute map[string]string `json:"substitute,omitempty"`
	// SubstituteFrom reads variables from ConfigMaps and Secrets.
	// +optional
	SubstituteFrom []SubstituteReference `json:"substituteFrom,omitempty"`
}

// SubstituteReference names a ConfigMap or Secret holding substitution
// variables.
type SubstituteReference struct {
	// Kind is ConfigMap or Secret.
	Kind string `json:"kind"`
	// Name of the object, in the Kustomization's namespace.
	Name string `json:"name"`
	// Optional tolerates a missing object, as if it held no variables.
	// +optional
	Optional bool `json:"optional,omitempty"`
}

// JSON6902Patch is a JSON 6902 patch and the objects it applies to.
type JSON6902Patch struct {
	// Patch is the list of operations.
	Patch []JSON6902 `json:"patch"`
	// Target selects the objects to patch.
	Target common.Selector `json:"target"`
}

// JSON6902 is one operation of a JSON 6902 (RFC 6902) patch.
type JSON6902 struct {
	// Op is the operation: test, remove, add, replace, move or copy.
	Op string `json:"op"`
	// Path is the JSON pointer the operation acts on.
	Path string `json:"path"`
	// From is the JSON pointer a move or copy reads from.
	// +optional
	From string `json:"from,omitempty"`
	// Value is what add, replace and test use.
	// +optional
	Value *common.JSON `json:"value,omitempty"`
}

// KustomizationStatus is the observed state of a Kustomization.
type KustomizationStatus struct {
	common.ReconcileRequestStatus `json:",inline"`

	// ObservedGeneration is the last reconciled generation.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions are the latest observations of the Kustomization's state.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LastAppliedRevision is the source revision last applied successfully.
	// +optional
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`

	// LastAttemptedRevision is the source revision of the last attempt.
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// Inventory lists the objects applied successfully.
	// +optional
	Inventory *ResourceInventory `json:"inventory,omitempty"`
}

// ResourceInventory lists applied objects.
type ResourceInventory struct {
	// Entries are the applied objects.
	Entries []ResourceRef `json:"entries"`
}

// ResourceRef identifies one applied object.
type ResourceRef struct {
	// ID is "<namespace>_<name>_<group>_<kind>".
	ID string `json:"id"`
	// Version is the API version of the object's kind.
	Version string `json:"v"`
}

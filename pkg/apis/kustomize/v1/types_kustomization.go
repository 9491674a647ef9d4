package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Kustomization builds a kustomize overlay (or a directory of plain
// manifests) from a source artifact and applies the result to a cluster.
type Kustomization struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   KustomizationSpec   `json:"spec,omitempty"`
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
	// object, overriding keys the objects already carry.
	// +optional
	CommonMetadata *CommonMetadata `json:"commonMetadata,omitempty"`

	// DependsOn lists Kustomizations that must be ready before this one is
	// reconciled.
	// +optional
	DependsOn []DependencyReference `json:"dependsOn,omitempty"`

	// Decryption decrypts Secrets in the built manifests before applying them.
	// +optional
	Decryption *Decryption `json:"decryption,omitempty"`

	// DeletionPolicy decides what happens to the applied objects when the
	// Kustomization is deleted: MirrorPrune (follow spec.prune, the
	// behaviour when empty), Delete, WaitForTermination or Orphan.
	// +optional
	DeletionPolicy string `json:"deletionPolicy,omitempty"`

	// Interval between reconciliations; approximate, subject to jitter.
	Interval common.Duration `json:"interval"`

	// RetryInterval between attempts after a failure; spec.interval when unset.
	// +optional
	RetryInterval *common.Duration `json:"retryInterval,omitempty"`

	// KubeConfig targets a remote cluster; combined with serviceAccountName
	// the controller impersonates that account on the remote cluster.
	// +optional
	KubeConfig *common.KubeConfigReference `json:"kubeConfig,omitempty"`

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

	// NamePrefix is prepended to the names of all built objects.
	// +optional
	NamePrefix string `json:"namePrefix,omitempty"`

	// NameSuffix is appended to the names of all built objects.
	// +optional
	NameSuffix string `json:"nameSuffix,omitempty"`

	// Patches are strategic-merge or JSON 6902 patches applied to the
	// selected objects.
	// +optional
	Patches []common.Patch `json:"patches,omitempty"`

	// Images rewrites image names, tags or digests.
	// +optional
	Images []common.Image `json:"images,omitempty"`

	// ServiceAccountName is the service account impersonated when applying.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// SourceRef points at the source whose artifact holds the manifests.
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

	// Components lists paths of kustomize Components to include.
	// +optional
	Components []string `json:"components,omitempty"`

	// IgnoreMissingComponents drops component paths missing from the
	// artifact instead of failing the build.
	// +optional
	IgnoreMissingComponents bool `json:"ignoreMissingComponents,omitempty"`

	// HealthCheckExprs are CEL expressions that assess the health of custom
	// resources; used when wait or healthChecks is set.
	// +optional
	HealthCheckExprs []common.CustomHealthCheck `json:"healthCheckExprs,omitempty"`

	// BuildMetadata adds kustomize build metadata to the built objects:
	// originAnnotations and/or transformerAnnotations.
	// +optional
	BuildMetadata []string `json:"buildMetadata,omitempty"`

	// Ignore lists JSON pointers excluded from drift detection and apply.
	// +optional
	Ignore []IgnoreRule `json:"ignore,omitempty"`
}

// DependencyReference names a Kustomization or HelmRelease this one depends on.
type DependencyReference struct {
	// Name of the dependency.
	Name string `json:"name"`
	// Namespace of the dependency; the dependent's namespace when empty.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// ReadyExpr is a CEL expression deciding readiness of the dependency,
	// in place of the built-in Ready check.
	// +optional
	ReadyExpr string `json:"readyExpr,omitempty"`
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
	// SecretRef names a Secret holding the decryption keys; static cloud
	// credentials in it win over secret-less authentication.
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`
	// ServiceAccountName is used to authenticate with cloud KMS services
	// when the Secret holds no static credential for them.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
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
	// SubstituteStrategy is WithVariables (substitute only when at least one
	// variable is defined; the behaviour when empty) or Always.
	// +optional
	SubstituteStrategy string `json:"substituteStrategy,omitempty"`
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

// IgnoreRule excludes JSON pointer paths of selected objects from drift
// detection and apply.
type IgnoreRule struct {
	// Paths are JSON pointers (RFC 6901) to ignore.
	Paths []string `json:"paths"`
	// Target selects the objects; all built objects when unset.
	// +optional
	Target *common.Selector `json:"target,omitempty"`
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

	// LastAppliedOriginRevision is the origin revision (e.g. the
	// org.opencontainers.image.revision annotation) of the artifact last
	// applied successfully.
	// +optional
	LastAppliedOriginRevision string `json:"lastAppliedOriginRevision,omitempty"`

	// LastAttemptedRevision is the source revision of the last attempt.
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// Inventory lists the objects applied successfully.
	// +optional
	Inventory *ResourceInventory `json:"inventory,omitempty"`

	// History records the last reconciliations, one entry per applied state.
	// +optional
	History []common.Snapshot `json:"history,omitempty"`
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

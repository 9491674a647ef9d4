package common

// This file mirrors the wire shape of Flux's kustomize API package
// (github.com/fluxcd/pkg/apis/kustomize), shared by Kustomization and by
// HelmRelease post-renderers and health checks.

// Image rewrites the name, tag or digest of container images in the
// rendered manifests.
type Image struct {
	// Name is the image name to match, without a tag.
	Name string `json:"name"`
	// NewName replaces the matched image name.
	// +optional
	NewName string `json:"newName,omitempty"`
	// NewTag replaces the image tag.
	// +optional
	NewTag string `json:"newTag,omitempty"`
	// Digest replaces the image tag with a digest; it wins over NewTag.
	// +optional
	Digest string `json:"digest,omitempty"`
}

// Selector picks the resources a patch or rule applies to; a resource must
// match every field that is set.
type Selector struct {
	// Group is the API group of the resources.
	// +optional
	Group string `json:"group,omitempty"`
	// Version is the API version of the resources.
	// +optional
	Version string `json:"version,omitempty"`
	// Kind is the kind of the resources.
	// +optional
	Kind string `json:"kind,omitempty"`
	// Namespace of the resources.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the resources; a regular expression.
	// +optional
	Name string `json:"name,omitempty"`
	// AnnotationSelector is a label-selector expression matched against
	// the resources' annotations.
	// +optional
	AnnotationSelector string `json:"annotationSelector,omitempty"`
	// LabelSelector is a label-selector expression matched against the
	// resources' labels.
	// +optional
	LabelSelector string `json:"labelSelector,omitempty"`
}

// Patch is an inline strategic-merge or JSON 6902 patch and the resources it
// applies to.
type Patch struct {
	// Patch is the patch document, as YAML or JSON.
	Patch string `json:"patch"`
	// Target selects the resources to patch; when empty the patch document
	// itself names its target.
	// +optional
	Target *Selector `json:"target,omitempty"`
}

// CustomHealthCheck tells how to assess the health of a custom resource kind
// with Common Expression Language (CEL) expressions evaluated on the object.
type CustomHealthCheck struct {
	// APIVersion of the resources the expressions apply to.
	APIVersion string `json:"apiVersion"`
	// Kind of the resources the expressions apply to.
	// +optional
	Kind string `json:"kind,omitempty"`
	// InProgress is true while the resource has not yet reached its desired
	// state.
	// +optional
	InProgress string `json:"inProgress,omitempty"`
	// Failed is true when the resource failed to reach its desired state.
	// +optional
	Failed string `json:"failed,omitempty"`
	// Current is true once the resource has reached its desired state.
	Current string `json:"current"`
}

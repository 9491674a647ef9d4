package helm

import (
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// HelmChartTemplate is the template of the HelmChart the controller creates
// in the namespace of the referenced source.
type HelmChartTemplate struct {
	// ObjectMeta holds labels and annotations for the HelmChart.
	// +optional
	ObjectMeta *HelmChartTemplateObjectMeta `json:"metadata,omitempty"`

	// Spec is the template of the HelmChart spec.
	Spec HelmChartTemplateSpec `json:"spec"`
}

// HelmChartTemplateObjectMeta holds the metadata of the generated HelmChart.
type HelmChartTemplateObjectMeta struct {
	// Labels of the HelmChart.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations of the HelmChart.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// HelmChartTemplateSpec is the template of the generated HelmChart spec.
type HelmChartTemplateSpec struct {
	// Chart is the chart name or its path in the source.
	Chart string `json:"chart"`

	// Version is a semver constraint, ignored for Git and Bucket sources;
	// "*" (the latest) by default.
	// +optional
	Version string `json:"version,omitempty"`

	// SourceRef points at the HelmRepository, GitRepository or Bucket that
	// holds the chart.
	SourceRef common.NamespacedObjectKindReference `json:"sourceRef"`

	// Interval at which the source is checked for a new chart; the
	// HelmRelease's interval when unset.
	// +optional
	Interval *common.Duration `json:"interval,omitempty"`

	// ReconcileStrategy decides what produces a new artifact: ChartVersion
	// (the default) or Revision.
	// +optional
	ReconcileStrategy string `json:"reconcileStrategy,omitempty"`

	// ValuesFiles replace the chart's values.yaml, merged in order; paths
	// in the source.
	// +optional
	ValuesFiles []string `json:"valuesFiles,omitempty"`

	// IgnoreMissingValuesFiles skips values files missing from the source.
	// +optional
	IgnoreMissingValuesFiles bool `json:"ignoreMissingValuesFiles,omitempty"`

	// Verify checks the signature of an OCI chart.
	// +optional
	Verify *HelmChartTemplateVerification `json:"verify,omitempty"`
}

// HelmChartTemplateVerification configures the signature check of an OCI chart.
type HelmChartTemplateVerification struct {
	// Provider is cosign (the default) or notation.
	Provider string `json:"provider"`

	// SecretRef names a Secret with the trusted public keys.
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`
}

// ValuesReference names a ConfigMap or Secret holding Helm values.
type ValuesReference struct {
	// Kind is ConfigMap or Secret.
	Kind string `json:"kind"`

	// Name of the object, in the HelmRelease's namespace.
	Name string `json:"name"`

	// ValuesKey is the data key holding the values; "values.yaml" when empty.
	// +optional
	ValuesKey string `json:"valuesKey,omitempty"`

	// TargetPath is the dot-notation path at which a single value is set;
	// the values are merged at the root when empty.
	// +optional
	TargetPath string `json:"targetPath,omitempty"`

	// Optional tolerates a missing object or key.
	// +optional
	Optional bool `json:"optional,omitempty"`

	// Literal sets the value at targetPath as a literal string, without
	// parsing it.
	// +optional
	Literal bool `json:"literal,omitempty"`
}

// PostRenderer is one post-rendering step.
type PostRenderer struct {
	// Kustomize patches and re-tags the rendered manifests.
	// +optional
	Kustomize *Kustomize `json:"kustomize,omitempty"`
}

// Kustomize is a kustomize post-renderer.
type Kustomize struct {
	// Patches are strategic-merge or JSON 6902 patches applied to the
	// selected objects.
	// +optional
	Patches []common.Patch `json:"patches,omitempty"`

	// Images rewrites image names, tags or digests.
	// +optional
	Images []common.Image `json:"images,omitempty"`
}

// DriftDetection configures the comparison of the release manifest with the
// cluster state.
type DriftDetection struct {
	// Mode is enabled (correct drift), warn (report it) or disabled (the
	// default).
	// +optional
	Mode DriftDetectionMode `json:"mode,omitempty"`

	// Ignore lists changes that do not count as drift.
	// +optional
	Ignore []IgnoreRule `json:"ignore,omitempty"`
}

// DriftDetectionMode is a value of spec.driftDetection.mode.
type DriftDetectionMode string

// IgnoreRule excludes JSON pointer paths of selected objects from drift
// detection.
type IgnoreRule struct {
	// Paths are JSON pointers (RFC 6901) to ignore.
	Paths []string `json:"paths"`

	// Target selects the objects; all release objects when unset.
	// +optional
	Target *common.Selector `json:"target,omitempty"`
}

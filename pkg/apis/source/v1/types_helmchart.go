package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// HelmChart produces a packaged chart artifact from a HelmRepository,
// GitRepository or Bucket.
type HelmChart struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state.
	Spec HelmChartSpec `json:"spec,omitempty"`
	// Status is the observed state, written by the reconciler.
	Status HelmChartStatus `json:"status,omitempty"`
}

// HelmChartSpec says which chart to package from which source.
type HelmChartSpec struct {
	// Chart is the chart name in a HelmRepository, or its path in a
	// GitRepository or Bucket.
	Chart string `json:"chart"`

	// Version is a semver range (* by default); ignored for GitRepository and
	// Bucket sources.
	// +optional
	Version string `json:"version,omitempty"`

	// SourceRef names the source holding the chart.
	SourceRef LocalHelmChartSourceReference `json:"sourceRef"`

	// Interval between checks of the source, e.g. 5m.
	Interval common.Duration `json:"interval"`

	// ReconcileStrategy says what makes a new artifact: ChartVersion (the
	// default, a new chart version) or Revision (a new source revision).
	// +optional
	ReconcileStrategy string `json:"reconcileStrategy,omitempty"`

	// ValuesFiles are paths in the source merged, in order, into the chart's
	// values; later files win.
	// +optional
	// +listType=atomic
	ValuesFiles []string `json:"valuesFiles,omitempty"`

	// IgnoreMissingValuesFiles skips missing values files instead of failing.
	// +optional
	IgnoreMissingValuesFiles bool `json:"ignoreMissingValuesFiles,omitempty"`

	// Suspend stops reconciliation while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// Verify checks the chart's signature; only for HelmRepository sources of
	// type oci. Dependencies that are not bundled are not verified.
	// +optional
	Verify *HelmChartVerification `json:"verify,omitempty"`
}

// LocalHelmChartSourceReference names a source in the HelmChart's namespace.
type LocalHelmChartSourceReference struct {
	// APIVersion of the source.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the source: HelmRepository, GitRepository or Bucket.
	Kind string `json:"kind"`

	// Name of the source.
	Name string `json:"name"`
}

// HelmChartStatus is the observed state of a HelmChart.
type HelmChartStatus struct {
	// ObservedGeneration is the last generation reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ObservedSourceArtifactRevision is the source artifact revision last
	// used.
	// +optional
	ObservedSourceArtifactRevision string `json:"observedSourceArtifactRevision,omitempty"`

	// ObservedChartName is the chart name last resolved.
	// +optional
	ObservedChartName string `json:"observedChartName,omitempty"`

	// ObservedValuesFiles are the values files of the last artifact.
	// +optional
	// +listType=atomic
	ObservedValuesFiles []string `json:"observedValuesFiles,omitempty"`

	// Conditions of the object.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL is where the last chart artifact can be downloaded.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact is the last chart artifact produced.
	// +optional
	Artifact *common.Artifact `json:"artifact,omitempty"`

	common.ReconcileRequestStatus `json:",inline"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// HelmChartList is a list of HelmCharts.
type HelmChartList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HelmChart `json:"items"`
}

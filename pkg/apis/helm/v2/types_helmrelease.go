package v2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// HelmRelease installs a Helm chart into a cluster and keeps the release
// in the desired state: upgrades, tests, rollbacks and drift correction.
type HelmRelease struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   HelmReleaseSpec   `json:"spec,omitempty"`
	Status HelmReleaseStatus `json:"status,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// HelmReleaseList is a list of HelmReleases.
type HelmReleaseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HelmRelease `json:"items"`
}

// HelmReleaseSpec is the desired state of a Helm release. Exactly one of
// chart and chartRef is set.
type HelmReleaseSpec struct {
	// Chart is the template of the HelmChart the controller creates for
	// this release.
	// +optional
	Chart *HelmChartTemplate `json:"chart,omitempty"`

	// ChartRef points at an existing source object holding the chart
	// artifact: an OCIRepository, HelmChart or ExternalArtifact.
	// +optional
	ChartRef *common.NamespacedObjectKindReference `json:"chartRef,omitempty"`

	// Interval between reconciliations; approximate, subject to jitter.
	Interval common.Duration `json:"interval"`

	// KubeConfig targets a remote cluster; combined with serviceAccountName
	// the controller impersonates that account on the remote cluster.
	// +optional
	KubeConfig *common.KubeConfigReference `json:"kubeConfig,omitempty"`

	// Suspend stops further reconciliations; one already running finishes.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// ReleaseName is the Helm release name; "[targetNamespace-]name" when
	// empty.
	// +optional
	ReleaseName string `json:"releaseName,omitempty"`

	// TargetNamespace is where the release is installed; the HelmRelease's
	// namespace when empty.
	// +optional
	TargetNamespace string `json:"targetNamespace,omitempty"`

	// StorageNamespace is where Helm keeps the release records; the
	// HelmRelease's namespace when empty.
	// +optional
	StorageNamespace string `json:"storageNamespace,omitempty"`

	// DependsOn lists HelmReleases that must be ready before this one is
	// reconciled.
	// +optional
	DependsOn []DependencyReference `json:"dependsOn,omitempty"`

	// Timeout for each Kubernetes operation of a Helm action (hook Jobs,
	// waits); 5m0s when unset.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`

	// MaxHistory is the number of release revisions Helm keeps; 0 keeps all,
	// 5 when unset.
	// +optional
	MaxHistory *int `json:"maxHistory,omitempty"`

	// ServiceAccountName is the service account impersonated for Helm actions.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// PersistentClient reuses one Kubernetes client for a whole
	// reconciliation instead of one per Helm action; true when unset.
	// +optional
	PersistentClient *bool `json:"persistentClient,omitempty"`

	// DriftDetection configures how differences between the release manifest
	// and the cluster are detected and handled.
	// +optional
	DriftDetection *DriftDetection `json:"driftDetection,omitempty"`

	// Install configures Helm install actions.
	// +optional
	Install *Install `json:"install,omitempty"`

	// Upgrade configures Helm upgrade actions.
	// +optional
	Upgrade *Upgrade `json:"upgrade,omitempty"`

	// Test configures Helm test actions.
	// +optional
	Test *Test `json:"test,omitempty"`

	// Rollback configures Helm rollback actions.
	// +optional
	Rollback *Rollback `json:"rollback,omitempty"`

	// Uninstall configures Helm uninstall actions.
	// +optional
	Uninstall *Uninstall `json:"uninstall,omitempty"`

	// ValuesFrom reads values from ConfigMaps and Secrets, merged in order
	// before spec.values.
	// +optional
	ValuesFrom []ValuesReference `json:"valuesFrom,omitempty"`

	// Values are the chart values, merged last.
	// +optional
	Values *common.JSON `json:"values,omitempty"`

	// PostRenderers run, in order, on the manifests Helm renders.
	// +optional
	PostRenderers []PostRenderer `json:"postRenderers,omitempty"`

	// PostRenderStrategy decides whether hooks go through the post-renderers:
	// nohooks, combined (with the templates) or separate.
	// +optional
	PostRenderStrategy string `json:"postRenderStrategy,omitempty"`

	// CommonMetadata holds labels and annotations added to every object of
	// the release, overriding keys the objects already carry.
	// +optional
	CommonMetadata *CommonMetadata `json:"commonMetadata,omitempty"`

	// HealthCheckExprs are CEL expressions that assess the health of custom
	// resources; used when an action waits with the poller strategy.
	// +optional
	HealthCheckExprs []common.CustomHealthCheck `json:"healthCheckExprs,omitempty"`

	// WaitStrategy is how Helm waits for applied resources to become ready.
	// +optional
	WaitStrategy *WaitStrategy `json:"waitStrategy,omitempty"`
}

// DependencyReference names a HelmRelease or Kustomization this one depends on.
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
	// Kind of the dependency: HelmRelease or Kustomization; the dependent's own kind when
	// empty. (An extension of Flux's API, which allows only the same kind.)
	// +optional
	Kind string `json:"kind,omitempty"`
}

// CommonMetadata holds labels and annotations added to release objects.
type CommonMetadata struct {
	// Annotations to add.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// Labels to add.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// WaitStrategy selects Helm's readiness wait.
type WaitStrategy struct {
	// Name is poller (kstatus polling, the default) or legacy (Helm 3's wait).
	Name string `json:"name"`
}

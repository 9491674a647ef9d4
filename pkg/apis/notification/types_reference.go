package notification

// Kinds an Alert event source or a Receiver resource may name.
const (
	BucketKind                = "Bucket"
	GitRepositoryKind         = "GitRepository"
	KustomizationKind         = "Kustomization"
	HelmReleaseKind           = "HelmRelease"
	HelmChartKind             = "HelmChart"
	HelmRepositoryKind        = "HelmRepository"
	ImageRepositoryKind       = "ImageRepository"
	ImagePolicyKind           = "ImagePolicy"
	ImageUpdateAutomationKind = "ImageUpdateAutomation"
	OCIRepositoryKind         = "OCIRepository"
	ArtifactGeneratorKind     = "ArtifactGenerator"
	ExternalArtifactKind      = "ExternalArtifact"
)

// CrossNamespaceObjectKinds lists the kinds a CrossNamespaceObjectReference
// accepts, in Flux's order.
var CrossNamespaceObjectKinds = []string{
	BucketKind, GitRepositoryKind, KustomizationKind, HelmReleaseKind,
	HelmChartKind, HelmRepositoryKind, ImageRepositoryKind, ImagePolicyKind,
	ImageUpdateAutomationKind, OCIRepositoryKind, ArtifactGeneratorKind,
	ExternalArtifactKind,
}

// CrossNamespaceObjectReference selects Flux objects of one kind, by name
// (or "*" for all) and optionally by namespace and labels.
type CrossNamespaceObjectReference struct {
	// APIVersion of the referent.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
	// Kind of the referent.
	Kind string `json:"kind"`
	// Name of the referent, or "*" for every object of the kind.
	Name string `json:"name"`
	// Namespace of the referent; "*" selects all namespaces and needs name "*".
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// MatchLabels narrows a "*" name to objects with all these labels.
	// +optional
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}

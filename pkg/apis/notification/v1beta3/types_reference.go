package v1beta3

// CrossNamespaceObjectReference selects Flux objects of one kind, by name
// (or "*" for all) and optionally by namespace and labels.
type CrossNamespaceObjectReference struct {
	// APIVersion of the referent.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
	// Kind of the referent, e.g. GitRepository or HelmRelease.
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

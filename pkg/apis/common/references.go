package common

// LocalObjectReference names an object in the same namespace as the referrer.
type LocalObjectReference struct {
	// Name of the referent.
	Name string `json:"name"`
}

// NamespacedObjectReference names an object, optionally in another namespace.
type NamespacedObjectReference struct {
	// Name of the referent.
	Name string `json:"name"`
	// Namespace of the referent; the referrer's namespace when empty.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// NamespacedObjectKindReference names an object of a given kind, optionally in
// another namespace.
type NamespacedObjectKindReference struct {
	// APIVersion of the referent.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
	// Kind of the referent.
	Kind string `json:"kind"`
	// Name of the referent.
	Name string `json:"name"`
	// Namespace of the referent; the referrer's namespace when empty.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// SecretKeyReference names a Secret in the referrer's namespace and,
// optionally, one key of its data.
type SecretKeyReference struct {
	// Name of the Secret.
	Name string `json:"name"`
	// Key in the Secret's data; a kind-specific default when empty.
	// +optional
	Key string `json:"key,omitempty"`
}

// KubeConfigReference points at a kubeconfig for a remote cluster: either in a
// Secret, or described by a ConfigMap for workload-identity providers.
type KubeConfigReference struct {
	// SecretRef holds the kubeconfig (key "value" or "value.yaml" by default).
	// +optional
	SecretRef *SecretKeyReference `json:"secretRef,omitempty"`
	// ConfigMapRef holds the provider settings used to build a kubeconfig.
	// +optional
	ConfigMapRef *LocalObjectReference `json:"configMapRef,omitempty"`
}

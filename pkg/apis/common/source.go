package common

// AccessFrom lists the namespaces allowed to refer to an object from another
// namespace (Flux's provisional cross-namespace ACL, acl.AccessFrom on the
// wire). Flux does not act on it yet; it is stored and served as given.
type AccessFrom struct {
	// NamespaceSelectors are ORed: a namespace matching any of them is allowed.
	// +listType=atomic
	NamespaceSelectors []NamespaceSelector `json:"namespaceSelectors"`
}

// NamespaceSelector picks namespaces by label; an empty selector matches
// every namespace.
type NamespaceSelector struct {
	// MatchLabels must all be present, with these values, on the namespace.
	// +optional
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}

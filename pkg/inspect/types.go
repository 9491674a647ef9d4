// Package inspect holds what the /diff and /tree subresources return: the
// structured reports (served as JSON) and their plain-text renderings. It
// sits between pkg/registry, which serves them, and pkg/reconcile, which
// computes diffs, so the two never import each other.
package inspect

// ObjectRef identifies one Kubernetes object.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// Actions a diff reports for one object.
const (
	// ActionCreated: the object does not exist and would be created.
	ActionCreated = "created"
	// ActionConfigured: the object exists and applying would change it.
	ActionConfigured = "configured"
	// ActionUnchanged: applying would not change the object.
	ActionUnchanged = "unchanged"
	// ActionPruned: the object left the source and would be deleted.
	ActionPruned = "pruned"
	// ActionSkipped: the object is excluded from apply (e.g. by the
	// kustomize.toolkit.fluxcd.io/ssa: Ignore annotation).
	ActionSkipped = "skipped"
)

// ObjectDiff is what applying now would do to one object.
type ObjectDiff struct {
	Object ObjectRef `json:"object"`
	// Action is one of the Action constants.
	Action string `json:"action"`
	// Diff is a unified diff of the object's YAML (live, then after apply),
	// set for configured objects. Secret values are masked.
	Diff string `json:"diff,omitempty"`
}

// DiffReport is what the /diff subresource returns.
type DiffReport struct {
	// Kind and APIVersion make the JSON self-describing.
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	// Object is the Flux object the diff is about.
	Object ObjectRef `json:"object"`
	// Revision is the source revision the manifests were built from.
	Revision string `json:"revision"`
	// Objects lists every built or pruned object, in apply order.
	Objects []ObjectDiff `json:"objects"`
}

// TreeNode is one object of a /tree answer and the objects it manages.
type TreeNode struct {
	Object ObjectRef `json:"object"`
	// Children are the objects this one manages (the inventory of a
	// Kustomization), recursively.
	Children []TreeNode `json:"children,omitempty"`
}

// Tree is what the /tree subresource returns.
type Tree struct {
	Kind       string   `json:"kind"`
	APIVersion string   `json:"apiVersion"`
	Root       TreeNode `json:"root"`
}

// Report kinds and the version they are served in.
const (
	DiffReportKind = "DiffReport"
	TreeKind       = "Tree"
	// APIVersion is the apiVersion of reports; they are not stored objects.
	APIVersion = "inspect.gitops-apiserver.io/v1alpha1"
)

package inspect

import (
	"strings"
)

// diffIndent prefixes every line of an object's unified diff in DiffText.
const diffIndent = "    "

// diffWords are the words DiffText uses for each action, as `flux diff`
// prints them; unchanged objects are left out.
var diffWords = map[string]string{
	ActionCreated:    "created",
	ActionConfigured: "drifted",
	ActionPruned:     "deleted",
	ActionSkipped:    "skipped",
}

// DiffText renders a diff report as `flux diff kustomization` does: a
// header naming the object and the revision, then one line per object that
// applying would touch, with the unified diff of a drifted object indented
// below it. Unchanged objects are left out; when nothing would change, a
// last line says so.
//
//	Kustomization/flux-system/apps at main@sha1:1a2b3c
//	► Namespace/podinfo created
//	► Deployment/podinfo/podinfo drifted
//	    --- live
//	    +++ applied
//	    @@ -6,1 +6,1 @@
//	    -  replicas: 1
//	    +  replicas: 2
//	► ConfigMap/podinfo/legacy deleted
func DiffText(r *DiffReport) string {
	var b strings.Builder
	b.WriteString(r.Object.String())
	if r.Revision != "" {
		b.WriteString(" at " + r.Revision)
	}
	b.WriteByte('\n')
	changes := 0
	for _, o := range r.Objects {
		if o.Action == ActionUnchanged {
			continue
		}
		changes++
		word, ok := diffWords[o.Action]
		if !ok {
			word = o.Action
		}
		b.WriteString("► " + o.Object.String() + " " + word + "\n")
		if d := strings.TrimRight(o.Diff, "\n"); d != "" {
			for _, line := range strings.Split(d, "\n") {
				if line != "" {
					b.WriteString(diffIndent + line)
				}
				b.WriteByte('\n')
			}
		}
	}
	if changes == 0 {
		b.WriteString("✔ no changes\n")
	}
	return b.String()
}

// TreeText renders a tree as `flux tree kustomization` does:
//
//	Kustomization/flux-system/apps
//	├── Namespace/podinfo
//	├── Kustomization/flux-system/infra
//	│   └── Deployment/infra/x
//	└── Deployment/podinfo/podinfo
func TreeText(t *Tree) string {
	var b strings.Builder
	b.WriteString(t.Root.Object.String() + "\n")
	writeTreeNodes(&b, t.Root.Children, "")
	return b.String()
}

func writeTreeNodes(b *strings.Builder, nodes []TreeNode, prefix string) {
	for i, n := range nodes {
		branch, below := "├── ", "│   "
		if i == len(nodes)-1 {
			branch, below = "└── ", "    "
		}
		b.WriteString(prefix + branch + n.Object.String() + "\n")
		writeTreeNodes(b, n.Children, prefix+below)
	}
}

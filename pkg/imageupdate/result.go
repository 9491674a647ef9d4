package imageupdate

import (
	"cmp"
	"maps"
	"slices"
)

// Result is what Apply changed: file → object → changes. It is TemplateData.Changed, so
// its exported fields and methods are part of the commit message template's data model
// (Flux's update.Result).
type Result struct {
	// FileChanges holds, per file (slash-separated, relative to the directory given to
	// Apply), the changes made to each object in it.
	FileChanges map[string]ObjectChanges
	// Skipped lists the files holding markers that were not changed, with the reason
	// (not valid YAML, a marker on a block scalar, ...).
	Skipped map[string]string
}

// ObjectChanges holds the changes made to each object of a file.
type ObjectChanges map[ObjectIdentifier][]Change

// ObjectIdentifier names the YAML document a change was made in; its fields are empty
// for documents that are not Kubernetes objects (a Helm values file).
type ObjectIdentifier struct {
	Name, Namespace, APIVersion, Kind string
}

// Change is one value a setter replaced.
type Change struct {
	OldValue string
	NewValue string
	// Setter is the marker's policy reference, e.g. "flux-system:app:tag".
	Setter string
}

// Empty reports whether no file was changed.
func (r Result) Empty() bool { return len(r.FileChanges) == 0 }

// Files returns the changed files, sorted.
func (r Result) Files() []string {
	return slices.Sorted(maps.Keys(r.FileChanges))
}

// Objects returns the changes per object, whatever file they are in.
func (r Result) Objects() ObjectChanges {
	out := ObjectChanges{}
	for _, file := range r.Files() {
		for _, id := range sortedObjects(r.FileChanges[file]) {
			out[id] = append(out[id], r.FileChanges[file][id]...)
		}
	}
	return out
}

// Changes returns every change: by file, then object, then position in the object.
func (r Result) Changes() []Change {
	var out []Change
	for _, file := range r.Files() {
		for _, id := range sortedObjects(r.FileChanges[file]) {
			out = append(out, r.FileChanges[file][id]...)
		}
	}
	return out
}

func sortedObjects(oc ObjectChanges) []ObjectIdentifier {
	return slices.SortedFunc(maps.Keys(oc), func(a, b ObjectIdentifier) int {
		return cmp.Or(cmp.Compare(a.APIVersion, b.APIVersion), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
}

// add records changes made in one object of file.
func (r *Result) add(file string, id ObjectIdentifier, changes []Change) {
	if len(changes) == 0 {
		return
	}
	if r.FileChanges == nil {
		r.FileChanges = map[string]ObjectChanges{}
	}
	if r.FileChanges[file] == nil {
		r.FileChanges[file] = ObjectChanges{}
	}
	r.FileChanges[file][id] = append(r.FileChanges[file][id], changes...)
}

func (r *Result) skip(file, reason string) {
	if r.Skipped == nil {
		r.Skipped = map[string]string{}
	}
	r.Skipped[file] = reason
}

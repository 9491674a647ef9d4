package imageupdate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// SetterShortHand is the key of the marker comment, `# {"$imagepolicy": "<ns>:<name>"}`.
const SetterShortHand = "$imagepolicy"

// Setter fields: the suffix of a marker's reference selecting part of the image.
const (
	FieldTag    = "tag"
	FieldName   = "name"
	FieldDigest = "digest"
)

// Latest is the image a policy selected (Flux's ImagePolicy status.latestRef).
type Latest struct {
	// Image is the repository, e.g. "ghcr.io/org/app".
	Image string
	Tag   string
	// Digest is "sha256:<hex>", or empty when the policy does not reflect digests.
	Digest string
}

// String is the whole reference: "image:tag", or "image:tag@digest".
func (l Latest) String() string {
	s := l.Image + ":" + l.Tag
	if l.Digest != "" {
		s += "@" + l.Digest
	}
	return s
}

// value returns what a setter with field sets, or "" for nothing.
func (l Latest) value(field string) string {
	switch field {
	case "":
		if l.Image == "" || l.Tag == "" {
			return ""
		}
		return l.String()
	case FieldTag:
		return l.Tag
	case FieldName:
		return l.Image
	case FieldDigest:
		return l.Digest
	}
	return ""
}

// screenToken is how a marker appears in a file: files without it are not parsed.
var screenToken = []byte(`"` + SetterShortHand + `"`)

// Apply sets the values marked with setters in the YAML files under dir, from policies
// keyed "<namespace>:<name>". It returns what changed; an empty Result when nothing did.
// Errors are about dir itself (unreadable, a file that cannot be written); problems with
// single files are reported in Result.Skipped.
func Apply(dir string, policies map[string]Latest) (Result, error) {
	var res Result
	root, err := os.OpenRoot(dir)
	if err != nil {
		return res, fmt.Errorf("opening %s: %w", dir, err)
	}
	defer func() { _ = root.Close() }()
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() { // symbolic links among others
			return nil
		}
		if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		return applyFile(root, p, policies, &res)
	})
	if err != nil {
		return Result{}, fmt.Errorf("updating the files under %s: %w", dir, err)
	}
	return res, nil
}

// applyFile updates one file and records its changes in res.
func applyFile(root *os.Root, name string, policies map[string]Latest, res *Result) error {
	data, err := root.ReadFile(name)
	if err != nil {
		return err
	}
	if !bytes.Contains(data, screenToken) {
		return nil
	}
	edits, objects, err := findEdits(data, policies)
	if err != nil {
		res.skip(name, err.Error())
		return nil
	}
	if len(edits) == 0 {
		return nil
	}
	out, err := splice(data, edits)
	if err != nil {
		res.skip(name, err.Error())
		return nil
	}
	info, err := root.Stat(name)
	if err != nil {
		return err
	}
	if err := replaceFile(root, name, out, info.Mode().Perm()); err != nil {
		return err
	}
	for i, id := range objects.ids {
		res.add(name, id, objects.changes[i])
	}
	return nil
}

// edit replaces one scalar.
type edit struct {
	line, column int // 1-based; column counts characters, as the YAML parser does
	style        yaml.Style
	old, new     string
}

// fileObjects holds the changes per object of a file, in document order.
type fileObjects struct {
	ids     []ObjectIdentifier
	changes [][]Change
}

// findEdits parses every document of data and returns the edits the markers call for.
func findEdits(data []byte, policies map[string]Latest) ([]edit, fileObjects, error) {
	var edits []edit
	var objs fileObjects
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, objs, fmt.Errorf("not valid YAML: %v", err)
		}
		var changes []Change
		walk(&doc, nil, func(n *yaml.Node, comment string) {
			setter, l, field, ok := parseMarker(comment, policies)
			if !ok {
				return
			}
			v := l.value(field)
			if v == "" || v == n.Value {
				return
			}
			edits = append(edits, edit{line: n.Line, column: n.Column, style: n.Style, old: n.Value, new: v})
			changes = append(changes, Change{OldValue: n.Value, NewValue: v, Setter: setter})
		})
		if len(changes) > 0 {
			objs.ids = append(objs.ids, identify(&doc))
			objs.changes = append(objs.changes, changes)
		}
	}
	return edits, objs, nil
}

// walk calls fn for every scalar with its marker candidate: its own line comment or, for
// a mapping value, the key's (`image: # {...}` with the value on the next line).
func walk(n, key *yaml.Node, fn func(n *yaml.Node, comment string)) {
	switch n.Kind {
	case yaml.ScalarNode:
		comment := n.LineComment
		if comment == "" && key != nil {
			comment = key.LineComment
		}
		if comment != "" {
			fn(n, comment)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			walk(n.Content[i+1], n.Content[i], fn)
		}
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			walk(c, nil, fn)
		}
	}
}

// parseMarker reads a line comment as a setter marker and returns the setter reference,
// the policy's latest image and the field. Comments that are not markers, and markers
// naming unknown policies or fields, give ok == false.
func parseMarker(comment string, policies map[string]Latest) (setter string, l Latest, field string, ok bool) {
	text := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(comment), "#"))
	if !strings.HasPrefix(text, "{") {
		return "", Latest{}, "", false
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return "", Latest{}, "", false
	}
	setter, _ = m[SetterShortHand].(string)
	parts := strings.Split(setter, ":")
	switch {
	case len(parts) == 2:
	case len(parts) == 3 && (parts[2] == FieldTag || parts[2] == FieldName || parts[2] == FieldDigest):
		field = parts[2]
	default:
		return "", Latest{}, "", false
	}
	l, ok = policies[parts[0]+":"+parts[1]]
	return setter, l, field, ok
}

// identify returns the object identity of a document (empty for non-objects).
func identify(doc *yaml.Node) ObjectIdentifier {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return ObjectIdentifier{}
	}
	rn := yaml.NewRNode(doc.Content[0])
	return ObjectIdentifier{
		Name:       rn.GetName(),
		Namespace:  rn.GetNamespace(),
		APIVersion: rn.GetApiVersion(),
		Kind:       rn.GetKind(),
	}
}

// replaceFile writes data to a temporary file next to name and renames it over name.
func replaceFile(root *os.Root, name string, data []byte, perm fs.FileMode) error {
	tmp := path.Join(path.Dir(name), "."+path.Base(name)+".imageupdate.tmp")
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	defer func() { _ = root.Remove(tmp) }() // a no-op once renamed
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// The umask applied at creation; keep the original mode exactly.
	if err := root.Chmod(tmp, perm); err != nil {
		return err
	}
	return root.Rename(tmp, name)
}

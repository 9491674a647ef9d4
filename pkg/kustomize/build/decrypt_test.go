package build

import (
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// fakeDecryptor "decrypts" files that start with the line "#ENC" by
// dropping that line and turning "ciphertext" into "plaintext", and
// records what it was asked.
type fakeDecryptor struct {
	manifests, files []string
	fail             string
}

func (f *fakeDecryptor) DecryptManifest(path string, data []byte) ([]byte, bool, error) {
	f.manifests = append(f.manifests, path)
	return f.decrypt(path, data)
}

func (f *fakeDecryptor) DecryptFile(path string, data []byte) ([]byte, bool, error) {
	f.files = append(f.files, path)
	return f.decrypt(path, data)
}

func (f *fakeDecryptor) decrypt(path string, data []byte) ([]byte, bool, error) {
	if path == f.fail {
		return nil, false, errors.New("decrypting '" + path + "': wrong key")
	}
	if s, ok := strings.CutPrefix(string(data), "#ENC\n"); ok {
		return []byte(strings.ReplaceAll(s, "ciphertext", "plaintext")), true, nil
	}
	return data, false, nil
}

// TestBuild_DecryptsWhatKustomizeLoads: resources (through overlays,
// directories and components) go to DecryptManifest, secretGenerator
// sources to DecryptFile; patches, configMapGenerator sources and files no
// kustomization names are never offered.
func TestBuild_DecryptsWhatKustomizeLoads(t *testing.T) {
	files := map[string]string{
		"base/kustomization.yaml": `resources:
- secret.yaml
- nested
secretGenerator:
- name: gen
  envs: [db.env]
  files: [cert.pem, renamed=raw.bin]
  options: {disableNameSuffixHash: true}
configMapGenerator:
- name: cm
  envs: [cm.env]
  options: {disableNameSuffixHash: true}
`,
		"base/secret.yaml":               "#ENC\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  a: ciphertext\n",
		"base/nested/kustomization.yaml": "resources: [cm.yaml]\n",
		"base/nested/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nested\n",
		"base/db.env":                    "#ENC\nPASSWORD=ciphertext\n",
		"base/cert.pem":                  "#ENC\nciphertext",
		"base/raw.bin":                   "RAW",
		"base/cm.env":                    "#ENC\nX=ciphertext\n",
		"base/unused.yaml":               "#ENC\nnot read",
		"comp/kustomization.yaml":        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [extra.yaml]\n",
		"comp/extra.yaml":                "#ENC\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  e: ciphertext\n",
		"overlay/kustomization.yaml":     "resources: [../base]\ncomponents: [../comp]\npatches:\n- path: patch.yaml\n",
		"overlay/patch.yaml":             "#ENC\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nested\ndata:\n  p: ciphertext\n",
	}
	fs := memFS(t, files)
	d := &fakeDecryptor{}
	objs, err := Build(fs, Options{Path: "overlay", Decryptor: d})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	sort.Strings(d.manifests)
	sort.Strings(d.files)
	if want := []string{"base/nested/cm.yaml", "base/secret.yaml", "comp/extra.yaml"}; !reflect.DeepEqual(d.manifests, want) {
		t.Errorf("manifests offered %v, want %v", d.manifests, want)
	}
	if want := []string{"base/cert.pem", "base/db.env", "base/raw.bin"}; !reflect.DeepEqual(d.files, want) {
		t.Errorf("files offered %v, want %v", d.files, want)
	}
	for _, c := range []struct {
		kind, name string
		field      []string
		want       string
	}{
		{"Secret", "s", []string{"stringData", "a"}, "plaintext"},
		{"Secret", "gen", []string{"data", "PASSWORD"}, "cGxhaW50ZXh0"}, // base64 of "plaintext"
		{"Secret", "gen", []string{"data", "cert.pem"}, "cGxhaW50ZXh0"},
		{"ConfigMap", "extra", []string{"data", "e"}, "plaintext"},   // through the component
		{"ConfigMap", "cm", []string{"data", "X"}, "ciphertext"},     // configMapGenerator: as it is
		{"ConfigMap", "nested", []string{"data", "p"}, "ciphertext"}, // patches: as they are
	} {
		if got := nestedString(t, find(t, objs, c.kind, c.name), c.field...); got != c.want {
			t.Errorf("%s/%s %v = %q, want %q", c.kind, c.name, c.field, got, c.want)
		}
	}
	for name, content := range files {
		if got, err := fs.ReadFile("/" + name); err != nil || string(got) != content {
			t.Errorf("%s is %q after the build, want it restored", name, got)
		}
	}
}

func TestBuild_DecryptionErrorStopsTheBuild(t *testing.T) {
	fs := memFS(t, map[string]string{
		"app/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
		"app/a.yaml":             "#ENC\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		"app/b.yaml":             "#ENC\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
	})
	_, err := Build(fs, Options{Path: "app", Decryptor: &fakeDecryptor{fail: "app/b.yaml"}})
	if err == nil || err.Error() != "decrypting 'app/b.yaml': wrong key" {
		t.Fatalf("Build error %v, want the decryptor's", err)
	}
	if got, _ := fs.ReadFile("/app/a.yaml"); !strings.HasPrefix(string(got), "#ENC\n") {
		t.Errorf("a.yaml left decrypted after the failure: %q", got)
	}
}

// TestBuild_GeneratedKustomizationIsDecrypted: a path without a
// kustomization file lists its manifests, which are decrypted too.
func TestBuild_GeneratedKustomizationIsDecrypted(t *testing.T) {
	fs := memFS(t, map[string]string{
		"plain/secret.yaml": "#ENC\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  a: ciphertext\n",
	})
	d := &fakeDecryptor{}
	objs, err := Build(fs, Options{Path: "plain", Decryptor: d})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if got := nestedString(t, find(t, objs, "Secret", "s"), "stringData", "a"); got != "plaintext" || len(d.manifests) != 1 {
		t.Errorf("a = %q, manifests offered %v", got, d.manifests)
	}
}

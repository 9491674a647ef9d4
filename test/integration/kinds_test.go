package integration

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apiserver"
)

// TestKubectl_ExplainEveryKindAndVersion runs `kubectl explain` on the spec
// of every kind in every version served, as kubectl finds it through
// kube-apiserver's aggregated OpenAPI v3.
func TestKubectl_ExplainEveryKindAndVersion(t *testing.T) {
	kinds := map[string]bool{}
	pairs := 0
	for _, gv := range apiserver.GroupVersions() {
		for _, resource := range apiserver.ResourcesOf(gv) {
			kinds[gv.Group+"/"+resource] = true
			pairs++
			t.Run(resource+"."+gv.Version, func(t *testing.T) {
				out, err := kubectlErr(t, "explain", resource+".spec", "--api-version="+gv.String())
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{"GROUP:      " + gv.Group, "VERSION:    " + gv.Version, "FIELD: spec", "FIELDS:"} {
					if !strings.Contains(out, want) {
						t.Errorf("kubectl explain %s.spec --api-version=%s lacks %q:\n%s", resource, gv, want, out)
					}
				}
			})
		}
	}
	if len(kinds) != 14 {
		t.Errorf("%d kinds served, want 14: %v", len(kinds), kinds)
	}
	t.Logf("%d kinds in %d kind-version pairs explained", len(kinds), pairs)
}

// TestKubectl_TablesMirrorFluxGet: `kubectl get` shows what `flux get`
// shows for every kind, and -o wide adds where the object comes from.
func TestKubectl_TablesMirrorFluxGet(t *testing.T) {
	headers := map[string]struct{ normal, wide string }{
		"GitRepository":         {"REVISION SUSPENDED READY MESSAGE", "URL REVISION SUSPENDED READY MESSAGE"},
		"OCIRepository":         {"REVISION SUSPENDED READY MESSAGE", "URL REVISION SUSPENDED READY MESSAGE"},
		"HelmRepository":        {"REVISION SUSPENDED READY MESSAGE", "URL REVISION SUSPENDED READY MESSAGE"},
		"HelmChart":             {"REVISION SUSPENDED READY MESSAGE", "CHART REVISION SUSPENDED READY MESSAGE"},
		"Bucket":                {"REVISION SUSPENDED READY MESSAGE", "ENDPOINT REVISION SUSPENDED READY MESSAGE"},
		"ExternalArtifact":      {"REVISION READY MESSAGE", "SOURCE REVISION READY MESSAGE"},
		"Kustomization":         {"REVISION SUSPENDED READY MESSAGE", "SOURCE REVISION SUSPENDED READY MESSAGE"},
		"HelmRelease":           {"REVISION SUSPENDED READY MESSAGE", "CHART REVISION SUSPENDED READY MESSAGE"},
		"Alert":                 {"SUSPENDED READY MESSAGE", "PROVIDER SUSPENDED READY MESSAGE"},
		"Provider":              {"READY MESSAGE", "TYPE SUSPENDED READY MESSAGE"},
		"Receiver":              {"SUSPENDED READY MESSAGE", "TYPE SUSPENDED READY MESSAGE"},
		"ImageRepository":       {"LAST SCAN SUSPENDED READY MESSAGE", "IMAGE TAGS LAST SCAN SUSPENDED READY MESSAGE"},
		"ImagePolicy":           {"LATEST IMAGE READY MESSAGE", "LATEST IMAGE SUSPENDED READY MESSAGE"},
		"ImageUpdateAutomation": {"LAST RUN SUSPENDED READY MESSAGE", "LAST RUN SUSPENDED READY MESSAGE"},
	}
	seen := map[string]bool{}
	for _, dir := range []string{"source", "kustomize", "helm", "notification", "image"} {
		for _, file := range exampleFiles(t, filepath.Join(dir, "*.yaml")) {
			for _, doc := range readDocuments(t, file) {
				want, ok := headers[doc.kind()]
				if !doc.isFlux() || !ok || seen[doc.kind()] {
					continue
				}
				seen[doc.kind()] = true
				t.Run(doc.kind(), func(t *testing.T) {
					if out, err := kubectlStdin(t, doc.text, "apply", "-f", "-"); err != nil {
						t.Fatalf("apply: %v\n%s", err, out)
					}
					defer kubectl(t, "delete", doc.resource(), doc.meta("name"), "-n", doc.meta("namespace"))
					for _, tc := range []struct {
						args []string
						want string
					}{
						{nil, want.normal},
						{[]string{"-o", "wide"}, want.wide},
					} {
						out := kubectl(t, append([]string{"get", doc.resource(), doc.meta("name"), "-n", doc.meta("namespace")}, tc.args...)...)
						if got := tableHeader(out); got != "NAME "+tc.want+" AGE" {
							t.Errorf("kubectl get %v: header %q, want %q\n%s", tc.args, got, "NAME "+tc.want+" AGE", out)
						}
					}
				})
			}
		}
	}
	if len(seen) != len(headers) {
		t.Errorf("examples cover %d of %d kinds: %v", len(seen), len(headers), seen)
	}
}

// tableHeader is a table's first line with its columns one space apart
// (kubectl pads them with two or more).
func tableHeader(out string) string {
	line, _, _ := strings.Cut(out, "\n")
	return strings.Join(regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1), " ")
}

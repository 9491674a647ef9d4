package integration

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestExamples_EveryKindAndVersionApplies applies one example of every kind
// in every served version with plain `kubectl apply`, and reads each back
// through kube-apiserver with nothing the user wrote lost.
func TestExamples_EveryKindAndVersionApplies(t *testing.T) {
	seen := map[string]bool{}
	for _, dir := range []string{"source", "kustomize", "helm", "notification", "image"} {
		for _, file := range exampleFiles(t, filepath.Join(dir, "*.yaml")) {
			for _, doc := range readDocuments(t, file) {
				if !doc.isFlux() {
					continue
				}
				seen[doc.apiVersion()+"/"+doc.kind()] = true
				t.Run(filepath.Base(file), func(t *testing.T) {
					if out, err := kubectlStdin(t, doc.text, "apply", "-f", "-"); err != nil {
						t.Fatalf("apply: %v\n%s", err, out)
					}
					got := getObject(t, doc.resource(), doc.meta("namespace"), doc.meta("name"))
					assertSubset(t, file, doc.obj["spec"], got["spec"])
					if got["apiVersion"] != doc.apiVersion() {
						t.Errorf("apiVersion = %v, want %s", got["apiVersion"], doc.apiVersion())
					}
					kubectl(t, "delete", doc.resource(), doc.meta("name"), "-n", doc.meta("namespace"))
				})
			}
		}
	}
	want := []string{
		"source.toolkit.fluxcd.io/v1/GitRepository", "source.toolkit.fluxcd.io/v1/OCIRepository",
		"source.toolkit.fluxcd.io/v1/HelmRepository", "source.toolkit.fluxcd.io/v1/HelmChart",
		"source.toolkit.fluxcd.io/v1/Bucket", "source.toolkit.fluxcd.io/v1/ExternalArtifact",
		"source.toolkit.fluxcd.io/v1beta2/OCIRepository", "source.toolkit.fluxcd.io/v1beta2/Bucket",
		"kustomize.toolkit.fluxcd.io/v1/Kustomization", "helm.toolkit.fluxcd.io/v2/HelmRelease",
		"notification.toolkit.fluxcd.io/v1beta3/Alert", "notification.toolkit.fluxcd.io/v1beta3/Provider",
		"notification.toolkit.fluxcd.io/v1/Receiver",
		"image.toolkit.fluxcd.io/v1/ImageRepository", "image.toolkit.fluxcd.io/v1/ImagePolicy",
		"image.toolkit.fluxcd.io/v1/ImageUpdateAutomation",
		"image.toolkit.fluxcd.io/v1beta2/ImageRepository", "image.toolkit.fluxcd.io/v1beta2/ImagePolicy",
		"image.toolkit.fluxcd.io/v1beta2/ImageUpdateAutomation",
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("no example of %s under artifacts/examples", w)
		}
	}
}

// guideRejections are the guide's examples that are fragments or misuse a
// field; Flux's own CRDs reject them too, and so do we, naming the field.
var guideRejections = map[string]string{
	"03-gitrepository-monorepo.yaml": "spec.include[0].repository",
	"37-kustomization-webapp.yaml":   "spec.sourceRef",
	"38-helmrelease-webapp.yaml":     "spec.interval",
	"39-kustomization-webapp.yaml":   "spec.interval",
	"45-gitrepository-webapp.yaml":   `unknown field "spec.verify.provider"`,
}

// TestGuideExamples_ApplyUnchanged applies every Flux object of the users'
// guide (artifacts/examples/guide, indentation restored from
// ../shared/seeds/flux-guide.txt) exactly as written.
func TestGuideExamples_ApplyUnchanged(t *testing.T) {
	files := exampleFiles(t, filepath.Join("guide", "*.yaml"))
	var namespaces []string
	seenNS := map[string]bool{"flux-system": true, "default": true, "": true}
	for _, file := range files {
		for _, doc := range readDocuments(t, file) {
			if ns := doc.meta("namespace"); !seenNS[ns] {
				seenNS[ns] = true
				namespaces = append(namespaces, ns)
			}
		}
	}
	sort.Strings(namespaces)
	for _, ns := range namespaces {
		namespace(t, ns)
	}
	applied := 0
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			for _, doc := range readDocuments(t, file) {
				if !doc.isFlux() {
					continue
				}
				out, err := kubectlStdin(t, doc.text, "apply", "-f", "-")
				if want, rejected := guideRejections[name]; rejected {
					if err == nil || !strings.Contains(out, want) {
						t.Fatalf("want a rejection naming %q, got err=%v:\n%s", want, err, out)
					}
					continue
				}
				if err != nil {
					t.Fatalf("apply %s %s: %v", doc.kind(), doc.meta("name"), err)
				}
				ns := doc.meta("namespace")
				if ns == "" {
					ns = "default"
				}
				got := getObject(t, doc.resource(), ns, doc.meta("name"))
				assertSubset(t, name, doc.obj["spec"], got["spec"])
				applied++
			}
		})
	}
	if applied < 40 {
		t.Errorf("applied %d guide objects; expected at least 40", applied)
	}
}

// TestTutorialExamples_ApplyUnchanged applies the tutorial's objects, written
// for older Flux releases (source v1beta1, kustomize v1beta2), unchanged, and
// reads them back in the current versions.
func TestTutorialExamples_ApplyUnchanged(t *testing.T) {
	current := map[string]string{"GitRepository": "gitrepositories.v1.source.toolkit.fluxcd.io", "Kustomization": "kustomizations.v1.kustomize.toolkit.fluxcd.io"}
	for _, file := range exampleFiles(t, filepath.Join("tutorial", "*.yaml")) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			for _, doc := range readDocuments(t, file) {
				if out, err := kubectlStdin(t, doc.text, "apply", "-f", "-"); err != nil {
					t.Fatalf("apply: %v\n%s", err, out)
				}
				old := getObject(t, doc.resource(), doc.meta("namespace"), doc.meta("name"))
				assertSubset(t, file, doc.obj["spec"], old["spec"])
				now := getObject(t, current[doc.kind()], doc.meta("namespace"), doc.meta("name"))
				spec := now["spec"].(map[string]interface{})
				if spec["interval"] != doc.obj["spec"].(map[string]interface{})["interval"] {
					t.Errorf("current version reads interval %v", spec["interval"])
				}
				kubectl(t, "delete", doc.resource(), doc.meta("name"), "-n", doc.meta("namespace"))
			}
		})
	}
}

package install

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/validation"
)

// decodeAndValidate decodes a manifest the way the server does (to the
// internal version, with the defaults of the manifest's version) and
// validates the result.
func decodeAndValidate(t *testing.T, manifest string) field.ErrorList {
	t.Helper()
	_, codecs := newScheme()
	obj, _, err := codecs.UniversalDecoder().Decode([]byte(manifest), nil, nil)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	k, ok := obj.(*kustomize.Kustomization)
	if !ok {
		t.Fatalf("decoded %T, want the internal Kustomization", obj)
	}
	return validation.ValidateKustomization(k)
}

// Validation runs on the internal type, so it is shared by every version;
// these cases check that v1beta2 manifests reach it.
func TestValidation_V1beta2ThroughTheScheme(t *testing.T) {
	cases := []struct {
		name     string
		manifest string
		want     []string // field paths of the expected errors
	}{{
		name: "the tutorial's Kustomization is valid",
		manifest: `apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata: {name: task-tool, namespace: flux-system}
spec:
  interval: 5m0s
  path: ./app/overlays/prod
  prune: true
  sourceRef: {kind: GitRepository, name: task-tool}
  targetNamespace: prod
  validation: client
  patchesStrategicMerge:
  - {apiVersion: apps/v1, kind: Deployment, metadata: {name: app}, spec: {replicas: 2}}
  patchesJson6902:
  - target: {kind: Deployment, name: app}
    patch: [{op: replace, path: /spec/replicas, value: 3}]
`,
	}, {
		name: "invalid fields are rejected with their paths",
		manifest: `apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata: {name: task-tool, namespace: flux-system}
spec:
  interval: soon
  prune: true
  sourceRef: {kind: HelmRepository, name: task-tool}
  targetNamespace: Prod_NS
  patchesJson6902:
  - target: {kind: Deployment, labelSelector: "a in (b"}
    patch: [{op: remove, path: /spec/paused}]
`,
		want: []string{"spec.sourceRef.kind", "spec.interval", "spec.targetNamespace", "spec.patches[0].target.labelSelector"},
	}, {
		name: "an empty strategic merge patch is rejected",
		manifest: `apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata: {name: task-tool, namespace: flux-system}
spec:
  interval: 5m
  prune: true
  sourceRef: {kind: GitRepository, name: task-tool}
  patchesStrategicMerge: [null]
`,
		want: []string{"spec.patches[0].patch"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := decodeAndValidate(t, tc.manifest)
			got := map[string]bool{}
			for _, e := range errs {
				got[e.Field] = true
			}
			for _, f := range tc.want {
				if !got[f] {
					t.Errorf("no error for %s; got %v", f, errs)
				}
			}
			if len(tc.want) == 0 && len(errs) > 0 {
				t.Errorf("unexpected errors: %v", errs)
			}
		})
	}
}

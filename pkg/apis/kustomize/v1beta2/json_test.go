package v1beta2

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// A Kustomization using every field of Flux's v1beta2 schema; decoding it
// strictly and encoding it again must give the same JSON.
const fluxKustomization = `{"apiVersion":"kustomize.toolkit.fluxcd.io/v1beta2","kind":"Kustomization","metadata":{"name":"apps","namespace":"flux-system"},
	"spec":{"commonMetadata":{"labels":{"team":"a"},"annotations":{"x":"y"}},
		"dependsOn":[{"name":"infra","namespace":"flux-system"}],
		"decryption":{"provider":"sops","secretRef":{"name":"sops-age"}},
		"interval":"10m","retryInterval":"2m","timeout":"5m",
		"kubeConfig":{"secretRef":{"name":"remote","key":"value.yaml"}},
		"path":"./apps","prune":true,
		"postBuild":{"substitute":{"env":"prod"},"substituteFrom":[{"kind":"ConfigMap","name":"vars","optional":true}]},
		"healthChecks":[{"apiVersion":"apps/v1","kind":"Deployment","name":"app","namespace":"prod"}],
		"patches":[{"patch":"- op: add\n  path: /x\n  value: 1","target":{"kind":"Deployment","labelSelector":"app=a"}}],
		"patchesStrategicMerge":[{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"app"},"spec":{"replicas":2}}],
		"patchesJson6902":[{"target":{"group":"apps","version":"v1","kind":"Deployment","name":"app"},
			"patch":[{"op":"replace","path":"/spec/replicas","value":3},{"op":"copy","from":"/a","path":"/b"}]}],
		"images":[{"name":"podinfo","newName":"ghcr.io/podinfo","newTag":"6.0.0"}],
		"serviceAccountName":"deployer",
		"sourceRef":{"kind":"GitRepository","name":"repo","namespace":"flux-system"},
		"suspend":true,"targetNamespace":"prod","force":true,"wait":true,"validation":"client",
		"components":["../components/a"]},
	"status":{"observedGeneration":2,"lastHandledReconcileAt":"now",
		"conditions":[{"type":"Ready","status":"True","reason":"ReconciliationSucceeded","message":"ok","lastTransitionTime":"2022-01-02T03:04:05Z"}],
		"lastAppliedRevision":"main/abc","lastAttemptedRevision":"main/abc",
		"inventory":{"entries":[{"id":"prod_app_apps_Deployment","v":"v1"}]}}}`

func TestJSON_MatchesFluxFieldNames(t *testing.T) {
	dec := json.NewDecoder(bytes.NewReader([]byte(fluxKustomization)))
	dec.DisallowUnknownFields()
	obj := &Kustomization{}
	if err := dec.Decode(obj); err != nil {
		t.Fatalf("strict decode: %v", err)
	}
	out, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	if err := json.Unmarshal([]byte(fluxKustomization), &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("re-encoded JSON differs:\nwant %v\ngot  %v", want, got)
	}
}

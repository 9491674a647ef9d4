package v1beta1

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// A GitRepository using every field of Flux's last v1beta1 schema; decoding
// it strictly and encoding it again must give the same JSON.
const fluxGitRepository = `{"apiVersion":"source.toolkit.fluxcd.io/v1beta1","kind":"GitRepository","metadata":{"name":"podinfo","namespace":"flux-system"},
	"spec":{"url":"ssh://git@github.com/org/repo","secretRef":{"name":"ssh"},"interval":"1m","timeout":"20s",
		"ref":{"branch":"main","tag":"v1","semver":">=1.0.0","commit":"abc"},
		"verify":{"mode":"head","secretRef":{"name":"pgp"}},"ignore":"/*\n!/deploy","suspend":true,
		"gitImplementation":"libgit2","recurseSubmodules":true,
		"include":[{"repository":{"name":"other"},"fromPath":"a","toPath":"b"}],
		"accessFrom":{"namespaceSelectors":[{"matchLabels":{"team":"a"}}]}},
	"status":{"observedGeneration":2,"url":"http://sc/gitrepository/flux-system/podinfo/latest.tar.gz",
		"artifact":{"path":"gitrepository/flux-system/podinfo/abc.tar.gz","url":"http://sc/abc.tar.gz","revision":"main/abc","checksum":"0123ab","lastUpdateTime":"2022-01-02T03:04:05Z"},
		"includedArtifacts":[{"path":"p","url":"u","revision":"main/def","checksum":"4567cd","lastUpdateTime":"2022-01-02T03:04:05Z"}],
		"conditions":[{"type":"Ready","status":"True","reason":"GitOperationSucceed","message":"ok","lastTransitionTime":"2022-01-02T03:04:05Z"}],
		"lastHandledReconcileAt":"2022-01-02T03:04:05Z"}}`

func TestJSON_MatchesFluxFieldNames(t *testing.T) {
	dec := json.NewDecoder(bytes.NewReader([]byte(fluxGitRepository)))
	dec.DisallowUnknownFields()
	obj := &GitRepository{}
	if err := dec.Decode(obj); err != nil {
		t.Fatalf("strict decode: %v", err)
	}
	out, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	if err := json.Unmarshal([]byte(fluxGitRepository), &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("re-encoded JSON differs:\nwant %v\ngot  %v", want, got)
	}
}

package v1beta2

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// Objects with the v1beta2-only fields of Flux's schema; decoding them
// strictly and encoding them again must give the same JSON.
var fluxDocuments = map[string]struct {
	obj  any
	json string
}{
	"OCIRepository": {&OCIRepository{}, `{"apiVersion":"source.toolkit.fluxcd.io/v1beta2","kind":"OCIRepository","metadata":{"name":"podinfo"},
		"spec":{"url":"oci://ghcr.io/x","ref":{"tag":"latest"},"provider":"aws","verify":{"provider":"cosign","matchOIDCIdentity":[{"issuer":"i","subject":"s"}]},
		"interval":"5m0s","timeout":"1m0s","layerSelector":{"mediaType":"m","operation":"extract"}},
		"status":{"observedGeneration":1,"url":"http://sc/a.tar.gz","contentConfigChecksum":"sha256:abc","observedLayerSelector":{"mediaType":"m"},"lastHandledReconcileAt":"now"}}`},
	"Bucket": {&Bucket{}, `{"apiVersion":"source.toolkit.fluxcd.io/v1beta2","kind":"Bucket","metadata":{"name":"podinfo"},
		"spec":{"provider":"generic","bucketName":"b","endpoint":"minio:9000","sts":{"provider":"ldap","endpoint":"https://sts"},"prefix":"p/",
		"certSecretRef":{"name":"tls"},"proxySecretRef":{"name":"proxy"},"interval":"5m0s","timeout":"1m0s",
		"accessFrom":{"namespaceSelectors":[{"matchLabels":{"team":"a"}},{}]}},
		"status":{"observedGeneration":1,"url":"http://sc/b.tar.gz","observedIgnore":"x"}}`},
}

func TestJSON_MatchesFluxFieldNames(t *testing.T) {
	for kind, doc := range fluxDocuments {
		t.Run(kind, func(t *testing.T) {
			dec := json.NewDecoder(bytes.NewReader([]byte(doc.json)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(doc.obj); err != nil {
				t.Fatalf("strict decode: %v", err)
			}
			out, err := json.Marshal(doc.obj)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal([]byte(doc.json), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("re-encoded JSON differs:\nwant %v\ngot  %v", want, got)
			}
		})
	}
}

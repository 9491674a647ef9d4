package v1

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
)

// Fully populated objects written with the field names of Flux
// source-controller v1.9's CRDs. Decoding them strictly and encoding them
// again must give the same JSON: no unknown, renamed or dropped field.
const (
	artifactJSON  = `{"path":"p/a.tar.gz","url":"http://sc/a.tar.gz","revision":"main@sha1:abc","digest":"sha256:abc","lastUpdateTime":"2025-01-02T03:04:05Z","size":42,"metadata":{"k":"v"}}`
	conditionJSON = `{"type":"Ready","status":"True","observedGeneration":3,"lastTransitionTime":"2025-01-02T03:04:05Z","reason":"Succeeded","message":"stored artifact"}`
)

var fluxDocuments = map[string]struct {
	obj  any
	json string
}{
	"GitRepository": {&GitRepository{}, `{"apiVersion":"source.toolkit.fluxcd.io/v1","kind":"GitRepository","metadata":{"name":"podinfo","namespace":"flux-system"},
		"spec":{"url":"https://github.com/stefanprodan/podinfo","secretRef":{"name":"auth"},"provider":"azure","serviceAccountName":"sa",
		"interval":"5m0s","timeout":"1m0s","ref":{"branch":"main","tag":"v1","semver":">=1.0.0","name":"refs/heads/main","commit":"abc"},
		"verify":{"mode":"HEAD","secretRef":{"name":"keys"}},"proxySecretRef":{"name":"proxy"},"ignore":"*.md","suspend":true,
		"recurseSubmodules":true,"include":[{"repository":{"name":"other"},"fromPath":"a","toPath":"b"}],"sparseCheckout":["deploy"]},
		"status":{"observedGeneration":2,"conditions":[` + conditionJSON + `],"artifact":` + artifactJSON + `,"includedArtifacts":[` + artifactJSON + `],
		"observedIgnore":"*.md","observedRecurseSubmodules":true,"observedInclude":[{"repository":{"name":"other"}}],
		"observedSparseCheckout":["deploy"],"sourceVerificationMode":"HEAD","lastHandledReconcileAt":"now"}}`},
	"OCIRepository": {&OCIRepository{}, `{"apiVersion":"source.toolkit.fluxcd.io/v1","kind":"OCIRepository","metadata":{"name":"podinfo"},
		"spec":{"url":"oci://ghcr.io/stefanprodan/manifests/podinfo","ref":{"digest":"sha256:abc","semver":"6.x","semverFilter":".*","tag":"latest"},
		"layerSelector":{"mediaType":"application/vnd.cncf.flux.content.v1.tar+gzip","operation":"copy"},"provider":"generic","secretRef":{"name":"regcred"},
		"verify":{"provider":"cosign","secretRef":{"name":"cosign"},"matchOIDCIdentity":[{"issuer":"^https://token.actions.githubusercontent.com$","subject":".*"}],"trustedRootSecretRef":{"name":"root"}},
		"serviceAccountName":"puller","certSecretRef":{"name":"tls"},"proxySecretRef":{"name":"proxy"},"interval":"10m0s","timeout":"1m0s","ignore":"x","insecure":true,"suspend":true},
		"status":{"observedGeneration":1,"conditions":[` + conditionJSON + `],"url":"http://sc/latest.tar.gz","artifact":` + artifactJSON + `,
		"observedIgnore":"x","observedLayerSelector":{"mediaType":"m","operation":"extract"},"lastHandledReconcileAt":"now"}}`},
	"HelmRepository": {&HelmRepository{}, `{"apiVersion":"source.toolkit.fluxcd.io/v1","kind":"HelmRepository","metadata":{"name":"podinfo"},
		"spec":{"url":"https://stefanprodan.github.io/podinfo","secretRef":{"name":"auth"},"certSecretRef":{"name":"tls"},"passCredentials":true,
		"interval":"1h0m0s","insecure":true,"timeout":"1m0s","suspend":true,"accessFrom":{"namespaceSelectors":[{"matchLabels":{"team":"a"}}]},"type":"default","provider":"generic"},
		"status":{"observedGeneration":1,"conditions":[` + conditionJSON + `],"url":"http://sc/index.yaml","artifact":` + artifactJSON + `,"lastHandledReconcileAt":"now"}}`},
	"HelmChart": {&HelmChart{}, `{"apiVersion":"source.toolkit.fluxcd.io/v1","kind":"HelmChart","metadata":{"name":"podinfo"},
		"spec":{"chart":"podinfo","version":"6.x","sourceRef":{"apiVersion":"source.toolkit.fluxcd.io/v1","kind":"HelmRepository","name":"podinfo"},
		"interval":"5m0s","reconcileStrategy":"Revision","valuesFiles":["values.yaml"],"ignoreMissingValuesFiles":true,"suspend":true,
		"verify":{"provider":"notation","secretRef":{"name":"trust"},"matchOIDCIdentity":[{"issuer":"i","subject":"s"}]}},
		"status":{"observedGeneration":1,"observedSourceArtifactRevision":"sha256:abc","observedChartName":"podinfo","observedValuesFiles":["values.yaml"],
		"conditions":[` + conditionJSON + `],"url":"http://sc/podinfo.tgz","artifact":` + artifactJSON + `,"lastHandledReconcileAt":"now"}}`},
	"Bucket": {&Bucket{}, `{"apiVersion":"source.toolkit.fluxcd.io/v1","kind":"Bucket","metadata":{"name":"podinfo"},
		"spec":{"provider":"aws","bucketName":"podinfo","endpoint":"s3.amazonaws.com","sts":{"provider":"aws","endpoint":"https://sts.amazonaws.com","secretRef":{"name":"s"},"certSecretRef":{"name":"c"}},
		"insecure":true,"region":"us-east-1","prefix":"manifests/","secretRef":{"name":"creds"},"serviceAccountName":"reader","certSecretRef":{"name":"tls"},
		"proxySecretRef":{"name":"proxy"},"interval":"5m0s","timeout":"1m0s","ignore":"x","suspend":true},
		"status":{"observedGeneration":1,"conditions":[` + conditionJSON + `],"url":"http://sc/b.tar.gz","artifact":` + artifactJSON + `,"observedIgnore":"x","lastHandledReconcileAt":"now"}}`},
	"ExternalArtifact": {&ExternalArtifact{}, `{"apiVersion":"source.toolkit.fluxcd.io/v1","kind":"ExternalArtifact","metadata":{"name":"podinfo"},
		"spec":{"sourceRef":{"apiVersion":"x.io/v1","kind":"ArtifactGenerator","name":"gen","namespace":"apps"}},
		"status":{"artifact":` + artifactJSON + `,"conditions":[` + conditionJSON + `]}}`},
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

// TestJSON_KeepsDurationsAsWritten checks that a duration is stored as the
// user wrote it: "2m" comes back as "2m", not Go's "2m0s", both through plain
// JSON and through the path a request takes (decode, default, convert to the
// internal hub, convert back, encode).
func TestJSON_KeepsDurationsAsWritten(t *testing.T) {
	const doc = `{"apiVersion":"source.toolkit.fluxcd.io/v1","kind":"GitRepository","metadata":{"name":"podinfo"},` +
		`"spec":{"url":"https://github.com/stefanprodan/podinfo","interval":"2m"}}`

	t.Run("encoding/json", func(t *testing.T) {
		var obj GitRepository
		if err := json.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		if obj.Spec.Interval != "2m" {
			t.Errorf("decoded interval = %q, want %q", obj.Spec.Interval, "2m")
		}
		out, err := json.Marshal(&obj)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), `"interval":"2m"`) {
			t.Errorf("re-encoded JSON lost the written interval: %s", out)
		}
	})

	t.Run("through the internal version", func(t *testing.T) {
		scheme := runtime.NewScheme()
		for _, add := range []func(*runtime.Scheme) error{source.AddToScheme, AddToScheme} {
			if err := add(scheme); err != nil {
				t.Fatal(err)
			}
		}
		codecs := serializer.NewCodecFactory(scheme)
		internal, err := runtime.Decode(codecs.UniversalDecoder(source.SchemeGroupVersion), []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := internal.(*source.GitRepository).Spec.Interval; got != "2m" {
			t.Errorf("internal interval = %q, want %q", got, "2m")
		}
		info, _ := runtime.SerializerInfoForMediaType(codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
		out, err := runtime.Encode(codecs.EncoderForVersion(info.Serializer, SchemeGroupVersion), internal)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Spec map[string]any `json:"spec"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		// timeout is Flux's CRD default, also in Flux's own spelling.
		if got.Spec["interval"] != "2m" || got.Spec["timeout"] != "60s" {
			t.Errorf("re-encoded spec = %v, want interval 2m and defaulted timeout 60s", got.Spec)
		}
	})
}

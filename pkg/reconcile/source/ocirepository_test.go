package source

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
)

type ociHarness struct {
	rec     *OCIRepositoryReconciler
	events  *record.FakeRecorder
	secrets map[string]*corev1.Secret
}

func newOCIHarness(t *testing.T) *ociHarness {
	t.Helper()
	store, err := artifact.NewStore(t.TempDir(), artifact.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := &ociHarness{events: record.NewFakeRecorder(100), secrets: map[string]*corev1.Secret{}}
	h.rec = &OCIRepositoryReconciler{Env: &Env{
		Secret: func(_ context.Context, ns, name string) (*corev1.Secret, error) {
			if s, ok := h.secrets[ns+"/"+name]; ok {
				return s, nil
			}
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
		},
		Store: store, Events: h.events, TmpDir: t.TempDir(), MaxFetchSize: 1 << 20,
	}}
	return h
}

func (h *ociHarness) dockerSecret(name, host, user, pass string) {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	h.secrets["ns/"+name] = &corev1.Secret{Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{
		corev1.DockerConfigJsonKey: fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, host, auth),
	}}
}

func ociRepo(url string, ref *sourcev1.OCIRepositoryRef) *sourcev1.OCIRepository {
	return &sourcev1.OCIRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app", Generation: 1},
		Spec:       sourcev1.OCIRepositorySpec{URL: url, Reference: ref, Interval: common.Duration("1m")},
	}
}

func ready(obj *sourcev1.OCIRepository) *metav1.Condition {
	return apimeta.FindStatusCondition(obj.Status.Conditions, common.ReadyCondition)
}

func TestOCIRepository_StoresTheLayerAndSkipsAnUnchangedDigest(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	digest := reg.Push(t, "app", "1.0.0", ocitest.Image(t, map[string]string{"deploy/app.yaml": "kind: ConfigMap\n"},
		map[string]string{"org.opencontainers.image.revision": "main@sha1:abc"}, ""))
	h := newOCIHarness(t)
	obj := ociRepo(reg.URL("app"), &sourcev1.OCIRepositoryRef{SemVer: ">=1.0.0"})

	if res := h.rec.Reconcile(context.Background(), obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	a := obj.Status.Artifact
	if a == nil || a.Revision != "1.0.0@"+digest || !strings.HasPrefix(a.Digest, "sha256:") {
		t.Fatalf("artifact = %+v", a)
	}
	if a.Metadata["org.opencontainers.image.revision"] != "main@sha1:abc" {
		t.Errorf("metadata = %v", a.Metadata)
	}
	if a.URL != "/apis/source.toolkit.fluxcd.io/v1/namespaces/ns/ocirepositories/app/artifact" {
		t.Errorf("url = %s", a.URL)
	}
	if c := ready(obj); c == nil || c.Status != metav1.ConditionTrue || c.Message != "stored artifact for revision '1.0.0@"+digest+"'" {
		t.Errorf("Ready = %+v", c)
	}
	if ev := <-h.events.Events; !strings.Contains(ev, "NewArtifact") {
		t.Errorf("event = %q", ev)
	}

	gets := reg.BlobGets()
	if res := h.rec.Reconcile(context.Background(), obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	if reg.BlobGets() != gets {
		t.Error("an unchanged digest was pulled again")
	}
	if len(h.events.Events) != 0 {
		t.Errorf("unexpected event %q", <-h.events.Events)
	}
}

func TestOCIRepository_CopyStoresTheBlobAsItIs(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	blob := ocitest.TarGz(t, map[string]string{"a": "b"})
	layer := ocitest.Layer(t, blob, ocitest.FluxContentMediaType)
	reg.Push(t, "app", "latest", ocitest.ImageWithLayers(t, nil, layer))
	h := newOCIHarness(t)
	obj := ociRepo(reg.URL("app"), nil)
	obj.Spec.LayerSelector = &sourcev1.OCILayerSelector{MediaType: ocitest.FluxContentMediaType, Operation: source.OCILayerCopy}

	if res := h.rec.Reconcile(context.Background(), obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	want, _ := layer.Digest()
	if obj.Status.Artifact.Digest != want.String() {
		t.Errorf("artifact digest = %s, want the layer's %s", obj.Status.Artifact.Digest, want)
	}
	if obj.Status.ObservedLayerSelector == nil || obj.Status.ObservedLayerSelector.Operation != source.OCILayerCopy {
		t.Errorf("observedLayerSelector = %+v", obj.Status.ObservedLayerSelector)
	}
}

func TestOCIRepository_FailuresKeepTheLastArtifact(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{Username: "flux", Password: "right-pw"})
	reg.Push(t, "app", "latest", ocitest.Image(t, map[string]string{"a": "b"}, nil, ""))
	h := newOCIHarness(t)
	h.dockerSecret("creds", reg.Host, "flux", "right-pw")
	obj := ociRepo(reg.URL("app"), nil)
	obj.Spec.SecretRef = &common.LocalObjectReference{Name: "creds"}
	if res := h.rec.Reconcile(context.Background(), obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	last := obj.Status.Artifact.DeepCopy()

	tests := []struct {
		name, wantReason string
		change           func()
	}{
		{"wrong password", source.AuthenticationFailedReason, func() { h.dockerSecret("creds", reg.Host, "flux", "wrong-pw-123") }},
		{"missing secret", source.AuthenticationFailedReason, func() { delete(h.secrets, "ns/creds") }},
		{"layer is not a tar.gz", source.OCILayerOperationFailedReason, func() {
			h.dockerSecret("creds", reg.Host, "flux", "right-pw")
			reg.Push(t, "app", "latest", ocitest.ImageWithLayers(t, nil, ocitest.Layer(t, []byte("plain text"), ocitest.FluxContentMediaType)))
		}},
		{"missing tag", source.OCIPullFailedReason, func() { obj.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "nope"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.change()
			res := h.rec.Reconcile(context.Background(), obj)
			if res.Err == nil {
				t.Fatal("no error")
			}
			c := ready(obj)
			if c.Status != metav1.ConditionFalse || c.Reason != tt.wantReason {
				t.Errorf("Ready = %s %s: %s", c.Status, c.Reason, c.Message)
			}
			if strings.Contains(c.Message, "wrong-pw-123") || strings.Contains(c.Message, "right-pw") {
				t.Errorf("the message shows a password: %s", c.Message)
			}
			if ff := apimeta.FindStatusCondition(obj.Status.Conditions, source.FetchFailedCondition); ff == nil || ff.Reason != tt.wantReason {
				t.Errorf("FetchFailed = %+v", ff)
			}
			if obj.Status.Artifact.Revision != last.Revision || !h.rec.Store.Exists(last.Path) {
				t.Errorf("the last artifact was not kept: %+v", obj.Status.Artifact)
			}
		})
	}
}

func TestOCIRepository_SuspendedDoesNothing(t *testing.T) {
	h := newOCIHarness(t)
	obj := ociRepo("oci://127.0.0.1:1/app", nil)
	obj.Spec.Suspend = true
	if res := h.rec.Reconcile(context.Background(), obj); res.Err != nil || len(obj.Status.Conditions) != 0 {
		t.Fatalf("res = %+v, conditions = %v", res, obj.Status.Conditions)
	}
}

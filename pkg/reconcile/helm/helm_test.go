package helm

import (
	"context"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

func hr(name string) *helmv2.HelmRelease {
	return &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name, Generation: 1}}
}

func TestReleaseName_IsFluxs(t *testing.T) {
	obj := hr("web")
	if got := releaseName(obj); got != "web" {
		t.Errorf("plain: %q", got)
	}
	obj.Spec.TargetNamespace = "prod"
	if got := releaseName(obj); got != "prod-web" {
		t.Errorf("with targetNamespace: %q", got)
	}
	obj.Spec.ReleaseName = "mine"
	if got := releaseName(obj); got != "mine" {
		t.Errorf("releaseName: %q", got)
	}
	long := hr(strings.Repeat("a", 60))
	got := releaseName(long)
	if len(got) != 53 || !strings.HasPrefix(got, strings.Repeat("a", 40)+"-") || got != releaseName(long) {
		t.Errorf("long name shortened to %q", got)
	}
}

func TestRemediation_RetriesAndRemediateLastFailure(t *testing.T) {
	for _, tc := range []struct {
		failures      int64
		retries       int
		remediateLast bool
		exceeded, fix bool
	}{
		{failures: 1, retries: 0, exceeded: true, fix: false},
		{failures: 1, retries: 0, remediateLast: true, exceeded: true, fix: true},
		{failures: 1, retries: 1, exceeded: false, fix: true},
		{failures: 2, retries: 1, remediateLast: true, exceeded: true, fix: true},
		{failures: 50, retries: -1, exceeded: false, fix: true},
	} {
		if got := exceeded(tc.failures, tc.retries); got != tc.exceeded {
			t.Errorf("exceeded(%d, %d) = %v", tc.failures, tc.retries, got)
		}
		if got := shouldRemediate(tc.failures, tc.retries, tc.remediateLast); got != tc.fix {
			t.Errorf("shouldRemediate(%d, %d, %v) = %v", tc.failures, tc.retries, tc.remediateLast, got)
		}
	}
	// remediateLastFailure defaults to true when retries are set.
	up := &helmv2.Upgrade{Remediation: &helmv2.UpgradeRemediation{Retries: 2}}
	if !upgradeRemediateLast(up) || upgradeRemediateLast(&helmv2.Upgrade{}) {
		t.Error("remediateLastFailure defaults")
	}
}

func TestValues_FluxOrderAndNoDataInErrors(t *testing.T) {
	host := fake.NewSimpleClientset(
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "base"}, Data: map[string]string{"values.yaml": "a: 1\nm: {x: 1, q: 1}\n"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "sec"}, Data: map[string][]byte{"token": []byte("s3cret"), "bad": []byte("s3cret: [")}},
	)
	r := &Reconciler{Host: host}
	obj := hr("web")
	obj.Spec.ValuesFrom = []helmv2.ValuesReference{
		{Kind: "ConfigMap", Name: "base"},
		{Kind: "Secret", Name: "sec", ValuesKey: "token", TargetPath: "m.q"},
		{Kind: "Secret", Name: "missing", Optional: true},
	}
	obj.Spec.Values = &common.JSON{Raw: []byte(`{"a":2}`)}
	got, err := r.values(context.Background(), obj)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": float64(2), "m": map[string]any{"x": float64(1), "q": "s3cret"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("values = %#v, want %#v", got, want)
	}

	obj.Spec.ValuesFrom = []helmv2.ValuesReference{{Kind: "Secret", Name: "sec", ValuesKey: "bad"}}
	_, err = r.values(context.Background(), obj)
	if outcome, _ := loop.Classify(err, ""); outcome != loop.Stalled || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "Secret/apps/sec") {
		t.Errorf("bad document: %v", err)
	}
	obj.Spec.ValuesFrom = []helmv2.ValuesReference{{Kind: "Secret", Name: "missing"}}
	if _, err := r.values(context.Background(), obj); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing required: %v", err)
	}
}

package source

import (
	"context"
	"strings"
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helm/helmtest"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// TestHelmChart_VerifyCosign_FromOCIHelmRepository: a chart from a
// HelmRepository of type oci is stored once a cosign signature of its
// manifest verifies with a key of spec.verify.secretRef (SourceVerified
// True, not verified again while unchanged); a newer version that is
// unsigned fails with VerificationError and the verified chart stays.
// Charts from HTTP repositories or built from other sources cannot be
// verified and stall.
func TestHelmChart_VerifyCosign_FromOCIHelmRepository(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{Username: "oci-user", Password: "oci-pw"})
	pushChart := func(version string) string {
		helmtest.Push(t, reg.Host, "charts", helmtest.Chart(t, map[string]string{
			"Chart.yaml": "apiVersion: v2\nname: app\nversion: " + version + "\n",
		}), helmtest.PushOptions{Username: "oci-user", Password: "oci-pw"})
		r, err := oci.Resolve(context.Background(), oci.Options{URL: reg.URL("charts/app"), Insecure: true,
			Ref: oci.Ref{Tag: strings.ReplaceAll(version, "+", "_")}, Credentials: &oci.Credentials{Username: "oci-user", Password: "oci-pw"}})
		if err != nil {
			t.Fatal(err)
		}
		return r.Digest
	}
	key := ocitest.NewCosignKey(t)
	reg.SignClassic(t, "charts/app", pushChart("1.0.0+build.1"), key)
	env, _ := newHelmEnv(t, helmSecrets{
		"pull": dockerConfig(reg.Host, "oci-user", "oci-pw"),
		"keys": {"cosign.pub": key.PublicPEM},
	})
	repo := &sourcev1.HelmRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "oci", Generation: 1},
		Spec: sourcev1.HelmRepositorySpec{URL: reg.URL("charts"), Type: source.HelmRepositoryTypeOCI, Insecure: true, Interval: "1m",
			SecretRef: &common.LocalObjectReference{Name: "pull"}},
	}
	chart := &sourcev1.HelmChart{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app", Generation: 1},
		Spec: sourcev1.HelmChartSpec{Chart: "app", Version: ">=1.0.0-0", Interval: "1m",
			SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: source.HelmRepositoryKind, Name: "oci"},
			Verify: &sourcev1.HelmChartVerification{Provider: source.CosignVerificationProvider,
				SecretRef: &common.LocalObjectReference{Name: "keys"}}},
	}
	cr := &HelmChartReconciler{Env: env, GetHelmRepository: func(string, string) (*sourcev1.HelmRepository, error) { return repo, nil }}
	ctx := context.Background()

	if res := cr.Reconcile(ctx, chart); res.Err != nil {
		t.Fatal(res.Err)
	}
	if a := chart.Status.Artifact; a == nil || a.Revision != "1.0.0+build.1" {
		t.Fatalf("artifact = %+v", a)
	}
	if files := loadArtifact(t, env, chart); files["Chart.yaml/version"] != "1.0.0+build.1" {
		t.Errorf("artifact %v", files)
	}
	if c := sourceVerified(chart.Status.Conditions); c == nil || c.Status != metav1.ConditionTrue || c.Reason != common.SucceededReason ||
		c.Message != "verified signature of version 1.0.0+build.1" {
		t.Errorf("SourceVerified = %+v", c)
	}
	sigRequests := len(reg.Requests(".sig"))
	if res := cr.Reconcile(ctx, chart); res.Err != nil || len(reg.Requests(".sig")) != sigRequests {
		t.Errorf("an unchanged verified chart was verified again (%v)", res.Err)
	}

	t.Run("an unsigned newer version", func(t *testing.T) {
		pushChart("1.1.0")
		res := cr.Reconcile(ctx, chart)
		if o, reason := loop.Classify(res.Err, ""); o != loop.Failed || reason != source.VerificationError {
			t.Fatalf("outcome %v %s: %v", o, reason, res.Err)
		}
		ready := apimeta.FindStatusCondition(chart.Status.Conditions, common.ReadyCondition)
		v := sourceVerified(chart.Status.Conditions)
		if ready.Status != metav1.ConditionFalse || ready.Reason != source.VerificationError || !strings.Contains(ready.Message, "no signature found") ||
			v.Status != metav1.ConditionFalse || v.Reason != source.VerificationError {
			t.Errorf("Ready %+v, SourceVerified %+v", ready, v)
		}
		if chart.Status.Artifact.Revision != "1.0.0+build.1" {
			t.Errorf("the verified chart did not stay: %+v", chart.Status.Artifact)
		}
	})

	t.Run("only charts from registries can be verified", func(t *testing.T) {
		for name, change := range map[string]func(*sourcev1.HelmChart){
			"HTTP repository": func(c *sourcev1.HelmChart) { repo.Spec.Type = source.HelmRepositoryTypeDefault },
			"GitRepository": func(c *sourcev1.HelmChart) {
				c.Spec.SourceRef = sourcev1.LocalHelmChartSourceReference{Kind: source.GitRepositoryKind, Name: "git"}
			},
		} {
			c := chart.DeepCopy()
			change(c)
			res := cr.Reconcile(ctx, c)
			repo.Spec.Type = source.HelmRepositoryTypeOCI
			if o, _ := loop.Classify(res.Err, ""); o != loop.Stalled || !strings.Contains(res.Err.Error(), "only charts from a HelmRepository of type oci can be verified") {
				t.Errorf("%s: %v %v", name, o, res.Err)
			}
		}
	})
}

package v1

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

func defaulted(t *testing.T, obj runtime.Object) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	scheme.Default(obj)
}

// sixtySeconds is Flux's CRD default of spec.timeout, as Flux writes it.
var sixtySeconds = duration("60s")

func duration(d common.Duration) *common.Duration { return &d }

func TestDefaults_MatchFluxCRDDefaults(t *testing.T) {
	git := &GitRepository{Spec: GitRepositorySpec{Verification: &GitRepositoryVerification{}}}
	oci := &OCIRepository{Spec: OCIRepositorySpec{Verify: &OCIRepositoryVerification{}}}
	helmRepo := &HelmRepository{}
	chart := &HelmChart{Spec: HelmChartSpec{Verify: &HelmChartVerification{}}}
	bucket := &Bucket{}
	for _, obj := range []runtime.Object{git, oci, helmRepo, chart, bucket} {
		defaulted(t, obj)
	}

	checks := []struct {
		name     string
		got, exp any
	}{
		{"GitRepository timeout", git.Spec.Timeout, sixtySeconds},
		{"GitRepository verify.mode", git.Spec.Verification.Mode, ModeGitHEAD},
		{"GitRepository observedGeneration", git.Status.ObservedGeneration, int64(-1)},
		{"OCIRepository provider", oci.Spec.Provider, "generic"},
		{"OCIRepository timeout", oci.Spec.Timeout, sixtySeconds},
		{"OCIRepository verify.provider", oci.Spec.Verify.Provider, "cosign"},
		{"OCIRepository observedGeneration", oci.Status.ObservedGeneration, int64(-1)},
		{"HelmRepository provider", helmRepo.Spec.Provider, "generic"},
		{"HelmRepository timeout", helmRepo.Spec.Timeout, (*common.Duration)(nil)},
		{"HelmRepository observedGeneration", helmRepo.Status.ObservedGeneration, int64(-1)},
		{"HelmChart version", chart.Spec.Version, "*"},
		{"HelmChart reconcileStrategy", chart.Spec.ReconcileStrategy, "ChartVersion"},
		{"HelmChart verify.provider", chart.Spec.Verify.Provider, "cosign"},
		{"HelmChart observedGeneration", chart.Status.ObservedGeneration, int64(-1)},
		{"Bucket provider", bucket.Spec.Provider, "generic"},
		{"Bucket timeout", bucket.Spec.Timeout, sixtySeconds},
		{"Bucket observedGeneration", bucket.Status.ObservedGeneration, int64(-1)},
	}
	for _, c := range checks {
		if !equality.Semantic.DeepEqual(c.got, c.exp) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.exp)
		}
	}
}

func TestDefaults_KeepValuesAndReconciledStatus(t *testing.T) {
	obj := &GitRepository{
		Spec: GitRepositorySpec{
			Timeout:      duration("2m"),
			Verification: &GitRepositoryVerification{Mode: ModeGitTag},
		},
		Status: GitRepositoryStatus{Conditions: []metav1.Condition{{Type: "Ready"}}},
	}
	defaulted(t, obj)
	if *obj.Spec.Timeout != "2m" || obj.Spec.Verification.Mode != ModeGitTag {
		t.Errorf("defaulting overwrote set values: %+v", obj.Spec)
	}
	if obj.Status.ObservedGeneration != 0 {
		t.Errorf("observedGeneration = %d on a status that is present, want 0", obj.Status.ObservedGeneration)
	}
}

package v1beta1

import (
	"testing"

	"github.com/google/go-cmp/cmp"
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

func TestDefaults_MatchFluxV1beta1CRDDefaults(t *testing.T) {
	cases := []struct {
		name string
		in   GitRepository
		want GitRepository
	}{{
		name: "empty object gets the CRD defaults",
		in:   GitRepository{Spec: GitRepositorySpec{Verification: &GitRepositoryVerification{}}},
		want: GitRepository{
			Spec: GitRepositorySpec{
				Timeout:           ptr[common.Duration]("60s"),
				GitImplementation: GoGitImplementation,
				// Flux's v1beta1 CRD required verify.mode and had no default.
				Verification: &GitRepositoryVerification{},
			},
			Status: GitRepositoryStatus{ObservedGeneration: -1},
		},
	}, {
		name: "values as written are kept",
		in: GitRepository{
			Spec:   GitRepositorySpec{Timeout: ptr[common.Duration]("20s"), GitImplementation: LibGit2Implementation},
			Status: GitRepositoryStatus{ObservedGeneration: 4},
		},
		want: GitRepository{
			Spec:   GitRepositorySpec{Timeout: ptr[common.Duration]("20s"), GitImplementation: LibGit2Implementation},
			Status: GitRepositoryStatus{ObservedGeneration: 4},
		},
	}, {
		name: "a reconciled status keeps observedGeneration 0",
		in:   GitRepository{Status: GitRepositoryStatus{URL: "http://sc/a.tar.gz"}},
		want: GitRepository{
			Spec:   GitRepositorySpec{Timeout: ptr[common.Duration]("60s"), GitImplementation: GoGitImplementation},
			Status: GitRepositoryStatus{URL: "http://sc/a.tar.gz"},
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in.DeepCopy()
			defaulted(t, got)
			if diff := cmp.Diff(&tc.want, got); diff != "" {
				t.Errorf("defaulted (-want +got):\n%s", diff)
			}
		})
	}
}

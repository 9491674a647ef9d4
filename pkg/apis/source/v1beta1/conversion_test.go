package v1beta1

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/randfill"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	commonfuzzer "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common/fuzzer"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	v1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
)

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{source.AddToScheme, v1.AddToScheme, AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return scheme
}

// toV1 converts a v1beta1 object to v1 through the hub, as the server does
// before storing it, and returns the v1 object and its JSON as a map.
func toV1(t *testing.T, scheme *runtime.Scheme, in *GitRepository) (*v1.GitRepository, map[string]any) {
	t.Helper()
	hub := &source.GitRepository{}
	if err := scheme.Convert(in, hub, nil); err != nil {
		t.Fatalf("v1beta1 to hub: %v", err)
	}
	out := &v1.GitRepository{}
	if err := scheme.Convert(hub, out, nil); err != nil {
		t.Fatalf("hub to v1: %v", err)
	}
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return out, m
}

func ptr[T any](v T) *T { return &v }

var updated = metav1.Date(2022, 1, 2, 3, 4, 5, 0, time.UTC)

func TestConversion_V1beta1ToV1(t *testing.T) {
	cases := []struct {
		name  string
		in    GitRepository
		check func(t *testing.T, out *v1.GitRepository, m map[string]any)
	}{{
		name: "tutorial manifest keeps every field",
		in: GitRepository{
			ObjectMeta: metav1.ObjectMeta{Name: "task-tool", Namespace: "flux-system"},
			Spec: GitRepositorySpec{
				URL:       "ssh://git@github.com/user/task-tool-cluster-config",
				Interval:  "30s",
				Reference: &GitRepositoryRef{Branch: "main"},
				SecretRef: &common.LocalObjectReference{Name: "task-tool-ssh-key"},
			},
		},
		check: func(t *testing.T, out *v1.GitRepository, _ map[string]any) {
			want := v1.GitRepositorySpec{
				URL:       "ssh://git@github.com/user/task-tool-cluster-config",
				Interval:  "30s",
				Reference: &v1.GitRepositoryRef{Branch: "main"},
				SecretRef: &common.LocalObjectReference{Name: "task-tool-ssh-key"},
			}
			if diff := cmp.Diff(want, out.Spec); diff != "" {
				t.Errorf("v1 spec (-want +got):\n%s", diff)
			}
			if out.Name != "task-tool" || out.Namespace != "flux-system" {
				t.Errorf("metadata = %+v", out.ObjectMeta)
			}
		},
	}, {
		name: "ref, verify, ignore, include and timeout are copied",
		in: GitRepository{Spec: GitRepositorySpec{
			URL: "https://example.com/repo", Interval: "1m", Timeout: ptr[common.Duration]("20s"),
			Reference:         &GitRepositoryRef{Tag: "v1", SemVer: ">=1", Commit: "abc"},
			Verification:      &GitRepositoryVerification{Mode: "head", SecretRef: common.LocalObjectReference{Name: "pgp"}},
			Ignore:            ptr("/*"),
			Suspend:           true,
			RecurseSubmodules: true,
			Include:           []GitRepositoryInclude{{GitRepositoryRef: common.LocalObjectReference{Name: "other"}, FromPath: "a", ToPath: "b"}},
		}},
		check: func(t *testing.T, out *v1.GitRepository, _ map[string]any) {
			want := v1.GitRepositorySpec{
				URL: "https://example.com/repo", Interval: "1m", Timeout: ptr[common.Duration]("20s"),
				Reference:         &v1.GitRepositoryRef{Tag: "v1", SemVer: ">=1", Commit: "abc"},
				Verification:      &v1.GitRepositoryVerification{Mode: v1.ModeGitHEADLegacy, SecretRef: common.LocalObjectReference{Name: "pgp"}},
				Ignore:            ptr("/*"),
				Suspend:           true,
				RecurseSubmodules: true,
				Include:           []v1.GitRepositoryInclude{{GitRepositoryRef: common.LocalObjectReference{Name: "other"}, FromPath: "a", ToPath: "b"}},
			}
			if diff := cmp.Diff(want, out.Spec); diff != "" {
				t.Errorf("v1 spec (-want +got):\n%s", diff)
			}
		},
	}, {
		name: "gitImplementation, accessFrom and status.url are dropped",
		in: GitRepository{
			Spec: GitRepositorySpec{
				URL: "https://example.com/repo", Interval: "1m", GitImplementation: LibGit2Implementation,
				AccessFrom: &common.AccessFrom{NamespaceSelectors: []common.NamespaceSelector{{MatchLabels: map[string]string{"a": "b"}}}},
			},
			Status: GitRepositoryStatus{ObservedGeneration: 3, URL: "http://sc/latest.tar.gz"},
		},
		check: func(t *testing.T, out *v1.GitRepository, m map[string]any) {
			spec := m["spec"].(map[string]any)
			for _, k := range []string{"gitImplementation", "accessFrom"} {
				if _, ok := spec[k]; ok {
					t.Errorf("v1 spec has %s: %v", k, spec)
				}
			}
			status := m["status"].(map[string]any)
			if _, ok := status["url"]; ok {
				t.Errorf("v1 status has url: %v", status)
			}
			if out.Status.ObservedGeneration != 3 {
				t.Errorf("observedGeneration = %d", out.Status.ObservedGeneration)
			}
		},
	}, {
		name: "artifact checksums become sha256 digests",
		in: GitRepository{
			Spec: GitRepositorySpec{URL: "https://example.com/repo", Interval: "1m"},
			Status: GitRepositoryStatus{
				Artifact: &Artifact{Path: "p/abc.tar.gz", URL: "http://sc/p/abc.tar.gz", Revision: "main/abc", Checksum: "0123ab", LastUpdateTime: updated},
				IncludedArtifacts: []*Artifact{
					{Path: "q", URL: "http://sc/q", Revision: "main/def", Checksum: "4567cd", LastUpdateTime: updated},
					{Path: "r", URL: "http://sc/r", Checksum: "sha512:89ef"},
					{Path: "s", URL: "http://sc/s"},
				},
			},
		},
		check: func(t *testing.T, out *v1.GitRepository, _ map[string]any) {
			want := &common.Artifact{Path: "p/abc.tar.gz", URL: "http://sc/p/abc.tar.gz", Revision: "main/abc", Digest: "sha256:0123ab", LastUpdateTime: updated}
			if diff := cmp.Diff(want, out.Status.Artifact); diff != "" {
				t.Errorf("artifact (-want +got):\n%s", diff)
			}
			var digests []string
			for _, a := range out.Status.IncludedArtifacts {
				digests = append(digests, a.Digest)
			}
			if diff := cmp.Diff([]string{"sha256:4567cd", "sha512:89ef", ""}, digests); diff != "" {
				t.Errorf("included artifact digests (-want +got):\n%s", diff)
			}
		},
	}}
	scheme := newScheme(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, m := toV1(t, scheme, &tc.in)
			tc.check(t, out, m)
		})
	}
}

func TestConversion_HubToV1beta1(t *testing.T) {
	scheme := newScheme(t)
	hub := &source.GitRepository{
		Spec: source.GitRepositorySpec{
			URL: "https://example.com/repo", Interval: "1m", Provider: "azure", ServiceAccountName: "sa",
			ProxySecretRef: &common.LocalObjectReference{Name: "proxy"}, SparseCheckout: []string{"deploy"},
			Reference:    &source.GitRepositoryRef{Branch: "main", Name: "refs/heads/main"},
			Verification: &source.GitRepositoryVerification{Mode: source.ModeGitHEAD, SecretRef: common.LocalObjectReference{Name: "pgp"}},
		},
		Status: source.GitRepositoryStatus{
			Artifact: &common.Artifact{Path: "p", URL: "u", Revision: "main@sha1:abc", Digest: "sha256:0123ab",
				LastUpdateTime: updated, Size: ptr[int64](10), Metadata: map[string]string{"a": "b"}},
			IncludedArtifacts:      []*common.Artifact{{Path: "q", URL: "v", Digest: "sha512:89ef"}},
			ObservedIgnore:         ptr("x"),
			SourceVerificationMode: ptr(source.ModeGitHEAD),
		},
	}
	out := &GitRepository{}
	if err := scheme.Convert(hub, out, nil); err != nil {
		t.Fatal(err)
	}
	want := GitRepository{
		Spec: GitRepositorySpec{
			URL: "https://example.com/repo", Interval: "1m",
			Reference:         &GitRepositoryRef{Branch: "main"},
			Verification:      &GitRepositoryVerification{Mode: "HEAD", SecretRef: common.LocalObjectReference{Name: "pgp"}},
			GitImplementation: GoGitImplementation,
		},
		Status: GitRepositoryStatus{
			Artifact:          &Artifact{Path: "p", URL: "u", Revision: "main@sha1:abc", Checksum: "0123ab", LastUpdateTime: updated},
			IncludedArtifacts: []*Artifact{{Path: "q", URL: "v", Checksum: "sha512:89ef"}},
		},
	}
	if diff := cmp.Diff(want, *out); diff != "" {
		t.Errorf("v1beta1 (-want +got):\n%s", diff)
	}
}

// TestConversion_RoundTripLosesOnlyDroppedFields converts fuzzed v1beta1
// objects to the hub and back: everything but the fields conversion.go drops
// must survive.
func TestConversion_RoundTripLosesOnlyDroppedFields(t *testing.T) {
	scheme := newScheme(t)
	f := randfill.New().NilChance(0.2).NumElements(0, 2).Funcs(
		commonfuzzer.Duration,
		func(tm *metav1.Time, c randfill.Continue) { *tm = metav1.Unix(c.Int63n(1<<32), 0) },
	)
	for i := 0; i < 200; i++ {
		in := &GitRepository{}
		f.Fill(in)

		hub := &source.GitRepository{}
		if err := scheme.Convert(in.DeepCopy(), hub, nil); err != nil {
			t.Fatalf("to hub: %v", err)
		}
		out := &GitRepository{}
		if err := scheme.Convert(hub, out, nil); err != nil {
			t.Fatalf("from hub: %v", err)
		}

		want := in.DeepCopy()
		want.TypeMeta = metav1.TypeMeta{} // conversion does not set type information
		want.Spec.GitImplementation = GoGitImplementation
		want.Spec.AccessFrom = nil
		want.Status.URL = ""
		for _, a := range append([]*Artifact{want.Status.Artifact}, want.Status.IncludedArtifacts...) {
			if a != nil {
				a.Checksum = strings.TrimPrefix(a.Checksum, sha256Prefix)
			}
		}
		if diff := cmp.Diff(want, out); diff != "" {
			t.Fatalf("round trip changed more than the dropped fields (-want +got):\n%s", diff)
		}
	}
}

package install

import (
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/validation"
)

// Validation runs on the internal type, so it is shared by every version;
// these cases check that v1beta1 GitRepositories reach it.
func TestValidation_V1beta1GitRepositoryThroughTheScheme(t *testing.T) {
	cases := []struct {
		name     string
		manifest string
		want     []string // field paths of the expected errors
	}{{
		name: "the tutorial's GitRepository is valid",
		manifest: `apiVersion: source.toolkit.fluxcd.io/v1beta1
kind: GitRepository
metadata: {name: task-tool, namespace: flux-system}
spec:
  interval: 30s
  ref: {branch: main}
  secretRef: {name: task-tool-ssh-key}
  url: ssh://git@github.com/user/task-tool-cluster-config
  gitImplementation: libgit2
`,
	}, {
		name: "invalid fields are rejected with their paths",
		manifest: `apiVersion: source.toolkit.fluxcd.io/v1beta1
kind: GitRepository
metadata: {name: task-tool, namespace: flux-system}
spec:
  interval: often
  timeout: bogus
  url: ftp://example.com/repo
  verify: {mode: everything, secretRef: {name: pgp}}
  include: [{repository: {name: ""}}]
`,
		want: []string{"spec.interval", "spec.timeout", "spec.url", "spec.verify.mode", "spec.include[0].repository.name"},
	}}
	_, codecs := newScheme()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj, _, err := codecs.UniversalDecoder().Decode([]byte(tc.manifest), nil, nil)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			repo, ok := obj.(*source.GitRepository)
			if !ok {
				t.Fatalf("decoded %T, want the internal GitRepository", obj)
			}
			if repo.Spec.Timeout == nil {
				t.Error("v1beta1 defaults were not applied")
			}
			errs := validation.ValidateGitRepository(repo)
			got := map[string]bool{}
			for _, e := range errs {
				got[e.Field] = true
			}
			for _, f := range tc.want {
				if !got[f] {
					t.Errorf("no error for %s; got %v", f, errs)
				}
			}
			if len(tc.want) == 0 && len(errs) > 0 {
				t.Errorf("unexpected errors: %v", errs)
			}
		})
	}
}

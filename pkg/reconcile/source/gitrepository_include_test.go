package source

import (
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

func TestWithin_RefusesPathsLeavingTheRoot(t *testing.T) {
	for _, tc := range []struct {
		rel string
		ok  bool
	}{
		{"policies", true}, {"a/b/../c", true}, {"", true}, {".", true},
		{"..", false}, {"../x", false}, {"a/../../x", false},
	} {
		_, err := within("/root/dir", tc.rel)
		if (err == nil) != tc.ok {
			t.Errorf("within(%q): err=%v, want ok=%v", tc.rel, err, tc.ok)
		}
	}
}

func TestSameArtifacts_ComparesDigestsInOrder(t *testing.T) {
	a := &common.Artifact{Digest: "sha256:a"}
	b := &common.Artifact{Digest: "sha256:b"}
	if !sameArtifacts(nil, nil) || !sameArtifacts([]*common.Artifact{a, b}, []*common.Artifact{{Digest: "sha256:a"}, {Digest: "sha256:b"}}) {
		t.Error("equal lists reported different")
	}
	if sameArtifacts([]*common.Artifact{a, b}, []*common.Artifact{b, a}) || sameArtifacts([]*common.Artifact{a}, nil) {
		t.Error("different lists reported equal")
	}
}

package image

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	imagev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

func TestUpdatePath_StaysInTheCheckout(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "apps", "web"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "file.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.EvalSymlinks(dir)
	for _, tc := range []struct {
		path, want, err string
	}{
		{path: "", want: root},
		{path: "./", want: root},
		{path: "./apps/web", want: filepath.Join(root, "apps", "web")},
		{path: "../../apps", want: filepath.Join(root, "apps")}, // clamped to the root
		{path: "/apps", want: filepath.Join(root, "apps")},
		{path: "escape", err: "leads out of the repository"},
		{path: "escape/x", err: "does not exist"},
		{path: "missing", err: "does not exist"},
		{path: "file.yaml", err: "is not a directory"},
	} {
		got, err := updatePath(dir, &imagev1.UpdateStrategy{Path: tc.path})
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("path %q: error %v, want %q", tc.path, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("path %q: %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
}

func TestProxyURL_NeverShowsThePassword(t *testing.T) {
	u, err := proxyURL(map[string][]byte{"address": []byte("http://proxy:3128"), "username": []byte("u"), "password": []byte("s3cr3t")})
	if err != nil || u.Host != "proxy:3128" || u.User.Username() != "u" {
		t.Fatalf("proxyURL = %v, %v", u, err)
	}
	for _, data := range []map[string][]byte{
		{},
		{"address": []byte("proxy:3128")},
		{"address": []byte("http://u:s3cr3t@proxy:3128")},
		{"address": []byte("socks5://proxy:1080"), "password": []byte("s3cr3t")},
	} {
		_, err := proxyURL(data)
		if err == nil {
			t.Errorf("%q: accepted", data["address"])
		} else if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%q: the error shows the password: %v", data["address"], err)
		}
	}
}

func TestLatestTagsAndRevision(t *testing.T) {
	tags := []string{"a", "c", "b", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	got := latestTags(tags)
	if want := "c b a 9 8 7 6 5 4 3"; strings.Join(got, " ") != want {
		t.Errorf("latestTags = %v, want %s", got, want)
	}
	if tagsRevision([]string{"b", "a"}) != tagsRevision([]string{"a", "b"}) {
		t.Error("the revision depends on the registry's order")
	}
	if tagsRevision([]string{"a"}) == tagsRevision([]string{"a", "b"}) {
		t.Error("a new tag does not change the revision")
	}
}

// TestPolicyAccess covers which ImageRepositories a policy may use.
func TestPolicyAccess(t *testing.T) {
	repo := func(access *common.AccessFrom) *imagev1.ImageRepository {
		return &imagev1.ImageRepository{ObjectMeta: metav1.ObjectMeta{Namespace: "shared", Name: "app"},
			Spec: imagev1.ImageRepositorySpec{Image: "r/app", AccessFrom: access}}
	}
	policy := &imagev1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "app"},
		Spec: imagev1.ImagePolicySpec{ImageRepositoryRef: common.NamespacedObjectReference{Name: "app", Namespace: "shared"}}}
	env := &Env{Namespace: func(_ context.Context, name string) (*corev1.Namespace, error) {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"tier": "apps"}}}, nil
	}}
	for _, tc := range []struct {
		name     string
		access   *common.AccessFrom
		lockdown bool
		allowed  bool
	}{
		{name: "no accessFrom", access: nil},
		{name: "matching labels", access: &common.AccessFrom{NamespaceSelectors: []common.NamespaceSelector{{MatchLabels: map[string]string{"tier": "other"}}, {MatchLabels: map[string]string{"tier": "apps"}}}}, allowed: true},
		{name: "empty selector admits all", access: &common.AccessFrom{NamespaceSelectors: []common.NamespaceSelector{{}}}, allowed: true},
		{name: "other labels", access: &common.AccessFrom{NamespaceSelectors: []common.NamespaceSelector{{MatchLabels: map[string]string{"tier": "other"}}}}},
		{name: "lockdown", access: &common.AccessFrom{NamespaceSelectors: []common.NamespaceSelector{{}}}, lockdown: true},
	} {
		e := *env
		e.Lockdown = tc.lockdown
		r := &ImagePolicyReconciler{Env: &e, GetRepository: func(string, string) (*imagev1.ImageRepository, error) { return repo(tc.access), nil }}
		_, err := r.repository(context.Background(), policy)
		if tc.allowed != (err == nil) {
			t.Errorf("%s: err = %v, allowed %v", tc.name, err, tc.allowed)
		}
		if err != nil {
			if kind, reason := loop.Classify(err, ""); kind != loop.Stalled || reason != common.AccessDeniedReason {
				t.Errorf("%s: %v, %s; want Stalled AccessDenied", tc.name, kind, reason)
			}
		}
	}
}

package source

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// includeRetry is how soon an include that has no artifact yet is retried.
const includeRetry = 5 * time.Second

// includedArtifacts returns the current artifacts of spec.include, in order.
// A missing repository or artifact is a Waiting error: the includer is
// retried shortly, keeping its last artifact.
func (r *GitRepositoryReconciler) includedArtifacts(obj *sourcev1.GitRepository) ([]*common.Artifact, error) {
	var out []*common.Artifact
	for _, inc := range obj.Spec.Include {
		name := inc.GitRepositoryRef.Name
		dep, err := r.GetGitRepository(obj.Namespace, name)
		if apierrors.IsNotFound(err) {
			return nil, loop.Waitf(source.IncludeUnavailableCondition, includeRetry, "included GitRepository '%s/%s' not found", obj.Namespace, name)
		}
		if err != nil {
			return nil, loop.Failf(source.IncludeUnavailableCondition, "included GitRepository '%s/%s': %w", obj.Namespace, name, err)
		}
		if dep.Status.Artifact == nil {
			return nil, loop.Waitf(source.IncludeUnavailableCondition, includeRetry, "included GitRepository '%s/%s' has no artifact yet", obj.Namespace, name)
		}
		out = append(out, dep.Status.Artifact.DeepCopy())
	}
	return out, nil
}

// sameArtifacts reports whether two include lists have the same digests.
func sameArtifacts(a, b []*common.Artifact) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] == nil || b[i] == nil || a[i].Digest != b[i].Digest {
			return false
		}
	}
	return true
}

// copyIncludes unpacks each included artifact and copies its fromPath into
// dir at toPath (default: the included repository's name), replacing what
// the checkout had there. Every write and removal in dir goes through an
// os.Root, so a symlink committed to the repository cannot redirect them
// outside the checkout.
func (r *GitRepositoryReconciler) copyIncludes(obj *sourcev1.GitRepository, dir string, arts []*common.Artifact) error {
	if len(obj.Spec.Include) == 0 {
		return nil
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return loop.Failf(source.DirCreationFailedReason, "failed to open the checkout: %w", err)
	}
	defer root.Close()
	for i, inc := range obj.Spec.Include {
		toPath := inc.ToPath
		if toPath == "" {
			toPath = inc.GitRepositoryRef.Name
		}
		to, err := cleanRel(toPath)
		if err != nil {
			return loop.Stallf(source.InvalidPathReason, "spec.include[%d].toPath: %v", i, err)
		}
		from, err := cleanRel(inc.FromPath)
		if err != nil {
			return loop.Stallf(source.InvalidPathReason, "spec.include[%d].fromPath: %v", i, err)
		}
		if err := r.includeOne(obj.Namespace, inc.GitRepositoryRef.Name, arts[i], from, root, to); err != nil {
			return loop.Failf(source.IncludeUnavailableCondition, "failed to include GitRepository '%s': %w", inc.GitRepositoryRef.Name, err)
		}
	}
	return nil
}

// includeOne unpacks one included artifact (our own archive: regular files
// and directories only) and copies from into root at to.
func (r *GitRepositoryReconciler) includeOne(namespace, name string, a *common.Artifact, from string, root *os.Root, to string) error {
	tmp, err := os.MkdirTemp(r.TmpDir, "include-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	f, _, err := r.Store.OpenFor(artifact.Key{Kind: source.GitRepositoryKind, Namespace: namespace, Name: name}, a.Path)
	if err != nil {
		return err
	}
	err = artifact.Extract(f, tmp, artifact.ExtractOptions{MaxSize: r.MaxFetchSize})
	f.Close()
	if err != nil {
		return err
	}
	if to != "." {
		if err := root.RemoveAll(to); err != nil {
			return err
		}
	}
	src := filepath.Join(tmp, from)
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(to, rel)
		switch {
		case d.IsDir():
			return root.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			return copyFileInRoot(p, root, target)
		}
		return nil
	})
}

func copyFileInRoot(src string, root *os.Root, target string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := root.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// cleanRel returns a clean relative path, refusing absolute paths and any
// ".." that would leave the root ("" means the root itself: ".").
func cleanRel(p string) (string, error) {
	if filepath.IsAbs(p) {
		return "", fmt.Errorf("path %q is absolute", p)
	}
	c := filepath.Clean("/" + p)
	if filepath.Clean(p) != strings.TrimPrefix(c, "/") && !(p == "" || p == ".") {
		return "", fmt.Errorf("path %q leaves the source root", p)
	}
	if c == "/" {
		return ".", nil
	}
	return strings.TrimPrefix(c, "/"), nil
}

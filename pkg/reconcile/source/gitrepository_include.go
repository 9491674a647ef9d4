package source

import (
	"context"
	"fmt"
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
// the checkout had there.
func (r *GitRepositoryReconciler) copyIncludes(ctx context.Context, obj *sourcev1.GitRepository, dir string, arts []*common.Artifact) error {
	for i, inc := range obj.Spec.Include {
		toPath := inc.ToPath
		if toPath == "" {
			toPath = inc.GitRepositoryRef.Name
		}
		dst, err := within(dir, toPath)
		if err != nil {
			return loop.Stallf(source.InvalidPathReason, "spec.include[%d].toPath: %v", i, err)
		}
		tmp, err := os.MkdirTemp(r.TmpDir, "include-")
		if err != nil {
			return loop.Failf(source.DirCreationFailedReason, "failed to create a working directory: %w", err)
		}
		err = r.unpack(arts[i].Path, tmp)
		if err == nil {
			var src string
			if src, err = within(tmp, inc.FromPath); err == nil {
				if err = os.RemoveAll(dst); err == nil {
					err = copyTree(src, dst)
				}
			}
		}
		os.RemoveAll(tmp)
		if err != nil {
			return loop.Failf(source.IncludeUnavailableCondition, "failed to include GitRepository '%s': %w", inc.GitRepositoryRef.Name, err)
		}
	}
	return nil
}

func (r *GitRepositoryReconciler) unpack(path, dst string) error {
	f, _, err := r.Store.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return artifact.Extract(f, dst, artifact.ExtractOptions{MaxSize: r.MaxFetchSize})
}

// within joins rel to root, refusing results outside root.
func within(root, rel string) (string, error) {
	p := filepath.Join(root, filepath.FromSlash(rel))
	if p != root && !strings.HasPrefix(p, root+string(filepath.Separator)) {
		return "", fmt.Errorf("path %q leaves the source root", rel)
	}
	return p, nil
}

// copyTree copies regular files and directories (archives hold nothing else).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, info.Mode().Perm())
		}
		return nil
	})
}

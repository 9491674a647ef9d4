// Package source reconciles the source kinds into artifacts.
package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// Env is what source reconcilers share.
type Env struct {
	// Secret reads a Secret from the cluster the objects live in.
	Secret func(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	// Store keeps the artifacts.
	Store *artifact.Store
	// Events records Kubernetes Events about the objects.
	Events record.EventRecorder
	// TmpDir is where checkouts are made before they are archived.
	TmpDir string
	// MaxFetchSize caps what one fetch may download or unpack.
	MaxFetchSize int64
	// Lockdown is the multi-tenant mode (--no-cross-namespace-refs): a
	// source may then use the server's own cloud identity (a cloud
	// provider without a Secret) only if AllowServerCloudIdentity.
	Lockdown                 bool
	AllowServerCloudIdentity bool
	// Guard refuses fetches from the networks the server must not reach on
	// a tenant's behalf (--source-deny-networks); nil refuses nothing.
	Guard *netguard.Guard
}

// GitRepositoryReconciler turns a GitRepository into an artifact of the
// checked-out revision.
type GitRepositoryReconciler struct {
	// Env is shared by the source controllers; Events is set once the
	// workers start.
	*Env
	// GetGitRepository reads another GitRepository (for spec.include).
	GetGitRepository func(namespace, name string) (*sourcev1.GitRepository, error)

	share gitShare
}

var _ loop.Reconciler[*sourcev1.GitRepository] = &GitRepositoryReconciler{}

// Reconcile implements loop.Reconciler.
func (r *GitRepositoryReconciler) Reconcile(ctx context.Context, obj *sourcev1.GitRepository) loop.Result {
	ctx = netguard.WithContext(ctx, r.Guard)
	return r.run(obj, sourceState{
		suspend: obj.Spec.Suspend, interval: obj.Spec.Interval,
		request: &obj.Status.ReconcileRequestStatus, conditions: &obj.Status.Conditions,
		observedGeneration: &obj.Status.ObservedGeneration, failureReason: source.GitOperationFailedReason,
	}, func() (string, error) { return r.reconcile(ctx, obj) })
}

// reconcile fetches and stores; it returns the Ready message on success.
// On failure the last artifact stays in status and in storage.
func (r *GitRepositoryReconciler) reconcile(ctx context.Context, obj *sourcev1.GitRepository) (string, error) {
	if err := unsupportedGit(obj); err != nil {
		return "", err
	}
	opts, err := r.GitOptions(ctx, obj)
	if err != nil {
		setFetchFailed(&obj.Status.Conditions, obj.Generation, err, source.GitOperationFailedReason)
		return "", err
	}
	if opts.Verify, err = r.verification(ctx, obj, opts.Ref); err != nil {
		return "", err
	}
	revision, err := r.share.resolve(ctx, opts)
	if err != nil {
		err = loop.Failf(gitReason(err), "failed to resolve %s: %w", refDescription(obj.Spec.Reference), err)
		setFetchFailed(&obj.Status.Conditions, obj.Generation, err, source.GitOperationFailedReason)
		return "", err
	}
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.FetchFailedCondition)

	included, err := r.includedArtifacts(obj)
	if err != nil {
		apimeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{Type: source.IncludeUnavailableCondition, Status: metav1.ConditionTrue,
			Reason: source.IncludeUnavailableCondition, Message: err.Error(), ObservedGeneration: obj.Generation})
		return "", err
	}
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.IncludeUnavailableCondition)

	if a := obj.Status.Artifact; a != nil && a.Revision == revision && obj.Status.ObservedGeneration == obj.Generation &&
		sameArtifacts(included, obj.Status.IncludedArtifacts) && verifiedArtifact(obj) && r.Store.Exists(a.Path) {
		return storedMessage(revision), nil
	}

	key := artifact.Key{Kind: source.GitRepositoryKind, Namespace: obj.Namespace, Name: obj.Name}
	var stored *artifact.Artifact
	var commitRevision, commitMessage string
	if len(included) == 0 && opts.Verify == nil {
		if stored, commitRevision, commitMessage, err = r.storeShared(ctx, obj, key, opts, revision); err != nil {
			return "", err
		}
	} else {
		// An object that verifies signatures checks the commit it
		// archives itself: a shared archive was not verified for it.
		st, commit, err := r.checkoutAndStore(ctx, obj, key, opts, included)
		if err != nil {
			return "", err
		}
		stored, commitRevision, commitMessage = st, commit.Revision, commit.Message
		if opts.Verify != nil {
			markVerified(obj, commit)
		}
	}
	previous := obj.Status.Artifact
	obj.Status.Artifact = storedArtifact("gitrepositories", obj.Namespace, obj.Name, commitRevision, stored)
	obj.Status.IncludedArtifacts = included
	obj.Status.ObservedInclude = obj.Spec.Include
	obj.Status.ObservedIgnore = obj.Spec.Ignore
	obj.Status.ObservedRecurseSubmodules = obj.Spec.RecurseSubmodules
	obj.Status.ObservedSparseCheckout = obj.Spec.SparseCheckout
	msg := storedMessage(commitRevision)
	markStored(&obj.Status.Conditions, obj.Generation, common.SucceededReason, msg)
	if previous == nil || previous.Digest != stored.Digest {
		r.Events.AnnotatedEventf(obj, map[string]string{source.GroupName + "/revision": commitRevision},
			corev1.EventTypeNormal, "NewArtifact", "stored artifact for commit '%s'", firstLine(commitMessage))
	}
	r.gc(obj, key, stored.Path)
	return msg, nil
}

// storeShared stores the artifact of revision (no includes): the same
// commit archived for another GitRepository is copied, and concurrent
// clones of it become one, once this object has shown it can read the
// repository itself. It returns the artifact with the commit's revision
// and message.
func (r *GitRepositoryReconciler) storeShared(ctx context.Context, obj *sourcev1.GitRepository, key artifact.Key,
	opts git.Options, revision string) (stored *artifact.Artifact, commitRevision, commitMessage string, err error) {
	if err := r.share.proveAccess(ctx, opts); err != nil {
		err = loop.Failf(gitReason(err), "failed to check access to %s: %w", refDescription(obj.Spec.Reference), err)
		setFetchFailed(&obj.Status.Conditions, obj.Generation, err, source.GitOperationFailedReason)
		return nil, "", "", err
	}
	akey := archiveKey(opts, revision, obj.Spec.Ignore)
	if a, ok := r.share.archived(akey); ok {
		if stored, err := r.copyArchive(ctx, key, a.path); err == nil {
			return stored, revision, a.message, nil
		}
		r.share.forget(akey)
	}
	var mine bool
	v, err, _ := r.share.clones.Do(akey, func() (interface{}, error) {
		mine = true
		st, commit, err := r.checkoutAndStore(ctx, obj, key, opts, nil)
		if err != nil {
			return nil, err
		}
		stored, commitRevision, commitMessage = st, commit.Revision, commit.Message
		if commit.Revision == revision {
			r.share.remember(akey, sharedArchive{path: st.Path, message: commit.Message})
		}
		return sharedArchive{path: st.Path, message: commit.Message}, nil
	})
	switch {
	case err != nil:
		return nil, "", "", err
	case !mine:
		a := v.(sharedArchive)
		if stored, err = r.copyArchive(ctx, key, a.path); err != nil {
			return nil, "", "", storageFailed(&obj.Status.Conditions, obj.Generation, "failed to store the artifact of revision %s: %w", revision, err)
		}
		return stored, revision, a.message, nil
	}
	return stored, commitRevision, commitMessage, nil
}

// checkoutAndStore clones the commit, copies the included artifacts in and
// stores the archive as obj's artifact.
func (r *GitRepositoryReconciler) checkoutAndStore(ctx context.Context, obj *sourcev1.GitRepository, key artifact.Key,
	opts git.Options, included []*common.Artifact) (*artifact.Artifact, *git.Commit, error) {
	dir, err := os.MkdirTemp(r.TmpDir, "git-")
	if err != nil {
		return nil, nil, loop.Failf(source.DirCreationFailedReason, "failed to create a working directory: %w", err)
	}
	defer os.RemoveAll(dir)
	commit, err := git.Checkout(ctx, dir, opts)
	if reason := signatureReason(err); reason != "" {
		// Nothing was checked out: no artifact of an unverified commit.
		return nil, nil, r.notVerified(obj, loop.Failf(reason, "%w", err))
	}
	if err != nil {
		err = loop.Failf(gitReason(err), "failed to checkout and determine revision: %w", err)
		setFetchFailed(&obj.Status.Conditions, obj.Generation, err, source.GitOperationFailedReason)
		return nil, nil, err
	}
	if err := r.copyIncludes(obj, dir, included); err != nil {
		return nil, nil, err
	}
	stored, err := r.Store.Put(ctx, key, dir, artifact.ArchiveOptions{Ignore: ignorePatterns(obj.Spec.Ignore), MaxSize: r.MaxFetchSize})
	if err != nil {
		return nil, nil, storageFailed(&obj.Status.Conditions, obj.Generation, "failed to store the artifact of revision %s: %w", commit.Revision, err)
	}
	return stored, commit, nil
}

// copyArchive stores the archive at path (another GitRepository's
// artifact of the same commit) as key's artifact.
func (r *GitRepositoryReconciler) copyArchive(ctx context.Context, key artifact.Key, path string) (*artifact.Artifact, error) {
	rc, _, err := r.Store.Open(path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return r.Store.PutArchive(ctx, key, rc)
}

// gitReason maps git errors to Flux's condition reasons.
func gitReason(err error) string {
	if errors.Is(err, git.ErrAuthentication) || errors.Is(err, git.ErrHostKey) {
		return source.AuthenticationFailedReason
	}
	return source.GitOperationFailedReason
}

func refDescription(ref *sourcev1.GitRepositoryRef) string {
	switch {
	case ref == nil:
		return "branch 'master'"
	case ref.Commit != "":
		return fmt.Sprintf("commit '%s'", ref.Commit)
	case ref.Name != "":
		return fmt.Sprintf("reference '%s'", ref.Name)
	case ref.SemVer != "":
		return fmt.Sprintf("semver range '%s'", ref.SemVer)
	case ref.Tag != "":
		return fmt.Sprintf("tag '%s'", ref.Tag)
	case ref.Branch != "":
		return fmt.Sprintf("branch '%s'", ref.Branch)
	}
	return "branch 'master'"
}

func ignorePatterns(spec *string) []string {
	if spec == nil {
		return nil
	}
	return strings.Split(*spec, "\n")
}

func storedMessage(revision string) string {
	return fmt.Sprintf("stored artifact for revision '%s'", revision)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

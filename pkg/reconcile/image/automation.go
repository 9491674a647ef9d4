package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	imageapi "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image"
	imagev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/v1"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/imageupdate"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// upToDateMessage is Ready's message when nothing needed committing.
const upToDateMessage = "repository up-to-date"

// ImageUpdateAutomationReconciler writes the latest images of the
// namespace's ImagePolicies into a GitRepository's manifests, commits and
// pushes.
type ImageUpdateAutomationReconciler struct {
	*Env
	// TmpDir holds the working trees.
	TmpDir string
	// GetGitRepository reads a GitRepository from the cache.
	GetGitRepository func(namespace, name string) (*sourcev1.GitRepository, error)
	// GitOptions are the clone options of a GitRepository: its URL,
	// credentials, timeout and the server's Guard.
	GitOptions func(ctx context.Context, repo *sourcev1.GitRepository) (git.Options, error)
	// ListPolicies lists a namespace's ImagePolicies from the cache.
	ListPolicies func(namespace string, selector labels.Selector) ([]*imagev1.ImagePolicy, error)
	// RequestReconcile asks the GitRepository to fetch at once after a push.
	RequestReconcile func(ctx context.Context, namespace, name string) error
}

var _ loop.Reconciler[*imagev1.ImageUpdateAutomation] = &ImageUpdateAutomationReconciler{}

// Reconcile implements loop.Reconciler.
func (r *ImageUpdateAutomationReconciler) Reconcile(ctx context.Context, obj *imagev1.ImageUpdateAutomation) loop.Result {
	if obj.Spec.Suspend {
		return loop.Result{}
	}
	loop.RecordReconcileRequest(obj, &obj.Status.ReconcileRequestStatus)
	msg, err := r.reconcile(ctx, obj)
	r.finish(obj, outcome{
		conditions: &obj.Status.Conditions, observedGeneration: &obj.Status.ObservedGeneration,
		failureReason: imageapi.GitOperationFailedReason,
	}, msg, err)
	return loop.Result{Err: err, RequeueAfter: intervalOf(&obj.Spec.Interval, 10*time.Minute)}
}

// run is one automation run's settings.
type run struct {
	repo     *sourcev1.GitRepository
	git      git.Options
	branch   string // the local branch commits are made on ("" = the checkout's)
	push     imageupdate.PushOptions
	pushTo   string // what the push targets, for messages
	policies map[string]imageupdate.Latest
	observed imagev1.ObservedPolicies
}

func (r *ImageUpdateAutomationReconciler) reconcile(ctx context.Context, obj *imagev1.ImageUpdateAutomation) (string, error) {
	rn, err := r.prepare(ctx, obj)
	if err != nil {
		return "", err
	}
	now := metav1.NewTime(r.now())
	obj.Status.LastAutomationRunTime = &now

	dir, err := os.MkdirTemp(r.TmpDir, "image-update-")
	if err != nil {
		return "", loop.Failf(imageapi.SourceManagerFailedReason, "failed to create a working directory: %v", err)
	}
	defer os.RemoveAll(dir)
	checkout, err := git.CheckoutForPush(ctx, dir, rn.git, rn.branch)
	if err != nil {
		return "", loop.Failf(imageapi.GitOperationFailedReason, "failed to check out %s: %v", git.StripUserinfo(rn.git.URL), err)
	}
	target, err := updatePath(dir, obj.Spec.Update)
	if err != nil {
		return "", loop.Stallf(imageapi.InvalidUpdateStrategyReason, "%v", err)
	}
	result, err := imageupdate.Apply(target, rn.policies)
	if err != nil {
		return "", loop.Failf(imageapi.UpdateFailedReason, "failed to update the manifests: %v", err)
	}
	for file, why := range result.Skipped {
		r.Events.Eventf(obj, corev1.EventTypeWarning, imageapi.UpdateFailedReason, "skipped %s: %s", file, why)
	}
	obj.Status.ObservedPolicies = rn.observed
	if result.Empty() {
		obj.Status.ObservedSourceRevision = checkout.Revision
		return upToDateMessage, nil
	}

	gs := obj.Spec.GitSpec
	message, err := imageupdate.RenderMessage(gs.Commit.MessageTemplate, imageupdate.TemplateData{
		AutomationObject: imageupdate.NamespacedName{Namespace: obj.Namespace, Name: obj.Name},
		Changed:          result,
		Values:           gs.Commit.MessageTemplateValues,
	})
	if err != nil {
		if strings.Contains(gs.Commit.MessageTemplate, ".Updated") {
			return "", loop.Stallf(imageapi.RemovedTemplateFieldReason,
				"spec.git.commit.messageTemplate uses .Updated, which Flux removed from the template data in image.toolkit.fluxcd.io/v1beta2; "+
					"use .Changed instead, e.g. {{ range .Changed.Changes }}{{ println .NewValue }}{{ end }}: %v", err)
		}
		return "", loop.Stallf(imageapi.InvalidUpdateStrategyReason, "spec.git.commit.messageTemplate: %v", err)
	}
	commitOpts := imageupdate.CommitOptions{
		AuthorName: gs.Commit.Author.Name, AuthorEmail: gs.Commit.Author.Email,
		Message: message, When: now.Time,
	}
	if key := gs.Commit.SigningKey; key != nil {
		s, err := r.getSecret(ctx, obj.Namespace, key.SecretRef.Name, "spec.git.commit.signingKey.secretRef", imageapi.InvalidSourceConfigReason)
		if err != nil {
			return "", err
		}
		armored, ok := s.Data[imageupdate.SigningKeySecretKey]
		if !ok {
			return "", loop.Stallf(imageapi.InvalidSourceConfigReason, "secret '%s/%s' (spec.git.commit.signingKey) has no '%s' key",
				obj.Namespace, key.SecretRef.Name, imageupdate.SigningKeySecretKey)
		}
		commitOpts.SigningKey, commitOpts.Passphrase = armored, string(s.Data[imageupdate.PassphraseSecretKey])
	}
	hash, changed, err := imageupdate.Commit(dir, commitOpts)
	if err != nil {
		if errors.Is(err, imageupdate.ErrInvalidSigningKey) {
			return "", loop.Stallf(imageapi.InvalidSourceConfigReason, "%v", err)
		}
		return "", loop.Failf(imageapi.GitOperationFailedReason, "failed to commit: %v", err)
	}
	if !changed {
		obj.Status.ObservedSourceRevision = checkout.Revision
		return upToDateMessage, nil
	}
	if err := imageupdate.Push(ctx, dir, rn.push); err != nil {
		// Nothing is lost: the policies are unchanged, so the next run
		// (after backoff) checks out again and makes the same change.
		return "", loop.Failf(imageapi.GitOperationFailedReason, "failed to push to %s: %v", rn.pushTo, err)
	}
	pushed := metav1.NewTime(r.now())
	obj.Status.LastPushCommit = hash
	obj.Status.LastPushTime = &pushed
	if branch := pushedBranch(rn, checkout); branch != "" {
		obj.Status.ObservedSourceRevision = branch + "@sha1:" + hash
	}
	short := hash
	if len(short) > 7 {
		short = short[:7]
	}
	r.Events.Eventf(obj, corev1.EventTypeNormal, common.SucceededReason, "pushed commit '%s' to %s\n%s", short, rn.pushTo, message)
	// The GitRepository would see the commit at its next interval; ask for
	// it now so the change reaches the cluster in seconds.
	if rn.repo != nil {
		if err := r.RequestReconcile(ctx, rn.repo.Namespace, rn.repo.Name); err != nil {
			r.Events.Eventf(obj, corev1.EventTypeWarning, imageapi.GitOperationFailedReason,
				"pushed, but failed to ask GitRepository '%s/%s' to reconcile: %v", rn.repo.Namespace, rn.repo.Name, err)
		}
	}
	return fmt.Sprintf("pushed commit '%s' to %s", short, rn.pushTo), nil
}

// prepare resolves the source, the git settings and the policies; its
// errors are about the spec or the objects it names.
func (r *ImageUpdateAutomationReconciler) prepare(ctx context.Context, obj *imagev1.ImageUpdateAutomation) (*run, error) {
	gs := obj.Spec.GitSpec
	if gs == nil {
		return nil, loop.Stallf(imageapi.InvalidSourceConfigReason, "spec.git is required for a GitRepository source")
	}
	if k := gs.Commit.SigningKey; k != nil && k.Type == imagev1.SigningKeyTypeSSH {
		return nil, loop.Stallf(imageapi.InvalidSourceConfigReason,
			"spec.git.commit.signingKey.type 'ssh' is not supported by this server; use an OpenPGP key (type 'gpg')")
	}
	ref := obj.Spec.SourceRef
	ns := ref.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	if ns != obj.Namespace && r.Lockdown {
		return nil, loop.Stallf(common.AccessDeniedReason,
			"cannot use GitRepository '%s/%s': cross-namespace references are disabled on this server", ns, ref.Name)
	}
	repo, err := r.GetGitRepository(ns, ref.Name)
	if apierrors.IsNotFound(err) {
		return nil, loop.Waitf(imageapi.SourceManagerFailedReason, dependencyRetry, "referenced GitRepository '%s/%s' not found", ns, ref.Name)
	}
	if err != nil {
		return nil, loop.Failf(imageapi.SourceManagerFailedReason, "failed to get GitRepository '%s/%s': %v", ns, ref.Name, err)
	}
	opts, err := r.GitOptions(ctx, repo)
	if err != nil {
		return nil, err
	}
	// Flux clones the automation's own commits shallowly; it never needs
	// submodules or a sparse tree to rewrite manifests.
	opts.RecurseSubmodules, opts.SparseCheckout, opts.Verify = false, nil, nil
	if co := gs.Checkout; co != nil {
		c := co.Reference
		opts.Ref = git.Ref{Branch: c.Branch, Tag: c.Tag, SemVer: c.SemVer, Name: c.Name, Commit: c.Commit}
	}
	rn := &run{repo: repo, git: opts}
	checkoutBranch := opts.Ref.CheckoutBranch()
	rn.push = imageupdate.PushOptions{Git: opts}
	if p := gs.Push; p != nil {
		rn.push.Options = p.Options
		rn.push.Refspec = p.Refspec
		if p.Branch != "" {
			rn.branch = p.Branch
			rn.push.Branch = p.Branch
			// As Flux (GitForcePushBranch): a push branch of its own is
			// the checkout plus the automation's commit, overwritten.
			rn.push.ForceBranch = p.Branch != checkoutBranch
		} else if p.Refspec != "" {
			rn.push.RefspecOnly = true
		}
	}
	if rn.branch == "" && checkoutBranch == "" {
		return nil, loop.Stallf(imageapi.InvalidSourceConfigReason,
			"spec.git.push.branch is required when the checkout is not a branch (%s)", opts.Ref)
	}
	switch {
	case rn.push.RefspecOnly:
		rn.pushTo = "refspec '" + rn.push.Refspec + "'"
	case rn.push.Refspec != "":
		rn.pushTo = "branch '" + firstNonEmpty(rn.branch, checkoutBranch) + "' and refspec '" + rn.push.Refspec + "'"
	default:
		rn.pushTo = "branch '" + firstNonEmpty(rn.branch, checkoutBranch) + "'"
	}

	selector := labels.Everything()
	if obj.Spec.PolicySelector != nil {
		if selector, err = metav1.LabelSelectorAsSelector(obj.Spec.PolicySelector); err != nil {
			return nil, loop.Stallf(imageapi.InvalidPolicySelectorReason, "spec.policySelector: %v", err)
		}
	}
	policies, err := r.ListPolicies(obj.Namespace, selector)
	if err != nil {
		return nil, loop.Failf(imageapi.SourceManagerFailedReason, "failed to list ImagePolicies: %v", err)
	}
	rn.policies = map[string]imageupdate.Latest{}
	rn.observed = imagev1.ObservedPolicies{}
	for _, p := range policies {
		l := p.Status.LatestRef
		if l == nil {
			continue
		}
		rn.policies[p.Namespace+":"+p.Name] = imageupdate.Latest{Image: l.Name, Tag: l.Tag, Digest: l.Digest}
		rn.observed[p.Name] = *l
	}
	return rn, nil
}

// updatePath is the directory spec.update.path names inside the checkout
// in dir. Paths are taken relative to the root, and neither ".." nor a
// symbolic link may lead out of it.
func updatePath(dir string, u *imagev1.UpdateStrategy) (string, error) {
	p := ""
	if u != nil {
		p = u.Path
	}
	clean := filepath.Clean("/" + filepath.FromSlash(p))
	target := filepath.Join(dir, clean)
	resolved, err := filepath.EvalSymlinks(target)
	if err != nil {
		return "", fmt.Errorf("spec.update.path '%s' does not exist in the repository", p)
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	if resolved != root && !strings.HasPrefix(resolved, root+string(filepath.Separator)) {
		return "", fmt.Errorf("spec.update.path '%s' leads out of the repository", p)
	}
	info, err := os.Stat(resolved)
	if err != nil || !info.IsDir() {
		return "", fmt.Errorf("spec.update.path '%s' is not a directory of the repository", p)
	}
	return resolved, nil
}

// pushedBranch is the branch the commit now heads, if a branch was pushed.
func pushedBranch(rn *run, checkout *git.Commit) string {
	if rn.push.RefspecOnly {
		return ""
	}
	if rn.branch != "" {
		return rn.branch
	}
	return rn.git.Ref.CheckoutBranch()
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

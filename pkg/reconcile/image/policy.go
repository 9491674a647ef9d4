package image

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	imageapi "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image"
	imagev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/v1"
	img "github.com/gitops-apiserver/gitops-apiserver/pkg/image"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// dependencyRetry is how soon a policy looks again for a repository that
// does not exist or was not scanned yet (a scan also wakes it at once).
const dependencyRetry = 30 * time.Second

// ImagePolicyReconciler picks the latest tag of an ImagePolicy's repository.
type ImagePolicyReconciler struct {
	*Env
	// GetRepository reads an ImageRepository from the cache.
	GetRepository func(namespace, name string) (*imagev1.ImageRepository, error)
}

var _ loop.Reconciler[*imagev1.ImagePolicy] = &ImagePolicyReconciler{}

// Reconcile implements loop.Reconciler.
func (r *ImagePolicyReconciler) Reconcile(ctx context.Context, obj *imagev1.ImagePolicy) loop.Result {
	if obj.Spec.Suspend {
		return loop.Result{}
	}
	loop.RecordReconcileRequest(obj, &obj.Status.ReconcileRequestStatus)
	msg, err := r.reconcile(ctx, obj)
	r.finish(obj, outcome{
		conditions: &obj.Status.Conditions, observedGeneration: &obj.Status.ObservedGeneration,
		failureReason: common.ReconciliationFailedReason,
	}, msg, err)
	// Policies follow their repository's scans; only digest reflection
	// "Always" has an interval of its own.
	var next time.Duration
	if obj.Spec.DigestReflectionPolicy == imagev1.ReflectAlways {
		next = intervalOf(obj.Spec.Interval, 10*time.Minute)
	}
	return loop.Result{Err: err, RequeueAfter: next}
}

func (r *ImagePolicyReconciler) reconcile(ctx context.Context, obj *imagev1.ImagePolicy) (string, error) {
	repo, err := r.repository(ctx, obj)
	if err != nil {
		return "", err
	}
	if repo.Status.LastScanResult == nil || !r.Tags.Has(tagKey(repo.Namespace, repo.Name)) {
		return "", loop.Waitf(common.DependencyNotReadyReason, dependencyRetry,
			"referenced ImageRepository '%s/%s' has not been scanned yet", repo.Namespace, repo.Name)
	}
	tags, err := r.Tags.Get(tagKey(repo.Namespace, repo.Name))
	if err != nil {
		return "", loop.Failf(imageapi.ReadOperationFailedReason, "failed to read the tags of ImageRepository '%s/%s': %v", repo.Namespace, repo.Name, err)
	}
	policy, filter, err := policyOf(&obj.Spec)
	if err != nil {
		return "", loop.Stallf(common.ReconciliationFailedReason, "%v", err)
	}
	tag, err := img.SelectLatest(tags, filter, policy)
	if err != nil {
		if errors.Is(err, img.ErrNoMatch) {
			return "", loop.Failf(common.ReconciliationFailedReason, "cannot determine the latest tag of '%s': %v", repo.Spec.Image, err)
		}
		return "", loop.Stallf(common.ReconciliationFailedReason, "cannot determine the latest tag of '%s': %v", repo.Spec.Image, err)
	}

	previous := obj.Status.LatestRef
	latest := &imagev1.ImageRef{Name: repo.Spec.Image, Tag: tag}
	switch obj.Spec.DigestReflectionPolicy {
	case imagev1.ReflectAlways:
		if latest.Digest, err = r.digest(ctx, repo, tag); err != nil {
			return "", err
		}
	case imagev1.ReflectIfNotPresent:
		if previous != nil && previous.Name == latest.Name && previous.Tag == tag && previous.Digest != "" {
			latest.Digest = previous.Digest
		} else if latest.Digest, err = r.digest(ctx, repo, tag); err != nil {
			return "", err
		}
	}
	if previous == nil || *previous != *latest {
		if previous != nil {
			prev := *previous
			obj.Status.ObservedPreviousRef = &prev
			r.Events.Eventf(obj, corev1.EventTypeNormal, common.SucceededReason,
				"Latest image tag for '%s' updated from %s to %s", latest.Name, refString(previous), refString(latest))
		} else {
			r.Events.Eventf(obj, corev1.EventTypeNormal, common.SucceededReason,
				"Latest image tag for '%s' resolved to %s", latest.Name, refString(latest))
		}
		obj.Status.LatestRef = latest
	}
	return fmt.Sprintf("Latest image tag for '%s' resolved to %s", latest.Name, refString(latest)), nil
}

// refString is the tag, with the digest when there is one.
func refString(r *imagev1.ImageRef) string {
	if r.Digest != "" {
		return r.Tag + "@" + r.Digest
	}
	return r.Tag
}

// repository reads the referenced ImageRepository and checks the policy may
// use it: the same namespace, or one its spec.accessFrom admits (never in
// lockdown).
func (r *ImagePolicyReconciler) repository(ctx context.Context, obj *imagev1.ImagePolicy) (*imagev1.ImageRepository, error) {
	ref := obj.Spec.ImageRepositoryRef
	ns := ref.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	if ns != obj.Namespace && r.Lockdown {
		return nil, loop.Stallf(common.AccessDeniedReason,
			"cannot use ImageRepository '%s/%s': cross-namespace references are disabled on this server", ns, ref.Name)
	}
	repo, err := r.GetRepository(ns, ref.Name)
	if apierrors.IsNotFound(err) {
		return nil, loop.Waitf(common.DependencyNotReadyReason, dependencyRetry,
			"referenced ImageRepository '%s/%s' not found", ns, ref.Name)
	}
	if err != nil {
		return nil, loop.Failf(common.DependencyNotReadyReason, "failed to get ImageRepository '%s/%s': %v", ns, ref.Name, err)
	}
	if ns != obj.Namespace {
		if err := r.checkAccess(ctx, repo, obj.Namespace); err != nil {
			return nil, err
		}
	}
	return repo, nil
}

// checkAccess admits a policy of namespace to repo by repo's
// spec.accessFrom, as Flux: no accessFrom admits no other namespace.
func (r *ImagePolicyReconciler) checkAccess(ctx context.Context, repo *imagev1.ImageRepository, namespace string) error {
	denied := loop.Stallf(common.AccessDeniedReason,
		"ImageRepository '%s/%s' does not admit policies of namespace '%s' (spec.accessFrom)", repo.Namespace, repo.Name, namespace)
	if repo.Spec.AccessFrom == nil {
		return denied
	}
	ns, err := r.Namespace(ctx, namespace)
	if err != nil {
		return loop.Failf(common.AccessDeniedReason, "failed to read namespace '%s' for spec.accessFrom: %v", namespace, err)
	}
	for _, sel := range repo.Spec.AccessFrom.NamespaceSelectors {
		if labels.SelectorFromSet(sel.MatchLabels).Matches(labels.Set(ns.Labels)) {
			return nil
		}
	}
	return denied
}

// digest resolves a tag's manifest digest with the repository's options.
func (r *ImagePolicyReconciler) digest(ctx context.Context, repo *imagev1.ImageRepository, tag string) (string, error) {
	opts, err := r.scanOptions(ctx, repo)
	if err != nil {
		return "", err
	}
	d, err := img.ResolveDigest(ctx, opts, tag)
	if err != nil {
		return "", scanError(err)
	}
	return d, nil
}

// policyOf builds the engine's policy and tag filter from the spec.
func policyOf(spec *imagev1.ImagePolicySpec) (img.Policy, *img.TagFilter, error) {
	var filter *img.TagFilter
	if f := spec.FilterTags; f != nil {
		var err error
		if filter, err = img.NewTagFilter(f.Pattern, f.Extract); err != nil {
			return nil, nil, fmt.Errorf("spec.filterTags: %v", err)
		}
	}
	p := &spec.Policy
	switch {
	case p.SemVer != nil:
		s, err := img.NewSemVer(p.SemVer.Range)
		if err != nil {
			return nil, nil, fmt.Errorf("spec.policy.semver.range: %v", err)
		}
		return s, filter, nil
	case p.Alphabetical != nil:
		a, err := img.NewAlphabetical(p.Alphabetical.Order)
		if err != nil {
			return nil, nil, fmt.Errorf("spec.policy.alphabetical.order: %v", err)
		}
		return a, filter, nil
	case p.Numerical != nil:
		n, err := img.NewNumerical(p.Numerical.Order)
		if err != nil {
			return nil, nil, fmt.Errorf("spec.policy.numerical.order: %v", err)
		}
		return n, filter, nil
	}
	return nil, nil, errors.New("spec.policy: one of semver, alphabetical or numerical is required")
}

package reconcile

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	imagev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/v1"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	img "github.com/gitops-apiserver/gitops-apiserver/pkg/image"
	imagerec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/image"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// The image kinds' fields. The tests named are the workers' own
// (pkg/reconcile/image, against an in-process registry and Git server),
// the end-to-end tests of test/e2e/image_test.go, and (marked "engine")
// tests of the engine a field is handed to unchanged.

var imageRepositoryFields = map[string]field{
	"spec.image":               used("TestImageAutomation_TagToDeployment"),
	"spec.interval":            used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
	"spec.timeout":             used("TestImageRepository_TimeoutBoundsTheScan"),
	"spec.secretRef.name":      used("TestImageAutomation_TagToDeployment"),
	"spec.proxySecretRef.name": used("TestImageRepository_ProxySecretRefRoutesThroughTheProxy"),
	"spec.serviceAccountName":  used("TestImageRepository_ServiceAccountImagePullSecretsAuthenticate"),
	"spec.certSecretRef.name":  used("TestImageRepository_CertSecretRefTrustsTheRegistry"),
	"spec.suspend":             used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
	// Read by the ImagePolicy worker, which admits policies of other
	// namespaces by it.
	"spec.accessFrom.namespaceSelectors[].matchLabels": used("TestPolicyAccess"),
	"spec.exclusionList": used("TestImageRepository_ExclusionListFiltersAndRescans"),
	// generic works; the cloud identities stall.
	"spec.provider": refused("spec.provider", "aws"),
	"spec.insecure": used("TestImageRepository_InsecureAllowsPlainHTTP"),
}

var imagePolicyFields = map[string]field{
	"spec.imageRepositoryRef.name":      used("TestImageAutomation_TagToDeployment"),
	"spec.imageRepositoryRef.namespace": used("TestPolicyAccess"),
	"spec.policy.semver.range":          used(imagePoliciesTest),
	"spec.policy.alphabetical.order":    used(imagePoliciesTest),
	"spec.policy.numerical.order":       used(imagePoliciesTest),
	"spec.filterTags.pattern":           used(imagePoliciesTest),
	"spec.filterTags.extract":           used(imagePoliciesTest),
	"spec.digestReflectionPolicy":       used("TestImagePolicy_DigestReflectionPolicy"),
	// Only digest reflection Always has an interval of its own.
	"spec.interval": used("TestImagePolicy_DigestReflectionPolicy"),
	"spec.suspend":  used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
}

var imageUpdateAutomationFields = map[string]field{
	"spec.sourceRef.apiVersion": informational(apiVersionOfReference),
	// Validation admits GitRepository only, the kind the worker reads.
	"spec.sourceRef.kind":                       used("TestValidateImageUpdateAutomation"),
	"spec.sourceRef.name":                       used("TestImageAutomation_TagToDeployment"),
	"spec.sourceRef.namespace":                  used("TestImageUpdateAutomation_SourceRefNamespace"),
	"spec.git.checkout.ref.branch":              used(checkoutRefTest),
	"spec.git.checkout.ref.tag":                 used(checkoutRefTest),
	"spec.git.checkout.ref.semver":              used(checkoutRefTest),
	"spec.git.checkout.ref.name":                used(checkoutRefTest),
	"spec.git.checkout.ref.commit":              used(checkoutRefTest),
	"spec.git.commit.author.name":               used(messageTemplateTest),
	"spec.git.commit.author.email":              used(messageTemplateTest),
	"spec.git.commit.signingKey.secretRef.name": used("TestImageUpdateAutomation_SigningKeySignsTheCommit"),
	// gpg (the default) signs, as the test above shows; ssh stalls.
	"spec.git.commit.signingKey.type":       refused("spec.git.commit.signingKey.type", "ssh"),
	"spec.git.commit.messageTemplate":       used(messageTemplateTest),
	"spec.git.commit.messageTemplateValues": used(messageTemplateTest),
	"spec.git.push.branch":                  used(pushTest),
	"spec.git.push.refspec":                 used(pushTest),
	"spec.git.push.options":                 used(pushTest),
	"spec.interval":                         used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
	"spec.policySelector":                   used("TestImageUpdateAutomation_PolicySelectorPicksThePolicies"),
	// Validation admits Setters only, the strategy the worker runs.
	"spec.update.strategy": used("TestValidateImageUpdateAutomation"),
	"spec.update.path":     used("TestUpdatePath_StaysInTheCheckout"),
	"spec.suspend":         used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
}

// Tests of pkg/reconcile/image that several fields name.
const (
	imagePoliciesTest   = "TestImagePolicy_PoliciesAndFilterPickFromTheScannedTags"
	checkoutRefTest     = "TestImageUpdateAutomation_CheckoutRefKinds"
	messageTemplateTest = "TestImageUpdateAutomation_MessageTemplateValues"
	pushTest            = "TestImageUpdateAutomation_PushBranchRefspecAndOptions"
)

// imageEnv is the image workers' Env: no Secrets, ServiceAccounts or
// Namespaces, and a tag store of the test's.
func imageEnv(t *testing.T) *imagerec.Env {
	t.Helper()
	tags, err := img.NewTagStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &imagerec.Env{
		Secret: func(_ context.Context, _, name string) (*corev1.Secret, error) { return nil, notFound("secrets", name) },
		ServiceAccount: func(_ context.Context, _, name string) (*corev1.ServiceAccount, error) {
			return nil, notFound("serviceaccounts", name)
		},
		Namespace: func(_ context.Context, name string) (*corev1.Namespace, error) {
			return nil, notFound("namespaces", name)
		},
		Tags: tags, Events: record.NewFakeRecorder(100),
	}
}

// imageRepositoryHarness scans an unreachable registry: a failure, not a
// stall.
var imageRepositoryHarness = harness{
	object: func() any {
		return &imagev1.ImageRepository{ObjectMeta: objectMeta(),
			Spec: imagev1.ImageRepositorySpec{Image: unreachable + "/app", Interval: "1m", Insecure: true}}
	},
	reconcile: func(t *testing.T, obj any) (loop.Result, []metav1.Condition) {
		o := obj.(*imagev1.ImageRepository)
		return reconcileOnce(t, &imagerec.ImageRepositoryReconciler{Env: imageEnv(t)}, o), o.Status.Conditions
	},
}

// imagePolicyHarness has no ImageRepository to read: it waits. It reflects
// digests Always, the one policy with an interval of its own.
var imagePolicyHarness = harness{
	object: func() any {
		return &imagev1.ImagePolicy{ObjectMeta: objectMeta(), Spec: imagev1.ImagePolicySpec{
			ImageRepositoryRef:     common.NamespacedObjectReference{Name: "app"},
			Policy:                 imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0"}},
			DigestReflectionPolicy: imagev1.ReflectAlways,
		}}
	},
	reconcile: func(t *testing.T, obj any) (loop.Result, []metav1.Condition) {
		o := obj.(*imagev1.ImagePolicy)
		r := &imagerec.ImagePolicyReconciler{Env: imageEnv(t),
			GetRepository: func(_, name string) (*imagev1.ImageRepository, error) {
				return nil, notFound("imagerepositories", name)
			}}
		return reconcileOnce(t, r, o), o.Status.Conditions
	},
}

// imageUpdateAutomationHarness checks out an unreachable GitRepository: a
// failure, not a stall.
var imageUpdateAutomationHarness = harness{
	object: func() any {
		return &imagev1.ImageUpdateAutomation{ObjectMeta: objectMeta(), Spec: imagev1.ImageUpdateAutomationSpec{
			SourceRef: imagev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "app"},
			GitSpec:   &imagev1.GitSpec{Commit: imagev1.CommitSpec{Author: imagev1.CommitUser{Email: "fluxbot@example.com"}}},
			Interval:  "1m",
		}}
	},
	reconcile: func(t *testing.T, obj any) (loop.Result, []metav1.Condition) {
		o := obj.(*imagev1.ImageUpdateAutomation)
		source := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "app"},
			Spec: sourcev1.GitRepositorySpec{URL: "http://" + unreachable + "/app.git", Interval: "1m",
				Reference: &sourcev1.GitRepositoryRef{Branch: "main"}}}
		r := &imagerec.ImageUpdateAutomationReconciler{
			Env: imageEnv(t), TmpDir: t.TempDir(),
			GetGitRepository: func(namespace, name string) (*sourcev1.GitRepository, error) {
				if namespace != source.Namespace || name != source.Name {
					return nil, notFound("gitrepositories", name)
				}
				return source, nil
			},
			GitOptions: func(ctx context.Context, repo *sourcev1.GitRepository) (git.Options, error) {
				return sourceEnv(t).GitOptions(ctx, repo)
			},
			ListPolicies:     func(string, labels.Selector) ([]*imagev1.ImagePolicy, error) { return nil, nil },
			RequestReconcile: func(context.Context, string, string) error { return nil },
		}
		return reconcileOnce(t, r, o), o.Status.Conditions
	},
}

package reconcile

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/record"

	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	sourcerec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/source"
)

// The source kinds' fields. A test named for a field exercises it through
// the worker, or (marked "engine") exercises the engine option the worker
// passes the field to unchanged.

var gitRepositoryFields = map[string]field{
	"spec.url":                       used("TestGitRepository_CommitRefGetsNoSharedArchiveWithoutAccess"),
	"spec.secretRef.name":            used("TestGitRepository_CommitRefGetsNoSharedArchiveWithoutAccess"),
	"spec.provider":                  refused("spec.provider", "azure"),
	"spec.serviceAccountName":        refused("spec.serviceAccountName", nil),
	"spec.interval":                  used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
	"spec.timeout":                   used("TestOptions_TimeoutBoundsStalledServers"), // engine: pkg/git
	"spec.ref.branch":                used("TestGitRepository_CommitRefGetsNoSharedArchiveWithoutAccess"),
	"spec.ref.tag":                   used("TestGitRepository_VerifyTag_StoresSignedTags"),
	"spec.ref.semver":                used("TestGitRepository_SemverPicksTheHighestMatchingTag"),
	"spec.ref.name":                  used("TestCheckout_HTTPBasicAuth_ResolvesEveryRefKind"), // engine: pkg/git
	"spec.ref.commit":                used("TestGitRepository_CommitRefGetsNoSharedArchiveWithoutAccess"),
	"spec.verify.mode":               used("TestGitRepository_VerifyTag_StoresSignedTags"),
	"spec.verify.secretRef.name":     used("TestGitRepository_VerifyHEAD_KeepsTheLastVerifiedArtifactWhenACommitFails"),
	"spec.proxySecretRef.name":       refused("spec.proxySecretRef", nil),
	"spec.ignore":                    used("TestGitRepository_IncludeIgnoreAndSparseCheckout"),
	"spec.suspend":                   used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
	"spec.recurseSubmodules":         used("TestCheckout_RecurseSubmodules"), // engine: pkg/git
	"spec.include[].repository.name": used("TestGitRepository_IncludeIgnoreAndSparseCheckout"),
	"spec.include[].fromPath":        used("TestInclude_SymlinkInCheckoutCannotRedirectWrites"),
	"spec.include[].toPath":          used("TestInclude_SymlinkInCheckoutCannotRedirectWrites"),
	"spec.sparseCheckout":            used("TestGitRepository_IncludeIgnoreAndSparseCheckout"),
}

var ociRepositoryFields = map[string]field{
	"spec.url":                                used("TestOCIRepository_StoresTheLayerAndSkipsAnUnchangedDigest"),
	"spec.ref.digest":                         used("TestResolve_PicksDigestSemverTagOrLatest"), // engine: pkg/oci
	"spec.ref.semver":                         used("TestOCIRepository_StoresTheLayerAndSkipsAnUnchangedDigest"),
	"spec.ref.semverFilter":                   used("TestResolve_PicksDigestSemverTagOrLatest"), // engine: pkg/oci
	"spec.ref.tag":                            used("TestOCIRepository_FailuresKeepTheLastArtifact"),
	"spec.layerSelector.mediaType":            used("TestOCIRepository_CopyStoresTheBlobAsItIs"),
	"spec.layerSelector.operation":            used("TestOCIRepository_CopyStoresTheBlobAsItIs"),
	"spec.provider":                           refused("spec.provider", "aws"),
	"spec.secretRef.name":                     used("TestOCIRepository_FailuresKeepTheLastArtifact"),
	"spec.verify.provider":                    refused("notation", "notation"), // cosign (the default) with keys works
	"spec.verify.secretRef.name":              used("TestOCIRepository_VerifyCosign_StoresOnlyVerifiedDigests"),
	"spec.verify.matchOIDCIdentity[].issuer":  used("TestOCIRepository_VerifyKeyless_StoresOnlyMatchingIdentities"),
	"spec.verify.matchOIDCIdentity[].subject": used("TestOCIRepository_VerifyKeyless_StoresOnlyMatchingIdentities"),
	"spec.verify.trustedRootSecretRef.name":   used("TestOCIRepository_VerifyKeyless_StoresOnlyMatchingIdentities"),
	"spec.serviceAccountName":                 refused("spec.serviceAccountName", nil),
	"spec.certSecretRef.name":                 used("TestTLS_CustomCA"), // engine: pkg/oci
	"spec.proxySecretRef.name":                refused("spec.proxySecretRef", nil),
	"spec.interval":                           used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
	"spec.timeout":                            used("TestResolve_HonoursTheTimeout"), // engine: pkg/oci
	"spec.ignore":                             used("TestArchive_IgnoreRules"),       // engine: pkg/artifact
	"spec.insecure":                           used("TestOCIRepository_PullsSemverStoresServesAndFollows"),
	"spec.suspend":                            used("TestOCIRepository_SuspendedDoesNothing"),
}

var bucketFields = map[string]field{
	// generic and aws are implemented; gcp and azure stall.
	"spec.provider":               refused("spec.provider", "gcp"),
	"spec.bucketName":             used("TestBucketReconciler_StoresSkipsUnchangedAndKeepsTheLastArtifact"),
	"spec.endpoint":               used("TestBucketReconciler_StoresSkipsUnchangedAndKeepsTheLastArtifact"),
	"spec.sts.provider":           refused("spec.sts", "aws"),
	"spec.sts.endpoint":           refused("spec.sts", nil),
	"spec.sts.secretRef.name":     refused("spec.sts", nil),
	"spec.sts.certSecretRef.name": refused("spec.sts", nil),
	"spec.insecure":               used("TestBucketReconciler_StoresSkipsUnchangedAndKeepsTheLastArtifact"),
	"spec.region":                 used("TestBucketReconciler_RegionSignsEveryRequest"),
	"spec.prefix":                 used("TestBucket_FetchStoreServeAndKeepOnFailure"),
	"spec.secretRef.name":         used("TestBucketReconciler_StoresSkipsUnchangedAndKeepsTheLastArtifact"),
	"spec.serviceAccountName":     refused("spec.serviceAccountName", nil),
	"spec.certSecretRef.name":     used("TestBucket_TLSWithCAFromSecret"), // engine: pkg/bucket
	"spec.proxySecretRef.name":    used("TestBucketReconciler_ProxySecretRefRoutesThroughTheProxy"),
	"spec.interval":               used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
	"spec.timeout":                used("TestBucketReconciler_TimeoutBoundsTheListing"),
	"spec.ignore":                 used("TestBucket_IndexAndDownloadFollowPrefixAndIgnoreRules"), // engine: pkg/bucket
	"spec.suspend":                used("TestBucketReconciler_SuspendedDoesNothing"),
}

var helmRepositoryFields = map[string]field{
	"spec.url":                used("TestHelmReconcilers_IndexThenChart"),
	"spec.secretRef.name":     used("TestHelmReconcilers_IndexThenChart"),
	"spec.certSecretRef.name": used("TestHelmRepository_CertSecretRefTrustsTheRepository"),
	"spec.passCredentials":    used("TestRepository_CredentialsOnlyToTheRepositoryHost"), // engine: pkg/helm
	"spec.interval":           used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
	"spec.timeout":            used("TestHelmRepository_TimeoutBoundsTheIndexFetch"),
	"spec.suspend":            used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
	"spec.type":               used("TestHelmChart_FromOCIHelmRepository"),
	// insecure and provider only matter for type oci, as in Flux: the
	// HelmChart worker reads them (registryHost), and stalls naming
	// spec.provider unless it is generic.
	"spec.insecure": used("TestHelmChart_FromOCIHelmRepository"),
	"spec.provider": used("TestHelmChart_FromOCIHelmRepository"),
	"spec.accessFrom.namespaceSelectors[].matchLabels": informational(informationalFields["HelmRepository spec.accessFrom.namespaceSelectors[].matchLabels"]),
}

var helmChartFields = map[string]field{
	"spec.chart":                              used("TestHelmReconcilers_IndexThenChart"),
	"spec.version":                            used("TestHelmReconcilers_IndexThenChart"),
	"spec.sourceRef.apiVersion":               informational(apiVersionOfReference),
	"spec.sourceRef.kind":                     used("TestHelmChart_FromGitRepositoryBuildsDependenciesWithHelmRepositoryCredentials"),
	"spec.sourceRef.name":                     used("TestHelmReconcilers_IndexThenChart"),
	"spec.interval":                           used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
	"spec.reconcileStrategy":                  used("TestHelm_ChartPackagedFromGitRepository"),
	"spec.valuesFiles":                        used("TestHelmChart_FromOCIHelmRepository"),
	"spec.ignoreMissingValuesFiles":           used("TestMergeValuesFiles_LaterWinsAndMissingFiles"), // engine: pkg/helm
	"spec.suspend":                            used("TestSpecFields_RequeueAtTheIntervalAndHonourSuspend"),
	"spec.verify.provider":                    refused("notation", "notation"), // cosign (the default) with keys works
	"spec.verify.secretRef.name":              used("TestHelmChart_VerifyCosign_FromOCIHelmRepository"),
	"spec.verify.matchOIDCIdentity[].issuer":  refused("needs a Sigstore trusted root", nil), // a HelmChart cannot name one
	"spec.verify.matchOIDCIdentity[].subject": refused("needs a Sigstore trusted root", nil),
}

// unreachable is a loopback address nothing listens on: a fetch from it
// fails at once, and is not a stall.
const unreachable = "127.0.0.1:1"

// sourceEnv is what the source workers share: a temporary store and no
// Secrets.
func sourceEnv(t *testing.T) *sourcerec.Env {
	t.Helper()
	store, err := artifact.NewStore(t.TempDir(), artifact.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &sourcerec.Env{
		Secret: func(_ context.Context, _, name string) (*corev1.Secret, error) {
			return nil, notFound("secrets", name)
		},
		Store: store, Events: record.NewFakeRecorder(100), TmpDir: t.TempDir(),
	}
}

func notFound(resource, name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Resource: resource}, name)
}

func objectMeta() metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: "apps", Name: "app", Generation: 1}
}

// reconcileOnce reconciles obj with r under a short deadline.
func reconcileOnce[T loop.Object](t *testing.T, r loop.Reconciler[T], obj T) loop.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return r.Reconcile(ctx, obj)
}

var gitRepositoryHarness = harness{
	object: func() any {
		return &sourcev1.GitRepository{ObjectMeta: objectMeta(),
			Spec: sourcev1.GitRepositorySpec{URL: "http://" + unreachable + "/app.git", Interval: "1m"}}
	},
	reconcile: func(t *testing.T, obj any) (loop.Result, []metav1.Condition) {
		o := obj.(*sourcev1.GitRepository)
		r := &sourcerec.GitRepositoryReconciler{Env: sourceEnv(t),
			GetGitRepository: func(_, name string) (*sourcev1.GitRepository, error) { return nil, notFound("gitrepositories", name) }}
		return reconcileOnce(t, r, o), o.Status.Conditions
	},
}

var ociRepositoryHarness = harness{
	object: func() any {
		return &sourcev1.OCIRepository{ObjectMeta: objectMeta(),
			Spec: sourcev1.OCIRepositorySpec{URL: "oci://" + unreachable + "/app", Interval: "1m"}}
	},
	reconcile: func(t *testing.T, obj any) (loop.Result, []metav1.Condition) {
		o := obj.(*sourcev1.OCIRepository)
		return reconcileOnce(t, &sourcerec.OCIRepositoryReconciler{Env: sourceEnv(t)}, o), o.Status.Conditions
	},
}

var bucketHarness = harness{
	object: func() any {
		return &sourcev1.Bucket{ObjectMeta: objectMeta(),
			Spec: sourcev1.BucketSpec{BucketName: "app", Endpoint: unreachable, Insecure: true, Interval: "1m"}}
	},
	reconcile: func(t *testing.T, obj any) (loop.Result, []metav1.Condition) {
		o := obj.(*sourcev1.Bucket)
		return reconcileOnce(t, &sourcerec.BucketReconciler{Env: sourceEnv(t)}, o), o.Status.Conditions
	},
}

var helmRepositoryHarness = harness{
	object: func() any {
		return &sourcev1.HelmRepository{ObjectMeta: objectMeta(),
			Spec: sourcev1.HelmRepositorySpec{URL: "http://" + unreachable + "/charts", Interval: "1m"}}
	},
	reconcile: func(t *testing.T, obj any) (loop.Result, []metav1.Condition) {
		o := obj.(*sourcev1.HelmRepository)
		return reconcileOnce(t, &sourcerec.HelmRepositoryReconciler{Env: sourceEnv(t)}, o), o.Status.Conditions
	},
}

var helmChartHarness = harness{
	object: func() any {
		return &sourcev1.HelmChart{ObjectMeta: objectMeta(), Spec: sourcev1.HelmChartSpec{Chart: "app", Interval: "1m",
			SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: "HelmRepository", Name: "charts"}}}
	},
	reconcile: func(t *testing.T, obj any) (loop.Result, []metav1.Condition) {
		o := obj.(*sourcev1.HelmChart)
		r := &sourcerec.HelmChartReconciler{Env: sourceEnv(t),
			GetHelmRepository: func(_, name string) (*sourcev1.HelmRepository, error) { return nil, notFound("helmrepositories", name) }}
		return reconcileOnce(t, r, o), o.Status.Conditions
	},
}

// TestSpecFields_RequeueAtTheIntervalAndHonourSuspend covers spec.interval
// and spec.suspend of every reconciled kind but the Kustomization: a run
// (failing or waiting here, nothing is reachable; the Receiver's succeeds)
// is requeued at spec.interval, and a suspended object is left alone. The
// harness ImagePolicy reflects digests Always, the one policy with an
// interval of its own (TestImagePolicy_DigestReflectionPolicy covers the
// others).
func TestSpecFields_RequeueAtTheIntervalAndHonourSuspend(t *testing.T) {
	for _, k := range reconciledKinds {
		if k.name == "Kustomization" {
			continue // TestKustomization_IntervalCorrectsDrift, TestReconcile_SuspendedChangesNoStatus
		}
		t.Run(k.name, func(t *testing.T) {
			obj := k.harness.object()
			setField(t, obj, "spec.interval", "7m")
			if res, conds := k.harness.reconcile(t, obj); res.RequeueAfter != 7*time.Minute || len(conds) == 0 {
				t.Errorf("requeued after %s with conditions %+v; want 7m, the interval", res.RequeueAfter, conds)
			}
			obj = k.harness.object()
			setField(t, obj, "spec.suspend", true)
			if res, conds := k.harness.reconcile(t, obj); res != (loop.Result{}) || len(conds) != 0 {
				t.Errorf("suspended: result %+v, conditions %+v; want neither", res, conds)
			}
		})
	}
}

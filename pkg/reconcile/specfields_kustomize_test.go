package reconcile

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	kustomizerec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/kustomize"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/target"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// The Kustomization's fields. A test named for a field exercises it through
// the worker, or (marked "engine") exercises the engine option the worker
// passes the field to unchanged.
var kustomizationFields = map[string]field{
	"spec.commonMetadata.annotations": used("TestBuild_CommonMetadata"), // engine: pkg/kustomize/build
	"spec.commonMetadata.labels":      used("TestBuild_CommonMetadata"), // engine: pkg/kustomize/build
	"spec.dependsOn[].name":           used("TestKustomization_DependsOnAndSubstitution"),
	"spec.dependsOn[].namespace":      used("TestReconcile_StopsBeforeTheBuild"),
	"spec.dependsOn[].kind":           used("TestKustomization_DependsOnAHelmRelease"),
	"spec.dependsOn[].readyExpr":      used("TestKustomization_CELReadyExprGatesDependent"),
	// sops, the only provider validation admits, decrypts with the keys of
	// the Secret; a KMS service account stalls naming it (its proof needs
	// provider sops too, which a one-field refusal here cannot set).
	"spec.decryption.provider":                 used("TestBuild_Decryption"),
	"spec.decryption.secretRef.name":           used("TestBuild_Decryption"),
	"spec.decryption.serviceAccountName":       used("TestReconcile_StopsBeforeTheBuild"),
	"spec.deletionPolicy":                      used("TestReconcile_FinalizeWithoutPruning"),
	"spec.interval":                            used("TestKustomization_IntervalCorrectsDrift"),
	"spec.retryInterval":                       used("TestReconcile_StopsBeforeTheBuild"),
	"spec.kubeConfig.secretRef.name":           used("TestTargetsConfig_ReadsKubeConfigFromSecret"), // engine: pkg/reconcile/target
	"spec.kubeConfig.secretRef.key":            used("TestTargetsConfig_ReadsKubeConfigFromSecret"), // engine: pkg/reconcile/target
	"spec.kubeConfig.configMapRef.name":        refused("spec.kubeConfig.configMapRef", nil),
	"spec.path":                                used("TestKustomization_QuickStart"),
	"spec.postBuild.substitute":                used("TestKustomization_DependsOnAndSubstitution"),
	"spec.postBuild.substituteFrom[].kind":     used("TestKustomization_DependsOnAndSubstitution"),
	"spec.postBuild.substituteFrom[].name":     used("TestKustomization_DependsOnAndSubstitution"),
	"spec.postBuild.substituteFrom[].optional": used("TestKustomization_DependsOnAndSubstitution"),
	"spec.postBuild.substituteStrategy":        used("TestPostBuild_SubstituteStrategyAlwaysSubstitutesWithoutVariables"),
	"spec.prune":                               used("TestKustomization_QuickStart"),
	"spec.healthChecks[].apiVersion":           used("TestHealthCheckRef_IsTheInventoryIDOfTheObject"),
	"spec.healthChecks[].kind":                 used("TestHealthCheckRef_IsTheInventoryIDOfTheObject"),
	"spec.healthChecks[].name":                 used("TestHealthCheckRef_IsTheInventoryIDOfTheObject"),
	"spec.healthChecks[].namespace":            used("TestHealthCheckRef_IsTheInventoryIDOfTheObject"),
	"spec.namePrefix":                          used("TestBuild_ExistingKustomization"),         // engine: pkg/kustomize/build
	"spec.nameSuffix":                          used("TestBuild_ExistingKustomization"),         // engine: pkg/kustomize/build
	"spec.patches[].patch":                     used("TestBuild_Patches"),                       // engine: pkg/kustomize/build
	"spec.patches[].target.group":              used("TestBuild_Patches"),                       // engine: pkg/kustomize/build
	"spec.patches[].target.version":            used("TestBuild_Patches"),                       // engine: pkg/kustomize/build
	"spec.patches[].target.kind":               used("TestBuild_Patches"),                       // engine: pkg/kustomize/build
	"spec.patches[].target.namespace":          used("TestBuild_PatchTargetSelectsByNamespace"), // engine: pkg/kustomize/build
	"spec.patches[].target.name":               used("TestBuild_Patches"),                       // engine: pkg/kustomize/build
	"spec.patches[].target.annotationSelector": used("TestBuild_Patches"),                       // engine: pkg/kustomize/build
	"spec.patches[].target.labelSelector":      used("TestBuild_Patches"),                       // engine: pkg/kustomize/build
	"spec.images[].name":                       used("TestBuild_ExistingKustomization"),         // engine: pkg/kustomize/build
	"spec.images[].newName":                    used("TestBuild_ExistingKustomization"),         // engine: pkg/kustomize/build
	"spec.images[].newTag":                     used("TestBuild_ExistingKustomization"),         // engine: pkg/kustomize/build
	"spec.images[].digest":                     used("TestBuild_ExistingKustomization"),         // engine: pkg/kustomize/build
	"spec.serviceAccountName":                  used("TestKustomization_ImpersonatedTenantWithoutRights"),
	"spec.sourceRef.apiVersion":                informational(apiVersionOfReference),
	"spec.sourceRef.kind":                      used("TestReconcile_StopsBeforeTheBuild"),
	"spec.sourceRef.name":                      used("TestReconcile_StopsBeforeTheBuild"),
	"spec.sourceRef.namespace":                 used("TestReconcile_StopsBeforeTheBuild"),
	"spec.suspend":                             used("TestReconcile_SuspendedChangesNoStatus"),
	"spec.targetNamespace":                     used("TestKustomization_QuickStart"),
	"spec.timeout":                             used("TestKustomization_HealthWaitNeverHoldsTheQueue"),
	"spec.force":                               used("TestSSA_ImmutableChangeNeedsForce"), // engine: pkg/ssa
	"spec.wait":                                used("TestKustomization_WaitsForRolloutOnTheLocalCluster"),
	"spec.components":                          used("TestBuild_Components"), // engine: pkg/kustomize/build
	"spec.ignoreMissingComponents":             used("TestBuild_Components"), // engine: pkg/kustomize/build
	"spec.healthCheckExprs[].apiVersion":       used("TestKustomization_CELHealthCheckExprs"),
	"spec.healthCheckExprs[].kind":             used("TestKustomization_CELHealthCheckExprs"),
	"spec.healthCheckExprs[].inProgress":       used("TestKustomization_CELHealthCheckExprs"),
	"spec.healthCheckExprs[].failed":           used("TestKustomization_CELHealthCheckExprs"),
	"spec.healthCheckExprs[].current":          used("TestKustomization_CELHealthCheckExprs"),
	"spec.buildMetadata":                       used("TestBuild_ExistingKustomization"), // engine: pkg/kustomize/build
	"spec.ignore[].paths":                      used("TestKustomization_IgnoredPathsAreNotApplied"),
	"spec.ignore[].target.group":               used(ignoreTargetTest), // engine: pkg/reconcile/ignore
	"spec.ignore[].target.version":             used(ignoreTargetTest), // engine: pkg/reconcile/ignore
	"spec.ignore[].target.kind":                used("TestKustomization_IgnoredPathsAreNotApplied"),
	"spec.ignore[].target.namespace":           used(ignoreTargetTest), // engine: pkg/reconcile/ignore
	"spec.ignore[].target.name":                used("TestKustomization_IgnoredPathsAreNotApplied"),
	"spec.ignore[].target.annotationSelector":  used(ignoreTargetTest),                          // engine: pkg/reconcile/ignore
	"spec.ignore[].target.labelSelector":       used("TestApply_RemovesPathsOfTargetedObjects"), // engine: pkg/reconcile/ignore
}

// Reasons and tests the tables share.
const (
	apiVersionOfReference = "Flux only records it: the kind alone selects the source (or chart source) kind"
	// ignoreTargetTest covers each member of an ignore rule's target; the
	// worker hands spec.ignore[].target to pkg/reconcile/ignore unchanged
	// (pkg/reconcile/kustomize/build.go ignoreRules).
	ignoreTargetTest = "TestApply_TargetSelectsByEveryMember"
)

// kustomizationSource is the artifact the minimal Kustomization builds: one
// ConfigMap, stored for GitRepository apps/repo.
func kustomizationSource(t *testing.T) (*artifact.Store, *kustomizerec.Source) {
	t.Helper()
	store, err := artifact.NewStore(t.TempDir(), artifact.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata: {a: b}\n"
	if err := os.WriteFile(filepath.Join(dir, "cm.yaml"), []byte(cm), 0o644); err != nil {
		t.Fatal(err)
	}
	stored, err := store.Put(context.Background(), artifact.Key{Kind: "GitRepository", Namespace: "apps", Name: "repo"}, dir, artifact.ArchiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	size := stored.Size
	return store, &kustomizerec.Source{Ready: metav1.ConditionTrue, Artifact: &common.Artifact{
		Path: stored.Path, Revision: "main@sha1:0123456789abcdef0123456789abcdef01234567", Digest: stored.Digest, Size: &size,
	}}
}

// kustomizationHarness runs the worker up to the apply: the source exists
// and builds, the target cluster is unreachable (a failure, not a stall).
var kustomizationHarness = harness{
	object: func() any {
		return &kustomizev1.Kustomization{
			ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "app", Generation: 1, Finalizers: []string{kustomizerec.Finalizer}},
			Spec: kustomizev1.KustomizationSpec{Interval: "1m", Timeout: ptr(common.Duration("10s")),
				SourceRef: common.NamespacedObjectKindReference{Kind: "GitRepository", Name: "repo"}},
		}
	},
	reconcile: func(t *testing.T, obj any) (loop.Result, []metav1.Condition) {
		o := obj.(*kustomizev1.Kustomization)
		store, src := kustomizationSource(t)
		host := &rest.Config{Host: "https://" + unreachable, Timeout: 5 * time.Second}
		r := &kustomizerec.Reconciler{
			GetSource: func(kind, namespace, name string) (*kustomizerec.Source, error) {
				if kind != "GitRepository" || namespace != "apps" || name != "repo" {
					return nil, notFound(kind, name)
				}
				return src, nil
			},
			GetKustomization: func(_, name string) (*kustomizev1.Kustomization, error) { return nil, notFound("kustomizations", name) },
			UpdateFinalizers: func(_ context.Context, o *kustomizev1.Kustomization) (*kustomizev1.Kustomization, error) {
				return o, nil
			},
			Store: store,
			Targets: &target.Targets{HostConfig: host, Owner: ssa.Owner{Field: kustomizerec.FieldManager, Group: kustomize.GroupName},
				UserAgent: "specfields-test"},
			Events: record.NewFakeRecorder(100),
		}
		return reconcileOnce(t, r, o), o.Status.Conditions
	},
}

func ptr[T any](v T) *T { return &v }

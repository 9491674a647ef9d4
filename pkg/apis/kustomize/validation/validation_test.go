package validation

import (
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
)

func validKustomization() *kustomize.Kustomization {
	return &kustomize.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: "flux-system", ResourceVersion: "1"},
		Spec: kustomize.KustomizationSpec{
			Interval: "10m",
			Path:     "./apps",
			Prune:    true,
			SourceRef: common.NamespacedObjectKindReference{
				Kind: "GitRepository",
				Name: "flux-system",
			},
		},
	}
}

func dur(d common.Duration) *common.Duration { return &d }

// errorFields returns the sorted "type field" pairs of errs, which the
// tables compare against.
func errorFields(errs field.ErrorList) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	sort.Strings(out)
	return out
}

func TestValidateKustomization(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*kustomize.Kustomization)
		want   []string
	}{
		{name: "valid minimal", mutate: func(*kustomize.Kustomization) {}},
		{
			name: "valid full",
			mutate: func(k *kustomize.Kustomization) {
				k.Spec.RetryInterval = dur("1m")
				k.Spec.Timeout = dur("3m")
				k.Spec.DeletionPolicy = "WaitForTermination"
				k.Spec.TargetNamespace = "apps"
				k.Spec.NamePrefix = "team-"
				k.Spec.ServiceAccountName = "reconciler"
				k.Spec.DependsOn = []kustomize.DependencyReference{{Name: "infra", Namespace: "flux-system", ReadyExpr: "dep.status.ready"}}
				k.Spec.Decryption = &kustomize.Decryption{Provider: "sops", SecretRef: &common.LocalObjectReference{Name: "sops-age"}}
				k.Spec.KubeConfig = &common.KubeConfigReference{SecretRef: &common.SecretKeyReference{Name: "kubeconfig"}}
				k.Spec.PostBuild = &kustomize.PostBuild{
					Substitute:         map[string]string{"cluster": "prod"},
					SubstituteFrom:     []kustomize.SubstituteReference{{Kind: "ConfigMap", Name: "vars", Optional: true}},
					SubstituteStrategy: "Always",
				}
				k.Spec.HealthChecks = []common.NamespacedObjectKindReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", Namespace: "apps"}}
				k.Spec.HealthCheckExprs = []common.CustomHealthCheck{{APIVersion: "example.com/v1", Kind: "Widget", Current: "status.ready"}}
				k.Spec.Patches = []common.Patch{{Patch: "- op: add\n  path: /x\n  value: 1", Target: &common.Selector{Kind: "Deployment", LabelSelector: "app in (web)"}}}
				k.Spec.Images = []common.Image{{Name: "nginx", NewTag: "1.27"}}
				k.Spec.BuildMetadata = []string{"originAnnotations"}
				k.Spec.Ignore = []kustomize.IgnoreRule{{Paths: []string{"/spec/replicas"}}}
			},
		},
		{
			name:   "sourceRef kind and name required",
			mutate: func(k *kustomize.Kustomization) { k.Spec.SourceRef = common.NamespacedObjectKindReference{} },
			want:   []string{"FieldValueRequired spec.sourceRef.kind", "FieldValueRequired spec.sourceRef.name"},
		},
		{
			name:   "sourceRef kind not a Kustomization source",
			mutate: func(k *kustomize.Kustomization) { k.Spec.SourceRef.Kind = "HelmRepository" },
			want:   []string{"FieldValueNotSupported spec.sourceRef.kind"},
		},
		{
			name:   "ExternalArtifact source accepted",
			mutate: func(k *kustomize.Kustomization) { k.Spec.SourceRef.Kind = "ExternalArtifact" },
		},
		{
			name: "interval must be positive, durations not negative",
			mutate: func(k *kustomize.Kustomization) {
				k.Spec.Interval = "0s"
				k.Spec.RetryInterval = dur("-1s")
				k.Spec.Timeout = dur("-1s")
			},
			want: []string{"FieldValueInvalid spec.interval", "FieldValueInvalid spec.retryInterval", "FieldValueInvalid spec.timeout"},
		},
		{
			name:   "deletionPolicy enum",
			mutate: func(k *kustomize.Kustomization) { k.Spec.DeletionPolicy = "Keep" },
			want:   []string{"FieldValueNotSupported spec.deletionPolicy"},
		},
		{
			name:   "targetNamespace longer than 63",
			mutate: func(k *kustomize.Kustomization) { k.Spec.TargetNamespace = strings.Repeat("a", 64) },
			want:   []string{"FieldValueInvalid spec.targetNamespace"},
		},
		{
			name: "name prefix and suffix at most 200",
			mutate: func(k *kustomize.Kustomization) {
				k.Spec.NamePrefix = strings.Repeat("p", 201)
				k.Spec.NameSuffix = strings.Repeat("s", 201)
			},
			want: []string{"FieldValueTooLong spec.namePrefix", "FieldValueTooLong spec.nameSuffix"},
		},
		{
			name:   "dependsOn name required",
			mutate: func(k *kustomize.Kustomization) { k.Spec.DependsOn = []kustomize.DependencyReference{{Namespace: "x"}} },
			want:   []string{"FieldValueRequired spec.dependsOn[0].name"},
		},
		{
			name: "dependsOn kind is Kustomization or HelmRelease",
			mutate: func(k *kustomize.Kustomization) {
				k.Spec.DependsOn = []kustomize.DependencyReference{{Name: "a", Kind: "HelmRelease"}, {Name: "b", Kind: "Kustomization"}, {Name: "c", Kind: "Bucket"}}
			},
			want: []string{"FieldValueNotSupported spec.dependsOn[2].kind"},
		},
		{
			name:   "decryption provider sops only",
			mutate: func(k *kustomize.Kustomization) { k.Spec.Decryption = &kustomize.Decryption{Provider: "vault"} },
			want:   []string{"FieldValueNotSupported spec.decryption.provider"},
		},
		{
			name:   "decryption provider required",
			mutate: func(k *kustomize.Kustomization) { k.Spec.Decryption = &kustomize.Decryption{} },
			want:   []string{"FieldValueRequired spec.decryption.provider"},
		},
		{
			name: "kubeConfig needs exactly one reference",
			mutate: func(k *kustomize.Kustomization) {
				k.Spec.KubeConfig = &common.KubeConfigReference{
					SecretRef:    &common.SecretKeyReference{Name: "a"},
					ConfigMapRef: &common.LocalObjectReference{Name: "b"},
				}
			},
			want: []string{"FieldValueForbidden spec.kubeConfig.configMapRef"},
		},
		{
			name: "substituteFrom kind, name and strategy",
			mutate: func(k *kustomize.Kustomization) {
				k.Spec.PostBuild = &kustomize.PostBuild{
					SubstituteFrom:     []kustomize.SubstituteReference{{Kind: "Pod"}},
					SubstituteStrategy: "Sometimes",
				}
			},
			want: []string{
				"FieldValueNotSupported spec.postBuild.substituteFrom[0].kind",
				"FieldValueNotSupported spec.postBuild.substituteStrategy",
				"FieldValueRequired spec.postBuild.substituteFrom[0].name",
			},
		},
		{
			name: "healthChecks kind and name required",
			mutate: func(k *kustomize.Kustomization) {
				k.Spec.HealthChecks = []common.NamespacedObjectKindReference{{APIVersion: "apps/v1"}}
			},
			want: []string{"FieldValueRequired spec.healthChecks[0].kind", "FieldValueRequired spec.healthChecks[0].name"},
		},
		{
			name: "healthCheckExprs apiVersion and current required",
			mutate: func(k *kustomize.Kustomization) {
				k.Spec.HealthCheckExprs = []common.CustomHealthCheck{{Kind: "Widget"}}
			},
			want: []string{"FieldValueRequired spec.healthCheckExprs[0].apiVersion", "FieldValueRequired spec.healthCheckExprs[0].current"},
		},
		{
			name: "patch document required and target selectors must parse",
			mutate: func(k *kustomize.Kustomization) {
				k.Spec.Patches = []common.Patch{{Target: &common.Selector{LabelSelector: "app in (", AnnotationSelector: "!!"}}}
			},
			want: []string{
				"FieldValueInvalid spec.patches[0].target.annotationSelector",
				"FieldValueInvalid spec.patches[0].target.labelSelector",
				"FieldValueRequired spec.patches[0].patch",
			},
		},
		{
			name:   "image name required",
			mutate: func(k *kustomize.Kustomization) { k.Spec.Images = []common.Image{{NewTag: "v2"}} },
			want:   []string{"FieldValueRequired spec.images[0].name"},
		},
		{
			name:   "buildMetadata options",
			mutate: func(k *kustomize.Kustomization) { k.Spec.BuildMetadata = []string{"managedByLabel"} },
			want:   []string{"FieldValueNotSupported spec.buildMetadata[0]"},
		},
		{
			name:   "ignore rule needs paths",
			mutate: func(k *kustomize.Kustomization) { k.Spec.Ignore = []kustomize.IgnoreRule{{}} },
			want:   []string{"FieldValueRequired spec.ignore[0].paths"},
		},
		{
			name:   "metadata name required",
			mutate: func(k *kustomize.Kustomization) { k.Name = "" },
			want:   []string{"FieldValueRequired metadata.name"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := validKustomization()
			tc.mutate(obj)
			got := errorFields(ValidateKustomization(obj))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestValidateKustomizationUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*kustomize.Kustomization)
		want   []string
	}{
		{name: "spec change allowed", mutate: func(k *kustomize.Kustomization) { k.Spec.Path = "./other"; k.Spec.Suspend = true }},
		{
			name:   "new spec is validated",
			mutate: func(k *kustomize.Kustomization) { k.Spec.SourceRef.Kind = "HelmChart" },
			want:   []string{"FieldValueNotSupported spec.sourceRef.kind"},
		},
		{
			name:   "name is immutable",
			mutate: func(k *kustomize.Kustomization) { k.Name = "renamed" },
			want:   []string{"FieldValueInvalid metadata.name"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oldObj := validKustomization()
			newObj := validKustomization()
			tc.mutate(newObj)
			got := errorFields(ValidateKustomizationUpdate(newObj, oldObj))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

package validation

import (
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image"
)

var testMeta = metav1.ObjectMeta{Name: "podinfo", Namespace: "apps", ResourceVersion: "1"}

func dur(d common.Duration) *common.Duration { return &d }

func validImageRepository() *image.ImageRepository {
	return &image.ImageRepository{
		ObjectMeta: testMeta,
		Spec: image.ImageRepositorySpec{
			Image:         "ghcr.io/stefanprodan/podinfo",
			Interval:      "5m",
			Provider:      "generic",
			ExclusionList: []string{`^.*\.sig$`},
			SecretRef:     &common.LocalObjectReference{Name: "regcred"},
		},
	}
}

func validImagePolicy() *image.ImagePolicy {
	return &image.ImagePolicy{
		ObjectMeta: testMeta,
		Spec: image.ImagePolicySpec{
			ImageRepositoryRef:     common.NamespacedObjectReference{Name: "podinfo"},
			Policy:                 image.ImagePolicyChoice{SemVer: &image.SemVerPolicy{Range: "5.x"}},
			DigestReflectionPolicy: image.ReflectNever,
		},
	}
}

func validImageUpdateAutomation() *image.ImageUpdateAutomation {
	return &image.ImageUpdateAutomation{
		ObjectMeta: testMeta,
		Spec: image.ImageUpdateAutomationSpec{
			SourceRef: image.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system", Namespace: "flux-system"},
			GitSpec: &image.GitSpec{
				Checkout: &image.GitCheckoutSpec{Reference: image.GitRepositoryRef{Branch: "main"}},
				Commit:   image.CommitSpec{Author: image.CommitUser{Name: "fluxcdbot", Email: "fluxcdbot@users.noreply.github.com"}},
				Push:     &image.PushSpec{Branch: "main"},
			},
			Interval: "30m",
			Update:   &image.UpdateStrategy{Strategy: image.UpdateStrategySetters, Path: "./clusters/my-cluster"},
		},
	}
}

func expectErrors(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	got := make([]string, 0, len(errs))
	for _, e := range errs {
		got = append(got, string(e.Type)+" "+e.Field)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n got  %q\n want %q\nfull: %v", got, want, errs)
	}
}

func TestValidateImageRepository(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*image.ImageRepository)
		want   []string
	}{
		{name: "valid", mutate: func(*image.ImageRepository) {}},
		{name: "missing image and interval", mutate: func(r *image.ImageRepository) {
			r.Spec.Image = ""
			r.Spec.Interval = ""
		}, want: []string{"FieldValueRequired spec.image", "FieldValueRequired spec.interval"}},
		{name: "negative timeout", mutate: func(r *image.ImageRepository) { r.Spec.Timeout = dur("-1s") },
			want: []string{"FieldValueInvalid spec.timeout"}},
		{name: "unknown provider", mutate: func(r *image.ImageRepository) { r.Spec.Provider = "oci" },
			want: []string{"FieldValueNotSupported spec.provider"}},
		{name: "cloud provider", mutate: func(r *image.ImageRepository) { r.Spec.Provider = "gcp" }},
		{name: "too many exclusions", mutate: func(r *image.ImageRepository) { r.Spec.ExclusionList = make([]string, 26) },
			want: []string{"FieldValueTooMany spec.exclusionList"}},
		{name: "service account name too long", mutate: func(r *image.ImageRepository) { r.Spec.ServiceAccountName = strings.Repeat("a", 254) },
			want: []string{"FieldValueTooLong spec.serviceAccountName"}},
		{name: "secret refs need names", mutate: func(r *image.ImageRepository) {
			r.Spec.SecretRef = &common.LocalObjectReference{}
			r.Spec.CertSecretRef = &common.LocalObjectReference{}
			r.Spec.ProxySecretRef = &common.LocalObjectReference{}
		}, want: []string{"FieldValueRequired spec.certSecretRef.name", "FieldValueRequired spec.proxySecretRef.name", "FieldValueRequired spec.secretRef.name"}},
		{name: "accessFrom needs namespaceSelectors", mutate: func(r *image.ImageRepository) { r.Spec.AccessFrom = &common.AccessFrom{} },
			want: []string{"FieldValueRequired spec.accessFrom.namespaceSelectors"}},
		{name: "accessFrom with selectors", mutate: func(r *image.ImageRepository) {
			r.Spec.AccessFrom = &common.AccessFrom{NamespaceSelectors: []common.NamespaceSelector{{MatchLabels: map[string]string{"a": "b"}}}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := validImageRepository()
			tt.mutate(obj)
			expectErrors(t, ValidateImageRepository(obj), tt.want)
		})
	}
}

func TestValidateImagePolicy(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*image.ImagePolicy)
		want   []string
	}{
		{name: "valid", mutate: func(*image.ImagePolicy) {}},
		{name: "missing repository ref", mutate: func(p *image.ImagePolicy) { p.Spec.ImageRepositoryRef = common.NamespacedObjectReference{} },
			want: []string{"FieldValueRequired spec.imageRepositoryRef.name"}},
		{name: "no policy", mutate: func(p *image.ImagePolicy) { p.Spec.Policy = image.ImagePolicyChoice{} },
			want: []string{"FieldValueRequired spec.policy"}},
		{name: "two policies", mutate: func(p *image.ImagePolicy) { p.Spec.Policy.Numerical = &image.NumericalPolicy{Order: "asc"} },
			want: []string{"FieldValueForbidden spec.policy"}},
		{name: "semver without range", mutate: func(p *image.ImagePolicy) { p.Spec.Policy.SemVer.Range = "" },
			want: []string{"FieldValueRequired spec.policy.semver.range"}},
		{name: "bad alphabetical order", mutate: func(p *image.ImagePolicy) {
			p.Spec.Policy = image.ImagePolicyChoice{Alphabetical: &image.AlphabeticalPolicy{Order: "up"}}
		}, want: []string{"FieldValueNotSupported spec.policy.alphabetical.order"}},
		{name: "numerical desc", mutate: func(p *image.ImagePolicy) {
			p.Spec.Policy = image.ImagePolicyChoice{Numerical: &image.NumericalPolicy{Order: "desc"}}
		}},
		{name: "bad reflection policy", mutate: func(p *image.ImagePolicy) { p.Spec.DigestReflectionPolicy = "Sometimes" },
			want: []string{"FieldValueNotSupported spec.digestReflectionPolicy"}},
		{name: "interval without Always", mutate: func(p *image.ImagePolicy) { p.Spec.Interval = dur("1m") },
			want: []string{"FieldValueForbidden spec.interval"}},
		{name: "Always without interval", mutate: func(p *image.ImagePolicy) { p.Spec.DigestReflectionPolicy = image.ReflectAlways },
			want: []string{"FieldValueRequired spec.interval"}},
		{name: "Always with interval", mutate: func(p *image.ImagePolicy) {
			p.Spec.DigestReflectionPolicy = image.ReflectAlways
			p.Spec.Interval = dur("10m")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := validImagePolicy()
			tt.mutate(obj)
			expectErrors(t, ValidateImagePolicy(obj), tt.want)
		})
	}
}

func TestValidateImageUpdateAutomation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*image.ImageUpdateAutomation)
		want   []string
	}{
		{name: "valid", mutate: func(*image.ImageUpdateAutomation) {}},
		{name: "no git spec", mutate: func(a *image.ImageUpdateAutomation) { a.Spec.GitSpec = nil }},
		{name: "bad source ref", mutate: func(a *image.ImageUpdateAutomation) {
			a.Spec.SourceRef = image.CrossNamespaceSourceReference{Kind: "OCIRepository", Namespace: "Bad_NS"}
		}, want: []string{"FieldValueNotSupported spec.sourceRef.kind", "FieldValueRequired spec.sourceRef.name", "FieldValueInvalid spec.sourceRef.namespace"}},
		{name: "missing interval", mutate: func(a *image.ImageUpdateAutomation) { a.Spec.Interval = "" },
			want: []string{"FieldValueRequired spec.interval"}},
		{name: "interval in days", mutate: func(a *image.ImageUpdateAutomation) { a.Spec.Interval = "1d" },
			want: []string{"FieldValueInvalid spec.interval"}},
		{name: "missing author email", mutate: func(a *image.ImageUpdateAutomation) { a.Spec.GitSpec.Commit.Author.Email = "" },
			want: []string{"FieldValueRequired spec.git.commit.author.email"}},
		{name: "signing key", mutate: func(a *image.ImageUpdateAutomation) {
			a.Spec.GitSpec.Commit.SigningKey = &image.SigningKey{Type: "x509"}
		}, want: []string{"FieldValueRequired spec.git.commit.signingKey.secretRef.name", "FieldValueNotSupported spec.git.commit.signingKey.type"}},
		{name: "ssh signing key", mutate: func(a *image.ImageUpdateAutomation) {
			a.Spec.GitSpec.Commit.SigningKey = &image.SigningKey{SecretRef: common.LocalObjectReference{Name: "ssh"}, Type: image.SigningKeyTypeSSH}
		}},
		{name: "force-push refspec", mutate: func(a *image.ImageUpdateAutomation) { a.Spec.GitSpec.Push.Refspec = "+refs/heads/main:refs/heads/auto" },
			want: []string{"FieldValueInvalid spec.git.push.refspec"}},
		{name: "delete refspec", mutate: func(a *image.ImageUpdateAutomation) { a.Spec.GitSpec.Push.Refspec = ":refs/heads/auto" },
			want: []string{"FieldValueInvalid spec.git.push.refspec"}},
		{name: "plain refspec", mutate: func(a *image.ImageUpdateAutomation) { a.Spec.GitSpec.Push.Refspec = "refs/heads/main:refs/heads/auto" }},
		{name: "bad policy selector", mutate: func(a *image.ImageUpdateAutomation) {
			a.Spec.PolicySelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Near"}}}
		}, want: []string{"FieldValueInvalid spec.policySelector.matchExpressions[0].operator"}},
		{name: "unknown update strategy", mutate: func(a *image.ImageUpdateAutomation) { a.Spec.Update.Strategy = "Regex" },
			want: []string{"FieldValueNotSupported spec.update.strategy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := validImageUpdateAutomation()
			tt.mutate(obj)
			expectErrors(t, ValidateImageUpdateAutomation(obj), tt.want)
		})
	}
}

func TestValidateUpdates_CheckMetadataAndSpec(t *testing.T) {
	oldRepo, newRepo := validImageRepository(), validImageRepository()
	newRepo.Name = "renamed"
	newRepo.Spec.Image = ""
	expectErrors(t, ValidateImageRepositoryUpdate(newRepo, oldRepo), []string{
		"FieldValueInvalid metadata.name", "FieldValueRequired spec.image",
	})

	oldPolicy, newPolicy := validImagePolicy(), validImagePolicy()
	newPolicy.Spec.Policy = image.ImagePolicyChoice{}
	expectErrors(t, ValidateImagePolicyUpdate(newPolicy, oldPolicy), []string{"FieldValueRequired spec.policy"})

	oldAuto, newAuto := validImageUpdateAutomation(), validImageUpdateAutomation()
	newAuto.Spec.SourceRef.Name = ""
	expectErrors(t, ValidateImageUpdateAutomationUpdate(newAuto, oldAuto), []string{"FieldValueRequired spec.sourceRef.name"})
}

func TestValidateStatusUpdates_CheckConditions(t *testing.T) {
	bad := []metav1.Condition{
		{Type: "Ready", Status: "True", Reason: "Succeeded", LastTransitionTime: metav1.Now()},
		{Type: "Ready", Status: "True", Reason: "Succeeded", LastTransitionTime: metav1.Now()},
	}
	want := []string{"FieldValueDuplicate status.conditions[1]"}

	oldRepo, newRepo := validImageRepository(), validImageRepository()
	newRepo.Status.Conditions = bad
	expectErrors(t, ValidateImageRepositoryStatusUpdate(newRepo, oldRepo), want)

	oldPolicy, newPolicy := validImagePolicy(), validImagePolicy()
	newPolicy.Status.Conditions = bad
	expectErrors(t, ValidateImagePolicyStatusUpdate(newPolicy, oldPolicy), want)

	oldAuto, newAuto := validImageUpdateAutomation(), validImageUpdateAutomation()
	newAuto.Status.Conditions = bad
	expectErrors(t, ValidateImageUpdateAutomationStatusUpdate(newAuto, oldAuto), want)
}

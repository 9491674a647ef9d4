package validation

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
)

// wantErrors checks that errs holds exactly the given "type path" pairs
// (e.g. "FieldValueRequired spec.url"), in any order.
func wantErrors(t *testing.T, errs field.ErrorList, want ...string) {
	t.Helper()
	got := map[string]int{}
	for _, e := range errs {
		got[string(e.Type)+" "+e.Field]++
	}
	for _, w := range want {
		if got[w] == 0 {
			t.Errorf("missing error %q; got %v", w, errs)
			continue
		}
		got[w]--
	}
	for key, n := range got {
		if n > 0 {
			t.Errorf("unexpected error %q; got %v", key, errs)
		}
	}
}

// Error types as they appear in wantErrors' "type path" strings.
const (
	required     = string(field.ErrorTypeRequired)
	invalid      = string(field.ErrorTypeInvalid)
	forbidden    = string(field.ErrorTypeForbidden)
	notSupported = string(field.ErrorTypeNotSupported)
)

func meta() metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: "podinfo", Namespace: "flux-system"}
}

func duration(d common.Duration) *common.Duration { return &d }

func ref(name string) *common.LocalObjectReference { return &common.LocalObjectReference{Name: name} }

func TestValidateGitRepository(t *testing.T) {
	valid := func() *source.GitRepository {
		return &source.GitRepository{ObjectMeta: meta(), Spec: source.GitRepositorySpec{
			URL: "https://github.com/stefanprodan/podinfo", Interval: "1m",
		}}
	}
	tests := []struct {
		name   string
		mutate func(*source.GitRepository)
		want   []string
	}{
		{"valid https", func(*source.GitRepository) {}, nil},
		{"valid ssh with verification and include", func(o *source.GitRepository) {
			o.Spec.URL = "ssh://git@github.com/org/repo"
			o.Spec.Verification = &source.GitRepositoryVerification{Mode: source.ModeGitTagAndHEAD, SecretRef: *ref("keys")}
			o.Spec.Include = []source.GitRepositoryInclude{{GitRepositoryRef: *ref("other"), ToPath: "x"}}
		}, nil},
		{"missing url and interval", func(o *source.GitRepository) {
			o.Spec.URL, o.Spec.Interval = "", ""
		}, []string{required + " spec.url", required + " spec.interval"}},
		{"scp-style url is rejected", func(o *source.GitRepository) {
			o.Spec.URL = "git@github.com:org/repo.git"
		}, []string{invalid + " spec.url"}},
		{"unknown provider", func(o *source.GitRepository) { o.Spec.Provider = "gcp" },
			[]string{notSupported + " spec.provider"}},
		{"serviceAccountName needs azure or aws", func(o *source.GitRepository) {
			o.Spec.Provider, o.Spec.ServiceAccountName = "github", "sa"
		}, []string{forbidden + " spec.serviceAccountName"}},
		{"serviceAccountName with azure", func(o *source.GitRepository) {
			o.Spec.Provider, o.Spec.ServiceAccountName = "azure", "sa"
		}, nil},
		{"negative timeout", func(o *source.GitRepository) {
			o.Spec.Timeout = duration("-1s")
		}, []string{invalid + " spec.timeout"}},
		{"interval and timeout as written", func(o *source.GitRepository) {
			o.Spec.Interval, o.Spec.Timeout = "2m", duration("1.5m")
		}, nil},
		{"bogus interval and timeout in days", func(o *source.GitRepository) {
			o.Spec.Interval, o.Spec.Timeout = "bogus", duration("1d")
		}, []string{invalid + " spec.interval", invalid + " spec.timeout"}},
		{"bad verification", func(o *source.GitRepository) {
			o.Spec.Verification = &source.GitRepositoryVerification{Mode: "All"}
		}, []string{notSupported + " spec.verify.mode", required + " spec.verify.secretRef.name"}},
		{"include without repository", func(o *source.GitRepository) {
			o.Spec.Include = []source.GitRepositoryInclude{{FromPath: "deploy"}}
		}, []string{required + " spec.include[0].repository.name"}},
		{"bad secretRef name", func(o *source.GitRepository) { o.Spec.SecretRef = ref("Not_Valid") },
			[]string{invalid + " spec.secretRef.name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := valid()
			tt.mutate(obj)
			wantErrors(t, ValidateGitRepository(obj), tt.want...)
		})
	}
}

func TestValidateGitRepositoryUpdate_ChecksSpecAndMetadata(t *testing.T) {
	old := &source.GitRepository{ObjectMeta: meta(), Spec: source.GitRepositorySpec{
		URL: "https://example.com/repo", Interval: "1m",
	}}
	old.ResourceVersion = "1"
	updated := old.DeepCopy()
	updated.Spec.URL = "ftp://example.com/repo"
	updated.Name = "renamed"
	wantErrors(t, ValidateGitRepositoryUpdate(updated, old),
		invalid+" spec.url", invalid+" metadata.name")
}

func TestValidateOCIRepository(t *testing.T) {
	valid := func() *source.OCIRepository {
		return &source.OCIRepository{ObjectMeta: meta(), Spec: source.OCIRepositorySpec{
			URL: "oci://ghcr.io/stefanprodan/manifests/podinfo", Interval: "5m",
		}}
	}
	tests := []struct {
		name   string
		mutate func(*source.OCIRepository)
		want   []string
	}{
		{"valid", func(*source.OCIRepository) {}, nil},
		{"valid keyless verification", func(o *source.OCIRepository) {
			o.Spec.Provider = "gcp"
			o.Spec.LayerSelector = &source.OCILayerSelector{MediaType: "application/x-tar", Operation: "copy"}
			o.Spec.Verify = &source.OCIRepositoryVerification{
				Provider:             "cosign",
				MatchOIDCIdentity:    []source.OIDCIdentityMatch{{Issuer: "^https://token.actions.githubusercontent.com$", Subject: ".*"}},
				TrustedRootSecretRef: ref("sigstore-root"),
			}
		}, nil},
		{"https url is rejected", func(o *source.OCIRepository) { o.Spec.URL = "https://ghcr.io/x" },
			[]string{invalid + " spec.url"}},
		{"bad enums", func(o *source.OCIRepository) {
			o.Spec.Provider = "github"
			o.Spec.LayerSelector = &source.OCILayerSelector{Operation: "unpack"}
		}, []string{notSupported + " spec.provider", notSupported + " spec.layerSelector.operation"}},
		{"bad verification", func(o *source.OCIRepository) {
			o.Spec.Verify = &source.OCIRepositoryVerification{
				Provider:          "gpg",
				MatchOIDCIdentity: []source.OIDCIdentityMatch{{Issuer: "x"}},
			}
		}, []string{notSupported + " spec.verify.provider", required + " spec.verify.matchOIDCIdentity[0].subject"}},
		{"missing interval", func(o *source.OCIRepository) { o.Spec.Interval = "" },
			[]string{required + " spec.interval"}},
		{"zero interval", func(o *source.OCIRepository) { o.Spec.Interval = "0s" },
			[]string{invalid + " spec.interval"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := valid()
			tt.mutate(obj)
			wantErrors(t, ValidateOCIRepository(obj), tt.want...)
		})
	}
}

func TestValidateHelmRepository(t *testing.T) {
	valid := func() *source.HelmRepository {
		return &source.HelmRepository{ObjectMeta: meta(), Spec: source.HelmRepositorySpec{
			URL: "https://stefanprodan.github.io/podinfo",
		}}
	}
	tests := []struct {
		name   string
		mutate func(*source.HelmRepository)
		want   []string
	}{
		{"valid without interval", func(*source.HelmRepository) {}, nil},
		{"valid oci", func(o *source.HelmRepository) {
			o.Spec.URL, o.Spec.Type, o.Spec.Provider = "oci://ghcr.io/charts", "oci", "aws"
			o.Spec.AccessFrom = &common.AccessFrom{NamespaceSelectors: []common.NamespaceSelector{{}}}
		}, nil},
		{"ssh url is rejected", func(o *source.HelmRepository) { o.Spec.URL = "ssh://charts" },
			[]string{invalid + " spec.url"}},
		{"bad enums", func(o *source.HelmRepository) { o.Spec.Type, o.Spec.Provider = "git", "github" },
			[]string{notSupported + " spec.type", notSupported + " spec.provider"}},
		{"negative interval", func(o *source.HelmRepository) { o.Spec.Interval = "-1m" },
			[]string{invalid + " spec.interval"}},
		{"zero interval", func(o *source.HelmRepository) { o.Spec.Interval = "0s" }, nil},
		{"accessFrom without selectors", func(o *source.HelmRepository) { o.Spec.AccessFrom = &common.AccessFrom{} },
			[]string{required + " spec.accessFrom.namespaceSelectors"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := valid()
			tt.mutate(obj)
			wantErrors(t, ValidateHelmRepository(obj), tt.want...)
		})
	}
}

func TestValidateHelmChart(t *testing.T) {
	valid := func() *source.HelmChart {
		return &source.HelmChart{ObjectMeta: meta(), Spec: source.HelmChartSpec{
			Chart:     "podinfo",
			SourceRef: source.LocalHelmChartSourceReference{Kind: "HelmRepository", Name: "podinfo"},
			Interval:  "1m",
		}}
	}
	tests := []struct {
		name   string
		mutate func(*source.HelmChart)
		want   []string
	}{
		{"valid", func(*source.HelmChart) {}, nil},
		{"valid verify on HelmRepository", func(o *source.HelmChart) {
			o.Spec.ReconcileStrategy = "Revision"
			o.Spec.Verify = &source.HelmChartVerification{Provider: "notation", SecretRef: ref("trust")}
		}, nil},
		{"missing chart, source and interval", func(o *source.HelmChart) {
			o.Spec.Chart, o.Spec.SourceRef, o.Spec.Interval = "", source.LocalHelmChartSourceReference{}, ""
		}, []string{required + " spec.chart", required + " spec.sourceRef.kind", required + " spec.sourceRef.name", required + " spec.interval"}},
		{"OCIRepository is not a chart source", func(o *source.HelmChart) { o.Spec.SourceRef.Kind = "OCIRepository" },
			[]string{notSupported + " spec.sourceRef.kind"}},
		{"bad strategy", func(o *source.HelmChart) { o.Spec.ReconcileStrategy = "Always" },
			[]string{notSupported + " spec.reconcileStrategy"}},
		{"verify needs a HelmRepository source", func(o *source.HelmChart) {
			o.Spec.SourceRef.Kind = "GitRepository"
			o.Spec.Verify = &source.HelmChartVerification{Provider: "cosign"}
		}, []string{forbidden + " spec.verify"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := valid()
			tt.mutate(obj)
			wantErrors(t, ValidateHelmChart(obj), tt.want...)
		})
	}
}

func TestValidateBucket(t *testing.T) {
	valid := func() *source.Bucket {
		return &source.Bucket{ObjectMeta: meta(), Spec: source.BucketSpec{
			BucketName: "podinfo", Endpoint: "minio.minio.svc:9000", Interval: "1m",
		}}
	}
	sts := func(provider string) *source.BucketSTSSpec {
		return &source.BucketSTSSpec{Provider: provider, Endpoint: "https://sts.example.com"}
	}
	tests := []struct {
		name   string
		mutate func(*source.Bucket)
		want   []string
	}{
		{"valid generic", func(*source.Bucket) {}, nil},
		{"valid generic with ldap sts", func(o *source.Bucket) {
			o.Spec.STS = sts("ldap")
			o.Spec.STS.SecretRef, o.Spec.STS.CertSecretRef = ref("ldap"), ref("ca")
		}, nil},
		{"valid aws with sts and service account", func(o *source.Bucket) {
			o.Spec.Provider, o.Spec.STS, o.Spec.ServiceAccountName = "aws", sts("aws"), "reader"
		}, nil},
		{"missing bucket, endpoint and interval", func(o *source.Bucket) {
			o.Spec.BucketName, o.Spec.Endpoint, o.Spec.Interval = "", "", ""
		}, []string{required + " spec.bucketName", required + " spec.endpoint", required + " spec.interval"}},
		{"unknown provider", func(o *source.Bucket) { o.Spec.Provider = "minio" },
			[]string{notSupported + " spec.provider"}},
		{"sts only for aws and generic", func(o *source.Bucket) { o.Spec.Provider, o.Spec.STS = "gcp", sts("aws") },
			[]string{forbidden + " spec.sts"}},
		{"aws bucket needs aws sts", func(o *source.Bucket) { o.Spec.Provider, o.Spec.STS = "aws", sts("ldap") },
			[]string{invalid + " spec.sts.provider"}},
		{"generic bucket needs ldap sts", func(o *source.Bucket) { o.Spec.STS = sts("aws") },
			[]string{invalid + " spec.sts.provider"}},
		{"aws sts takes no secrets", func(o *source.Bucket) {
			o.Spec.Provider, o.Spec.STS = "aws", sts("aws")
			o.Spec.STS.SecretRef, o.Spec.STS.CertSecretRef = ref("s"), ref("c")
		}, []string{forbidden + " spec.sts.secretRef", forbidden + " spec.sts.certSecretRef"}},
		{"bad sts fields", func(o *source.Bucket) { o.Spec.STS = &source.BucketSTSSpec{Endpoint: "sts.example.com"} },
			[]string{required + " spec.sts.provider", invalid + " spec.sts.endpoint", invalid + " spec.sts.provider"}},
		{"service account not with generic nor with secretRef", func(o *source.Bucket) {
			o.Spec.ServiceAccountName, o.Spec.SecretRef = "reader", ref("creds")
		}, []string{forbidden + " spec.serviceAccountName", forbidden + " spec.serviceAccountName"}},
		{"accessFrom without selectors", func(o *source.Bucket) { o.Spec.AccessFrom = &common.AccessFrom{} },
			[]string{required + " spec.accessFrom.namespaceSelectors"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := valid()
			tt.mutate(obj)
			wantErrors(t, ValidateBucket(obj), tt.want...)
		})
	}
}

func TestValidateExternalArtifact(t *testing.T) {
	tests := []struct {
		name string
		ref  *common.NamespacedObjectKindReference
		want []string
	}{
		{"no source", nil, nil},
		{"any kind", &common.NamespacedObjectKindReference{Kind: "ArtifactGenerator", Name: "gen", Namespace: "apps"}, nil},
		{"kind and name required", &common.NamespacedObjectKindReference{},
			[]string{required + " spec.sourceRef.kind", required + " spec.sourceRef.name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := &source.ExternalArtifact{ObjectMeta: meta(), Spec: source.ExternalArtifactSpec{SourceRef: tt.ref}}
			wantErrors(t, ValidateExternalArtifact(obj), tt.want...)
		})
	}
}

func TestValidateStatusUpdate_ChecksConditionsAndArtifact(t *testing.T) {
	old := &source.GitRepository{ObjectMeta: meta()}
	old.ResourceVersion = "1"
	good := common.Artifact{
		Path: "gitrepository/flux-system/podinfo/abc.tar.gz", URL: "http://source-controller/abc.tar.gz",
		Revision: "main@sha1:abc", Digest: "sha256:0123abcd", LastUpdateTime: metav1.Now(),
	}
	tests := []struct {
		name   string
		status source.GitRepositoryStatus
		want   []string
	}{
		{"valid", source.GitRepositoryStatus{Artifact: &good, Conditions: []metav1.Condition{{
			Type: "Ready", Status: metav1.ConditionTrue, Reason: "Succeeded", LastTransitionTime: metav1.Now(),
		}}}, nil},
		{"bad condition", source.GitRepositoryStatus{Conditions: []metav1.Condition{{
			Type: "Ready", Status: "Maybe", Reason: "Succeeded", LastTransitionTime: metav1.Now(),
		}}}, []string{notSupported + " status.conditions[0].status"}},
		{"incomplete artifacts", source.GitRepositoryStatus{
			Artifact:          &common.Artifact{Digest: "not a digest"},
			IncludedArtifacts: []*common.Artifact{&good, {Path: "p", URL: "u", Revision: "r", LastUpdateTime: metav1.Now()}},
		}, []string{
			required + " status.artifact.path", required + " status.artifact.url", required + " status.artifact.revision",
			invalid + " status.artifact.digest", required + " status.artifact.lastUpdateTime",
			required + " status.includedArtifacts[1].digest",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			updated := old.DeepCopy()
			updated.Status = tt.status
			wantErrors(t, ValidateGitRepositoryStatusUpdate(updated, old), tt.want...)
		})
	}
}

func TestValidateGitRepository_IncludePathsStayInside(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		field    string
	}{
		{"deploy", "policies", ""},
		{"../x", "p", "spec.include[0].fromPath"},
		{"a", "/etc", "spec.include[0].toPath"},
		{"a", "x/../../y", "spec.include[0].toPath"},
	} {
		obj := &source.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ns"},
			Spec: source.GitRepositorySpec{URL: "https://example.com/r.git", Interval: "1m",
				Include: []source.GitRepositoryInclude{{GitRepositoryRef: common.LocalObjectReference{Name: "shared"}, FromPath: tc.from, ToPath: tc.to}}},
		}
		errs := ValidateGitRepository(obj)
		if tc.field == "" && len(errs) != 0 {
			t.Errorf("%s -> %s: %v", tc.from, tc.to, errs)
		}
		if tc.field != "" && (len(errs) != 1 || errs[0].Field != tc.field) {
			t.Errorf("%s -> %s: got %v, want one error on %s", tc.from, tc.to, errs, tc.field)
		}
	}
}

// Package validation checks source.toolkit.fluxcd.io objects the way Flux's
// CRD schemas do (required fields, URL patterns, enums, CEL rules), returning
// every problem with its field path.
package validation

import (
	"path"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	commonvalidation "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common/validation"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
)

// URL patterns of Flux's CRDs.
var (
	gitURLPattern         = regexp.MustCompile(`^(http|https|ssh)://.*$`)
	ociURLPattern         = regexp.MustCompile(`^oci://.*$`)
	helmURLPattern        = regexp.MustCompile(`^(http|https|oci)://.*$`)
	stsEndpointURLPattern = regexp.MustCompile(`^(http|https)://.*$`)
)

// Enumerations of Flux's CRDs.
var (
	gitProviders            = []string{source.GenericProvider, source.AWSProvider, source.AzureProvider, source.GitHubProvider}
	ociProviders            = []string{source.GenericProvider, source.AWSProvider, source.AzureProvider, source.GCPProvider}
	bucketProviders         = []string{source.GenericProvider, source.AWSProvider, source.GCPProvider, source.AzureProvider}
	stsProviders            = []string{source.STSProviderAmazon, source.STSProviderLDAP}
	verificationProviders   = []string{source.CosignVerificationProvider, source.NotationVerificationProvider}
	layerOperations         = []string{source.OCILayerExtract, source.OCILayerCopy}
	helmRepositoryTypes     = []string{source.HelmRepositoryTypeDefault, source.HelmRepositoryTypeOCI}
	helmChartStrategies     = []string{source.ReconcileStrategyChartVersion, source.ReconcileStrategyRevision}
	helmChartSourceKinds    = []string{source.HelmRepositoryKind, source.GitRepositoryKind, source.BucketKind}
	gitVerificationModes    = []string{string(source.ModeGitHEADLegacy), string(source.ModeGitHEAD), string(source.ModeGitTag), string(source.ModeGitTagAndHEAD)}
	gitServiceAccountUsers  = map[string]bool{source.AzureProvider: true, source.AWSProvider: true}
	bucketSTSCompatibleWith = map[string]bool{source.AWSProvider: true, source.GenericProvider: true}
)

var (
	metadataPath = field.NewPath("metadata")
	specPath     = field.NewPath("spec")
)

// ValidateGitRepository checks a GitRepository on create.
func ValidateGitRepository(obj *source.GitRepository) field.ErrorList {
	errs := commonvalidation.ValidateObjectMeta(&obj.ObjectMeta, metadataPath)
	return append(errs, validateGitRepositorySpec(&obj.Spec, specPath)...)
}

// ValidateGitRepositoryUpdate checks a GitRepository on update.
func ValidateGitRepositoryUpdate(newObj, oldObj *source.GitRepository) field.ErrorList {
	errs := commonvalidation.ValidateObjectMetaUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, metadataPath)
	return append(errs, validateGitRepositorySpec(&newObj.Spec, specPath)...)
}

func validateGitRepositorySpec(spec *source.GitRepositorySpec, fld *field.Path) field.ErrorList {
	errs := validateURL(spec.URL, gitURLPattern, "http://, https:// or ssh://", fld.Child("url"))
	errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(spec.SecretRef, fld.Child("secretRef"))...)
	errs = append(errs, commonvalidation.ValidateOptionalEnum(spec.Provider, fld.Child("provider"), gitProviders...)...)
	if spec.ServiceAccountName != "" {
		if !gitServiceAccountUsers[spec.Provider] {
			errs = append(errs, field.Forbidden(fld.Child("serviceAccountName"),
				"serviceAccountName can only be set when provider is 'azure' or 'aws'"))
		}
		errs = append(errs, commonvalidation.ValidateName(spec.ServiceAccountName, fld.Child("serviceAccountName"))...)
	}
	errs = append(errs, commonvalidation.ValidateInterval(spec.Interval, fld.Child("interval"))...)
	errs = append(errs, commonvalidation.ValidateOptionalDuration(spec.Timeout, fld.Child("timeout"))...)
	if v := spec.Verification; v != nil {
		vfld := fld.Child("verify")
		errs = append(errs, commonvalidation.ValidateOptionalEnum(string(v.Mode), vfld.Child("mode"), gitVerificationModes...)...)
		errs = append(errs, commonvalidation.ValidateLocalObjectReference(v.SecretRef, vfld.Child("secretRef"))...)
	}
	errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(spec.ProxySecretRef, fld.Child("proxySecretRef"))...)
	for i := range spec.Include {
		errs = append(errs, commonvalidation.ValidateLocalObjectReference(spec.Include[i].GitRepositoryRef,
			fld.Child("include").Index(i).Child("repository"))...)
		errs = append(errs, validateRelativePath(spec.Include[i].FromPath, fld.Child("include").Index(i).Child("fromPath"))...)
		errs = append(errs, validateRelativePath(spec.Include[i].ToPath, fld.Child("include").Index(i).Child("toPath"))...)
	}
	return errs
}

// ValidateOCIRepository checks an OCIRepository on create.
func ValidateOCIRepository(obj *source.OCIRepository) field.ErrorList {
	errs := commonvalidation.ValidateObjectMeta(&obj.ObjectMeta, metadataPath)
	return append(errs, validateOCIRepositorySpec(&obj.Spec, specPath)...)
}

// ValidateOCIRepositoryUpdate checks an OCIRepository on update.
func ValidateOCIRepositoryUpdate(newObj, oldObj *source.OCIRepository) field.ErrorList {
	errs := commonvalidation.ValidateObjectMetaUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, metadataPath)
	return append(errs, validateOCIRepositorySpec(&newObj.Spec, specPath)...)
}

func validateOCIRepositorySpec(spec *source.OCIRepositorySpec, fld *field.Path) field.ErrorList {
	errs := validateURL(spec.URL, ociURLPattern, "oci://", fld.Child("url"))
	if ls := spec.LayerSelector; ls != nil {
		errs = append(errs, commonvalidation.ValidateOptionalEnum(ls.Operation, fld.Child("layerSelector", "operation"), layerOperations...)...)
	}
	errs = append(errs, commonvalidation.ValidateOptionalEnum(spec.Provider, fld.Child("provider"), ociProviders...)...)
	errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(spec.SecretRef, fld.Child("secretRef"))...)
	if v := spec.Verify; v != nil {
		vfld := fld.Child("verify")
		errs = append(errs, validateVerification(v.Provider, v.SecretRef, v.MatchOIDCIdentity, vfld)...)
		errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(v.TrustedRootSecretRef, vfld.Child("trustedRootSecretRef"))...)
	}
	if spec.ServiceAccountName != "" {
		errs = append(errs, commonvalidation.ValidateName(spec.ServiceAccountName, fld.Child("serviceAccountName"))...)
	}
	errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(spec.CertSecretRef, fld.Child("certSecretRef"))...)
	errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(spec.ProxySecretRef, fld.Child("proxySecretRef"))...)
	errs = append(errs, commonvalidation.ValidateInterval(spec.Interval, fld.Child("interval"))...)
	return append(errs, commonvalidation.ValidateOptionalDuration(spec.Timeout, fld.Child("timeout"))...)
}

// ValidateHelmRepository checks a HelmRepository on create.
func ValidateHelmRepository(obj *source.HelmRepository) field.ErrorList {
	errs := commonvalidation.ValidateObjectMeta(&obj.ObjectMeta, metadataPath)
	return append(errs, validateHelmRepositorySpec(&obj.Spec, specPath)...)
}

// ValidateHelmRepositoryUpdate checks a HelmRepository on update.
func ValidateHelmRepositoryUpdate(newObj, oldObj *source.HelmRepository) field.ErrorList {
	errs := commonvalidation.ValidateObjectMetaUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, metadataPath)
	return append(errs, validateHelmRepositorySpec(&newObj.Spec, specPath)...)
}

func validateHelmRepositorySpec(spec *source.HelmRepositorySpec, fld *field.Path) field.ErrorList {
	errs := validateURL(spec.URL, helmURLPattern, "http://, https:// or oci://", fld.Child("url"))
	errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(spec.SecretRef, fld.Child("secretRef"))...)
	errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(spec.CertSecretRef, fld.Child("certSecretRef"))...)
	// Interval is optional here (omitempty, not a pointer): empty means "not set".
	if spec.Interval != "" {
		errs = append(errs, commonvalidation.ValidateOptionalDuration(&spec.Interval, fld.Child("interval"))...)
	}
	errs = append(errs, commonvalidation.ValidateOptionalDuration(spec.Timeout, fld.Child("timeout"))...)
	errs = append(errs, validateAccessFrom(spec.AccessFrom, fld.Child("accessFrom"))...)
	errs = append(errs, commonvalidation.ValidateOptionalEnum(spec.Type, fld.Child("type"), helmRepositoryTypes...)...)
	return append(errs, commonvalidation.ValidateOptionalEnum(spec.Provider, fld.Child("provider"), ociProviders...)...)
}

// ValidateHelmChart checks a HelmChart on create.
func ValidateHelmChart(obj *source.HelmChart) field.ErrorList {
	errs := commonvalidation.ValidateObjectMeta(&obj.ObjectMeta, metadataPath)
	return append(errs, validateHelmChartSpec(&obj.Spec, specPath)...)
}

// ValidateHelmChartUpdate checks a HelmChart on update.
func ValidateHelmChartUpdate(newObj, oldObj *source.HelmChart) field.ErrorList {
	errs := commonvalidation.ValidateObjectMetaUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, metadataPath)
	return append(errs, validateHelmChartSpec(&newObj.Spec, specPath)...)
}

func validateHelmChartSpec(spec *source.HelmChartSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.Chart == "" {
		errs = append(errs, field.Required(fld.Child("chart"), "the chart name or path in the source"))
	}
	rfld := fld.Child("sourceRef")
	errs = append(errs, commonvalidation.ValidateEnum(spec.SourceRef.Kind, rfld.Child("kind"), helmChartSourceKinds...)...)
	errs = append(errs, commonvalidation.ValidateName(spec.SourceRef.Name, rfld.Child("name"))...)
	errs = append(errs, commonvalidation.ValidateInterval(spec.Interval, fld.Child("interval"))...)
	errs = append(errs, commonvalidation.ValidateOptionalEnum(spec.ReconcileStrategy, fld.Child("reconcileStrategy"), helmChartStrategies...)...)
	if v := spec.Verify; v != nil {
		vfld := fld.Child("verify")
		if spec.SourceRef.Kind != source.HelmRepositoryKind {
			errs = append(errs, field.Forbidden(vfld, "spec.verify is only supported when spec.sourceRef.kind is 'HelmRepository'"))
		}
		errs = append(errs, validateVerification(v.Provider, v.SecretRef, v.MatchOIDCIdentity, vfld)...)
	}
	return errs
}

// ValidateBucket checks a Bucket on create.
func ValidateBucket(obj *source.Bucket) field.ErrorList {
	errs := commonvalidation.ValidateObjectMeta(&obj.ObjectMeta, metadataPath)
	return append(errs, validateBucketSpec(&obj.Spec, specPath)...)
}

// ValidateBucketUpdate checks a Bucket on update.
func ValidateBucketUpdate(newObj, oldObj *source.Bucket) field.ErrorList {
	errs := commonvalidation.ValidateObjectMetaUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, metadataPath)
	return append(errs, validateBucketSpec(&newObj.Spec, specPath)...)
}

func validateBucketSpec(spec *source.BucketSpec, fld *field.Path) field.ErrorList {
	errs := commonvalidation.ValidateOptionalEnum(spec.Provider, fld.Child("provider"), bucketProviders...)
	if spec.BucketName == "" {
		errs = append(errs, field.Required(fld.Child("bucketName"), ""))
	}
	if spec.Endpoint == "" {
		errs = append(errs, field.Required(fld.Child("endpoint"), "the object storage address, e.g. s3.amazonaws.com"))
	}
	errs = append(errs, validateBucketSTS(spec, fld)...)
	errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(spec.SecretRef, fld.Child("secretRef"))...)
	if spec.ServiceAccountName != "" {
		safld := fld.Child("serviceAccountName")
		if bucketProvider(spec) == source.GenericProvider {
			errs = append(errs, field.Forbidden(safld, "ServiceAccountName is not supported for the 'generic' Bucket provider"))
		}
		if spec.SecretRef != nil {
			errs = append(errs, field.Forbidden(safld, "cannot set both .spec.secretRef and .spec.serviceAccountName"))
		}
		errs = append(errs, commonvalidation.ValidateName(spec.ServiceAccountName, safld)...)
	}
	errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(spec.CertSecretRef, fld.Child("certSecretRef"))...)
	errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(spec.ProxySecretRef, fld.Child("proxySecretRef"))...)
	errs = append(errs, commonvalidation.ValidateInterval(spec.Interval, fld.Child("interval"))...)
	errs = append(errs, commonvalidation.ValidateOptionalDuration(spec.Timeout, fld.Child("timeout"))...)
	return append(errs, validateAccessFrom(spec.AccessFrom, fld.Child("accessFrom"))...)
}

// bucketProvider is the provider in effect: Flux defaults it to generic.
func bucketProvider(spec *source.BucketSpec) string {
	if spec.Provider == "" {
		return source.GenericProvider
	}
	return spec.Provider
}

// validateBucketSTS applies Flux's CEL rules tying spec.sts to the provider.
func validateBucketSTS(spec *source.BucketSpec, fld *field.Path) field.ErrorList {
	sts := spec.STS
	if sts == nil {
		return nil
	}
	sfld := fld.Child("sts")
	errs := commonvalidation.ValidateEnum(sts.Provider, sfld.Child("provider"), stsProviders...)
	errs = append(errs, validateURL(sts.Endpoint, stsEndpointURLPattern, "http:// or https://", sfld.Child("endpoint"))...)
	errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(sts.SecretRef, sfld.Child("secretRef"))...)
	errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(sts.CertSecretRef, sfld.Child("certSecretRef"))...)

	provider := bucketProvider(spec)
	switch {
	case !bucketSTSCompatibleWith[provider]:
		errs = append(errs, field.Forbidden(sfld, "STS configuration is only supported for the 'aws' and 'generic' Bucket providers"))
	case provider == source.AWSProvider && sts.Provider != source.STSProviderAmazon:
		errs = append(errs, field.Invalid(sfld.Child("provider"), sts.Provider, "'aws' is the only supported STS provider for the 'aws' Bucket provider"))
	case provider == source.GenericProvider && sts.Provider != source.STSProviderLDAP:
		errs = append(errs, field.Invalid(sfld.Child("provider"), sts.Provider, "'ldap' is the only supported STS provider for the 'generic' Bucket provider"))
	}
	if sts.Provider == source.STSProviderAmazon {
		if sts.SecretRef != nil {
			errs = append(errs, field.Forbidden(sfld.Child("secretRef"), "spec.sts.secretRef is not required for the 'aws' STS provider"))
		}
		if sts.CertSecretRef != nil {
			errs = append(errs, field.Forbidden(sfld.Child("certSecretRef"), "spec.sts.certSecretRef is not required for the 'aws' STS provider"))
		}
	}
	return errs
}

// ValidateExternalArtifact checks an ExternalArtifact on create.
func ValidateExternalArtifact(obj *source.ExternalArtifact) field.ErrorList {
	errs := commonvalidation.ValidateObjectMeta(&obj.ObjectMeta, metadataPath)
	return append(errs, validateExternalArtifactSpec(&obj.Spec, specPath)...)
}

// ValidateExternalArtifactUpdate checks an ExternalArtifact on update.
func ValidateExternalArtifactUpdate(newObj, oldObj *source.ExternalArtifact) field.ErrorList {
	errs := commonvalidation.ValidateObjectMetaUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, metadataPath)
	return append(errs, validateExternalArtifactSpec(&newObj.Spec, specPath)...)
}

func validateExternalArtifactSpec(spec *source.ExternalArtifactSpec, fld *field.Path) field.ErrorList {
	if spec.SourceRef == nil {
		return nil
	}
	// Any kind may produce an external artifact.
	return commonvalidation.ValidateNamespacedObjectKindReference(*spec.SourceRef, fld.Child("sourceRef"))
}

// validateURL requires a URL matching pattern; want describes the allowed
// schemes for the error message.
func validateURL(url string, pattern *regexp.Regexp, want string, fld *field.Path) field.ErrorList {
	if url == "" {
		return field.ErrorList{field.Required(fld, "must start with "+want)}
	}
	if !pattern.MatchString(url) {
		return field.ErrorList{field.Invalid(fld, url, "must start with "+want)}
	}
	return nil
}

// validateVerification checks the fields OCIRepository and HelmChart
// verification settings share.
func validateVerification(provider string, secretRef *common.LocalObjectReference, identities []source.OIDCIdentityMatch, fld *field.Path) field.ErrorList {
	errs := commonvalidation.ValidateEnum(provider, fld.Child("provider"), verificationProviders...)
	errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(secretRef, fld.Child("secretRef"))...)
	for i, id := range identities {
		ifld := fld.Child("matchOIDCIdentity").Index(i)
		if id.Issuer == "" {
			errs = append(errs, field.Required(ifld.Child("issuer"), "a regular expression for the OIDC issuer"))
		}
		if id.Subject == "" {
			errs = append(errs, field.Required(ifld.Child("subject"), "a regular expression for the certificate subject"))
		}
	}
	return errs
}

// validateAccessFrom requires the selector list Flux's schema requires.
func validateAccessFrom(acl *common.AccessFrom, fld *field.Path) field.ErrorList {
	if acl != nil && acl.NamespaceSelectors == nil {
		return field.ErrorList{field.Required(fld.Child("namespaceSelectors"), "")}
	}
	return nil
}

// validateRelativePath accepts a path inside the source tree: not absolute,
// and no ".." that climbs above the root.
func validateRelativePath(p string, fld *field.Path) field.ErrorList {
	if p == "" {
		return nil
	}
	if path.IsAbs(p) {
		return field.ErrorList{field.Invalid(fld, p, "must be relative to the source root")}
	}
	if c := path.Clean(p); c == ".." || strings.HasPrefix(c, "../") {
		return field.ErrorList{field.Invalid(fld, p, "must not leave the source root")}
	}
	return nil
}

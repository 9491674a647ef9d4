package validation

import (
	"regexp"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	commonvalidation "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common/validation"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
)

// artifactDigestPattern is the "<algorithm>:<checksum>" form Flux's schema
// requires of status.artifact.digest.
var artifactDigestPattern = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)

var statusPath = field.NewPath("status")

// ValidateGitRepositoryStatusUpdate checks a write to the status subresource.
func ValidateGitRepositoryStatusUpdate(newObj, oldObj *source.GitRepository) field.ErrorList {
	st := &newObj.Status
	errs := validateStatusUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, st.Conditions, st.Artifact)
	for i, a := range st.IncludedArtifacts {
		if a != nil {
			errs = append(errs, validateArtifact(a, statusPath.Child("includedArtifacts").Index(i))...)
		}
	}
	if m := st.SourceVerificationMode; m != nil {
		errs = append(errs, commonvalidation.ValidateOptionalEnum(string(*m), statusPath.Child("sourceVerificationMode"), gitVerificationModes...)...)
	}
	return errs
}

// ValidateOCIRepositoryStatusUpdate checks a write to the status subresource.
func ValidateOCIRepositoryStatusUpdate(newObj, oldObj *source.OCIRepository) field.ErrorList {
	st := &newObj.Status
	errs := validateStatusUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, st.Conditions, st.Artifact)
	if ls := st.ObservedLayerSelector; ls != nil {
		errs = append(errs, commonvalidation.ValidateOptionalEnum(ls.Operation,
			statusPath.Child("observedLayerSelector", "operation"), layerOperations...)...)
	}
	return errs
}

// ValidateHelmRepositoryStatusUpdate checks a write to the status subresource.
func ValidateHelmRepositoryStatusUpdate(newObj, oldObj *source.HelmRepository) field.ErrorList {
	return validateStatusUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, newObj.Status.Conditions, newObj.Status.Artifact)
}

// ValidateHelmChartStatusUpdate checks a write to the status subresource.
func ValidateHelmChartStatusUpdate(newObj, oldObj *source.HelmChart) field.ErrorList {
	return validateStatusUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, newObj.Status.Conditions, newObj.Status.Artifact)
}

// ValidateBucketStatusUpdate checks a write to the status subresource.
func ValidateBucketStatusUpdate(newObj, oldObj *source.Bucket) field.ErrorList {
	return validateStatusUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, newObj.Status.Conditions, newObj.Status.Artifact)
}

// ValidateExternalArtifactStatusUpdate checks a write to the status
// subresource.
func ValidateExternalArtifactStatusUpdate(newObj, oldObj *source.ExternalArtifact) field.ErrorList {
	return validateStatusUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, newObj.Status.Conditions, newObj.Status.Artifact)
}

func validateStatusUpdate(newMeta, oldMeta *metav1.ObjectMeta, conditions []metav1.Condition, artifact *common.Artifact) field.ErrorList {
	errs := commonvalidation.ValidateObjectMetaUpdate(newMeta, oldMeta, metadataPath)
	errs = append(errs, metav1validation.ValidateConditions(conditions, statusPath.Child("conditions"))...)
	if artifact != nil {
		errs = append(errs, validateArtifact(artifact, statusPath.Child("artifact"))...)
	}
	return errs
}

// validateArtifact requires what Flux's schema requires of an artifact:
// path, url, revision, lastUpdateTime and a well-formed digest.
func validateArtifact(a *common.Artifact, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if a.Path == "" {
		errs = append(errs, field.Required(fld.Child("path"), ""))
	}
	if a.URL == "" {
		errs = append(errs, field.Required(fld.Child("url"), ""))
	}
	if a.Revision == "" {
		errs = append(errs, field.Required(fld.Child("revision"), ""))
	}
	switch {
	case a.Digest == "":
		errs = append(errs, field.Required(fld.Child("digest"), "in the form <algorithm>:<checksum>"))
	case !artifactDigestPattern.MatchString(a.Digest):
		errs = append(errs, field.Invalid(fld.Child("digest"), a.Digest, "must be in the form <algorithm>:<checksum>"))
	}
	if a.LastUpdateTime.IsZero() {
		errs = append(errs, field.Required(fld.Child("lastUpdateTime"), ""))
	}
	return errs
}

// Package validation checks image.toolkit.fluxcd.io objects the way Flux's
// CRD schemas (enums, lengths, patterns and CEL rules) do, plus the policy
// choice the controller insists on.
package validation

import (
	"regexp"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common/validation"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image"
)

// Limits from Flux's CRD schemas.
const (
	maxExclusionListItems    = 25
	maxServiceAccountNameLen = 253
)

// refspecPattern rejects refspecs that force-update (+) or delete (:dst).
var refspecPattern = regexp.MustCompile(`^$|^[^+:]`)

// ValidateImageRepository checks a new ImageRepository.
func ValidateImageRepository(obj *image.ImageRepository) field.ErrorList {
	errs := validation.ValidateObjectMeta(&obj.ObjectMeta, field.NewPath("metadata"))
	return append(errs, validateImageRepositorySpec(&obj.Spec, field.NewPath("spec"))...)
}

// ValidateImageRepositoryUpdate checks a change to an ImageRepository.
func ValidateImageRepositoryUpdate(newObj, oldObj *image.ImageRepository) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, field.NewPath("metadata"))
	return append(errs, validateImageRepositorySpec(&newObj.Spec, field.NewPath("spec"))...)
}

// ValidateImageRepositoryStatusUpdate checks a write to the status.
func ValidateImageRepositoryStatusUpdate(newObj, oldObj *image.ImageRepository) field.ErrorList {
	return validateStatusUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, newObj.Status.Conditions)
}

// ValidateImagePolicy checks a new ImagePolicy.
func ValidateImagePolicy(obj *image.ImagePolicy) field.ErrorList {
	errs := validation.ValidateObjectMeta(&obj.ObjectMeta, field.NewPath("metadata"))
	return append(errs, validateImagePolicySpec(&obj.Spec, field.NewPath("spec"))...)
}

// ValidateImagePolicyUpdate checks a change to an ImagePolicy.
func ValidateImagePolicyUpdate(newObj, oldObj *image.ImagePolicy) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, field.NewPath("metadata"))
	return append(errs, validateImagePolicySpec(&newObj.Spec, field.NewPath("spec"))...)
}

// ValidateImagePolicyStatusUpdate checks a write to the status.
func ValidateImagePolicyStatusUpdate(newObj, oldObj *image.ImagePolicy) field.ErrorList {
	return validateStatusUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, newObj.Status.Conditions)
}

// ValidateImageUpdateAutomation checks a new ImageUpdateAutomation.
func ValidateImageUpdateAutomation(obj *image.ImageUpdateAutomation) field.ErrorList {
	errs := validation.ValidateObjectMeta(&obj.ObjectMeta, field.NewPath("metadata"))
	return append(errs, validateImageUpdateAutomationSpec(&obj.Spec, field.NewPath("spec"))...)
}

// ValidateImageUpdateAutomationUpdate checks a change to an
// ImageUpdateAutomation.
func ValidateImageUpdateAutomationUpdate(newObj, oldObj *image.ImageUpdateAutomation) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, field.NewPath("metadata"))
	return append(errs, validateImageUpdateAutomationSpec(&newObj.Spec, field.NewPath("spec"))...)
}

// ValidateImageUpdateAutomationStatusUpdate checks a write to the status.
func ValidateImageUpdateAutomationStatusUpdate(newObj, oldObj *image.ImageUpdateAutomation) field.ErrorList {
	return validateStatusUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, newObj.Status.Conditions)
}

func validateImageRepositorySpec(spec *image.ImageRepositorySpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.Image == "" {
		errs = append(errs, field.Required(fld.Child("image"), "the image repository to scan, e.g. ghcr.io/org/app"))
	}
	errs = append(errs, validation.ValidateInterval(spec.Interval, fld.Child("interval"))...)
	errs = append(errs, validation.ValidateOptionalDuration(spec.Timeout, fld.Child("timeout"))...)
	errs = append(errs, validation.ValidateOptionalLocalObjectReference(spec.SecretRef, fld.Child("secretRef"))...)
	errs = append(errs, validation.ValidateOptionalLocalObjectReference(spec.ProxySecretRef, fld.Child("proxySecretRef"))...)
	errs = append(errs, validation.ValidateOptionalLocalObjectReference(spec.CertSecretRef, fld.Child("certSecretRef"))...)
	if len(spec.ServiceAccountName) > maxServiceAccountNameLen {
		errs = append(errs, field.TooLong(fld.Child("serviceAccountName"), spec.ServiceAccountName, maxServiceAccountNameLen))
	}
	errs = append(errs, validateAccessFrom(spec.AccessFrom, fld.Child("accessFrom"))...)
	if len(spec.ExclusionList) > maxExclusionListItems {
		errs = append(errs, field.TooMany(fld.Child("exclusionList"), len(spec.ExclusionList), maxExclusionListItems))
	}
	return append(errs, validation.ValidateOptionalEnum(spec.Provider, fld.Child("provider"), image.RegistryProviders...)...)
}

func validateAccessFrom(acl *common.AccessFrom, fld *field.Path) field.ErrorList {
	if acl != nil && acl.NamespaceSelectors == nil {
		return field.ErrorList{field.Required(fld.Child("namespaceSelectors"), "")}
	}
	return nil
}

func validateImagePolicySpec(spec *image.ImagePolicySpec, fld *field.Path) field.ErrorList {
	errs := validation.ValidateNamespacedObjectReference(spec.ImageRepositoryRef, fld.Child("imageRepositoryRef"))
	errs = append(errs, validatePolicyChoice(&spec.Policy, fld.Child("policy"))...)
	errs = append(errs, validation.ValidateOptionalEnum(string(spec.DigestReflectionPolicy),
		fld.Child("digestReflectionPolicy"), image.ReflectionPolicies...)...)
	errs = append(errs, validation.ValidateOptionalDuration(spec.Interval, fld.Child("interval"))...)
	always := spec.DigestReflectionPolicy == image.ReflectAlways
	switch {
	case spec.Interval != nil && !always:
		errs = append(errs, field.Forbidden(fld.Child("interval"),
			"spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'"))
	case spec.Interval == nil && always:
		errs = append(errs, field.Required(fld.Child("interval"),
			"spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'"))
	}
	return errs
}

// validatePolicyChoice requires exactly one ordering policy.
func validatePolicyChoice(p *image.ImagePolicyChoice, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	set := 0
	if p.SemVer != nil {
		set++
		if p.SemVer.Range == "" {
			errs = append(errs, field.Required(fld.Child("semver", "range"), "a semver range, e.g. >=1.0.0"))
		}
	}
	if p.Alphabetical != nil {
		set++
		errs = append(errs, validation.ValidateOptionalEnum(p.Alphabetical.Order, fld.Child("alphabetical", "order"),
			image.OrderAscending, image.OrderDescending)...)
	}
	if p.Numerical != nil {
		set++
		errs = append(errs, validation.ValidateOptionalEnum(p.Numerical.Order, fld.Child("numerical", "order"),
			image.OrderAscending, image.OrderDescending)...)
	}
	switch {
	case set == 0:
		errs = append(errs, field.Required(fld, "exactly one of semver, alphabetical or numerical must be set"))
	case set > 1:
		errs = append(errs, field.Forbidden(fld, "only one of semver, alphabetical or numerical may be set"))
	}
	return errs
}

func validateImageUpdateAutomationSpec(spec *image.ImageUpdateAutomationSpec, fld *field.Path) field.ErrorList {
	ref, rfld := &spec.SourceRef, fld.Child("sourceRef")
	errs := validation.ValidateEnum(ref.Kind, rfld.Child("kind"), image.GitRepositoryKind)
	errs = append(errs, validation.ValidateName(ref.Name, rfld.Child("name"))...)
	errs = append(errs, validation.ValidateNamespaceName(ref.Namespace, rfld.Child("namespace"))...)
	errs = append(errs, validateGitSpec(spec.GitSpec, fld.Child("git"))...)
	errs = append(errs, validation.ValidateInterval(spec.Interval, fld.Child("interval"))...)
	errs = append(errs, metav1validation.ValidateLabelSelector(spec.PolicySelector,
		metav1validation.LabelSelectorValidationOptions{}, fld.Child("policySelector"))...)
	if spec.Update != nil {
		errs = append(errs, validation.ValidateOptionalEnum(string(spec.Update.Strategy),
			fld.Child("update", "strategy"), string(image.UpdateStrategySetters))...)
	}
	return errs
}

func validateGitSpec(git *image.GitSpec, fld *field.Path) field.ErrorList {
	if git == nil {
		return nil
	}
	var errs field.ErrorList
	cfld := fld.Child("commit")
	if git.Commit.Author.Email == "" {
		errs = append(errs, field.Required(cfld.Child("author", "email"), ""))
	}
	if key := git.Commit.SigningKey; key != nil {
		kfld := cfld.Child("signingKey")
		errs = append(errs, validation.ValidateLocalObjectReference(key.SecretRef, kfld.Child("secretRef"))...)
		errs = append(errs, validation.ValidateOptionalEnum(string(key.Type), kfld.Child("type"),
			string(image.SigningKeyTypeGPG), string(image.SigningKeyTypeSSH))...)
	}
	if push := git.Push; push != nil && !refspecPattern.MatchString(push.Refspec) {
		errs = append(errs, field.Invalid(fld.Child("push", "refspec"), push.Refspec,
			"refspecs that force-update (+) or delete (:dst) references are not supported"))
	}
	return errs
}

// validateStatusUpdate checks the metadata change and the conditions of a
// status write.
func validateStatusUpdate(newMeta, oldMeta *metav1.ObjectMeta, conditions []metav1.Condition) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(newMeta, oldMeta, field.NewPath("metadata"))
	return append(errs, metav1validation.ValidateConditions(conditions, field.NewPath("status", "conditions"))...)
}

// Package validation checks Kustomizations the way Flux's CRD schema does
// (required fields, enums, lengths, CEL rules), plus the checks a typed
// server can make on top: durations, object names and selectors.
package validation

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	commonvalidation "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common/validation"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
)

// Length limits from Flux's CRD schema.
const (
	maxNamePrefixLength = 200
	maxNameSuffixLength = 200
)

var (
	sourceKinds = []string{
		kustomize.OCIRepositoryKind,
		kustomize.GitRepositoryKind,
		kustomize.BucketKind,
		kustomize.ExternalArtifactKind,
	}
	deletionPolicies = []string{
		kustomize.DeletionPolicyMirrorPrune,
		kustomize.DeletionPolicyDelete,
		kustomize.DeletionPolicyWaitForTermination,
		kustomize.DeletionPolicyOrphan,
	}
	substituteStrategies = []string{kustomize.SubstituteWithVariables, kustomize.SubstituteAlways}
	substituteKinds      = []string{"Secret", "ConfigMap"}
	buildMetadataOptions = []string{
		kustomize.BuildMetadataOriginAnnotations,
		kustomize.BuildMetadataTransformerAnnotations,
	}
	decryptionProviders = []string{"sops"}
)

// ValidateKustomization returns every problem of a new Kustomization.
func ValidateKustomization(obj *kustomize.Kustomization) field.ErrorList {
	errs := commonvalidation.ValidateObjectMeta(&obj.ObjectMeta, field.NewPath("metadata"))
	errs = append(errs, validateSpec(&obj.Spec, field.NewPath("spec"))...)
	return append(errs, validateExpressions(&obj.Spec, nil, field.NewPath("spec"))...)
}

// ValidateKustomizationUpdate returns every problem of an update. Flux's
// schema has no immutable spec fields, so the new spec is checked as a
// whole, except CEL expressions the old object already had.
func ValidateKustomizationUpdate(newObj, oldObj *kustomize.Kustomization) field.ErrorList {
	errs := commonvalidation.ValidateObjectMetaUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, field.NewPath("metadata"))
	errs = append(errs, validateSpec(&newObj.Spec, field.NewPath("spec"))...)
	return append(errs, validateExpressions(&newObj.Spec, &oldObj.Spec, field.NewPath("spec"))...)
}

func validateSpec(spec *kustomize.KustomizationSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, commonvalidation.ValidateNamespacedObjectKindReference(spec.SourceRef, fld.Child("sourceRef"), sourceKinds...)...)
	errs = append(errs, commonvalidation.ValidateInterval(spec.Interval, fld.Child("interval"))...)
	errs = append(errs, commonvalidation.ValidateOptionalDuration(spec.RetryInterval, fld.Child("retryInterval"))...)
	errs = append(errs, commonvalidation.ValidateOptionalDuration(spec.Timeout, fld.Child("timeout"))...)
	errs = append(errs, commonvalidation.ValidateKubeConfigReference(spec.KubeConfig, fld.Child("kubeConfig"))...)
	errs = append(errs, commonvalidation.ValidateOptionalEnum(spec.DeletionPolicy, fld.Child("deletionPolicy"), deletionPolicies...)...)
	errs = append(errs, commonvalidation.ValidateNamespaceName(spec.TargetNamespace, fld.Child("targetNamespace"))...)
	errs = append(errs, validateOptionalName(spec.ServiceAccountName, fld.Child("serviceAccountName"))...)
	errs = append(errs, validateMaxLength(spec.NamePrefix, maxNamePrefixLength, fld.Child("namePrefix"))...)
	errs = append(errs, validateMaxLength(spec.NameSuffix, maxNameSuffixLength, fld.Child("nameSuffix"))...)
	errs = append(errs, validateDependsOn(spec.DependsOn, fld.Child("dependsOn"))...)
	errs = append(errs, validateDecryption(spec.Decryption, fld.Child("decryption"))...)
	errs = append(errs, validatePostBuild(spec.PostBuild, fld.Child("postBuild"))...)
	for i, hc := range spec.HealthChecks {
		errs = append(errs, commonvalidation.ValidateNamespacedObjectKindReference(hc, fld.Child("healthChecks").Index(i))...)
	}
	errs = append(errs, ValidateCustomHealthChecks(spec.HealthCheckExprs, fld.Child("healthCheckExprs"))...)
	errs = append(errs, ValidatePatches(spec.Patches, fld.Child("patches"))...)
	errs = append(errs, ValidateImages(spec.Images, fld.Child("images"))...)
	for i, opt := range spec.BuildMetadata {
		errs = append(errs, commonvalidation.ValidateEnum(opt, fld.Child("buildMetadata").Index(i), buildMetadataOptions...)...)
	}
	for i, rule := range spec.Ignore {
		p := fld.Child("ignore").Index(i)
		if rule.Paths == nil {
			errs = append(errs, field.Required(p.Child("paths"), "list the JSON pointers to ignore"))
		}
		errs = append(errs, ValidateSelector(rule.Target, p.Child("target"))...)
	}
	return errs
}

func validateDependsOn(deps []kustomize.DependencyReference, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, dep := range deps {
		ref := common.NamespacedObjectReference{Name: dep.Name, Namespace: dep.Namespace}
		errs = append(errs, commonvalidation.ValidateNamespacedObjectReference(ref, fld.Index(i))...)
		if dep.Kind != "" {
			errs = append(errs, commonvalidation.ValidateEnum(dep.Kind, fld.Index(i).Child("kind"), kustomize.KustomizationKind, "HelmRelease")...)
		}
	}
	return errs
}

func validateDecryption(d *kustomize.Decryption, fld *field.Path) field.ErrorList {
	if d == nil {
		return nil
	}
	errs := commonvalidation.ValidateEnum(d.Provider, fld.Child("provider"), decryptionProviders...)
	errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(d.SecretRef, fld.Child("secretRef"))...)
	return append(errs, validateOptionalName(d.ServiceAccountName, fld.Child("serviceAccountName"))...)
}

func validatePostBuild(pb *kustomize.PostBuild, fld *field.Path) field.ErrorList {
	if pb == nil {
		return nil
	}
	errs := commonvalidation.ValidateOptionalEnum(pb.SubstituteStrategy, fld.Child("substituteStrategy"), substituteStrategies...)
	for i, ref := range pb.SubstituteFrom {
		p := fld.Child("substituteFrom").Index(i)
		errs = append(errs, commonvalidation.ValidateEnum(ref.Kind, p.Child("kind"), substituteKinds...)...)
		errs = append(errs, commonvalidation.ValidateName(ref.Name, p.Child("name"))...)
	}
	return errs
}

func validateOptionalName(name string, fld *field.Path) field.ErrorList {
	if name == "" {
		return nil
	}
	return commonvalidation.ValidateName(name, fld)
}

func validateMaxLength(value string, limit int, fld *field.Path) field.ErrorList {
	if len(value) > limit {
		return field.ErrorList{field.TooLong(fld, value, limit)}
	}
	return nil
}

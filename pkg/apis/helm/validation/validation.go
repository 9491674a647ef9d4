// Package validation checks HelmReleases the way Flux's CRD schema does
// (required fields, enums, lengths, patterns, CEL rules), plus the checks a
// typed server can make on top: durations, object names and selectors.
package validation

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	commonvalidation "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common/validation"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	kustomizevalidation "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/validation"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/celhealth"
)

// Length limits from Flux's CRD schema.
const (
	maxReleaseNameLength = 53
	maxChartNameLength   = 2048
)

var (
	chartSourceKinds = []string{helm.HelmRepositoryKind, helm.GitRepositoryKind, helm.BucketKind}
	chartRefKinds    = []string{helm.OCIRepositoryKind, helm.HelmChartKind, helm.ExternalArtifactKind}
	driftModes       = []string{
		string(helm.DriftDetectionEnabled), string(helm.DriftDetectionWarn), string(helm.DriftDetectionDisabled),
	}
	postRenderStrategies = []string{helm.PostRenderNoHooks, helm.PostRenderCombined, helm.PostRenderSeparate}
	waitStrategies       = []string{helm.WaitStrategyPoller, helm.WaitStrategyLegacy}
	reconcileStrategies  = []string{helm.ReconcileStrategyChartVersion, helm.ReconcileStrategyRevision}
	verifyProviders      = []string{helm.VerifyProviderCosign, helm.VerifyProviderNotation}
)

// ValidateHelmRelease returns every problem of a new HelmRelease.
func ValidateHelmRelease(obj *helm.HelmRelease) field.ErrorList {
	errs := commonvalidation.ValidateObjectMeta(&obj.ObjectMeta, field.NewPath("metadata"))
	errs = append(errs, validateSpec(&obj.Spec, field.NewPath("spec"))...)
	return append(errs, validateExpressions(&obj.Spec, nil, field.NewPath("spec"))...)
}

// ValidateHelmReleaseUpdate returns every problem of an update. Flux's
// schema has no immutable spec fields, so the new spec is checked as a whole.
func ValidateHelmReleaseUpdate(newObj, oldObj *helm.HelmRelease) field.ErrorList {
	errs := commonvalidation.ValidateObjectMetaUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, field.NewPath("metadata"))
	errs = append(errs, validateSpec(&newObj.Spec, field.NewPath("spec"))...)
	return append(errs, validateExpressions(&newObj.Spec, &oldObj.Spec, field.NewPath("spec"))...)
}

// validateExpressions compiles the CEL expressions (healthCheckExprs,
// dependsOn[].readyExpr) as for Kustomizations: refused here naming the
// field, except those the stored object already had (old, nil on create),
// so that an object stored before this check can still be updated.
func validateExpressions(spec, old *helm.HelmReleaseSpec, fld *field.Path) field.ErrorList {
	var oldSpec helm.HelmReleaseSpec
	if old != nil {
		oldSpec = *old
	}
	errs := kustomizevalidation.ValidateHealthCheckExprs(spec.HealthCheckExprs, oldSpec.HealthCheckExprs, fld.Child("healthCheckExprs"))
	known := map[string]bool{}
	for _, d := range oldSpec.DependsOn {
		known[d.ReadyExpr] = true
	}
	for i, d := range spec.DependsOn {
		if d.ReadyExpr == "" || known[d.ReadyExpr] {
			continue
		}
		if _, err := celhealth.CompileReadyExpr(d.ReadyExpr); err != nil {
			errs = append(errs, field.Invalid(fld.Child("dependsOn").Index(i).Child("readyExpr"), d.ReadyExpr,
				fmt.Sprintf("the CEL expression over self and dep does not compile: %v", err)))
		}
	}
	return errs
}

func validateSpec(spec *helm.HelmReleaseSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateChartSource(spec, fld)...)
	errs = append(errs, commonvalidation.ValidateInterval(spec.Interval, fld.Child("interval"))...)
	errs = append(errs, commonvalidation.ValidateOptionalDuration(spec.Timeout, fld.Child("timeout"))...)
	errs = append(errs, commonvalidation.ValidateKubeConfigReference(spec.KubeConfig, fld.Child("kubeConfig"))...)
	errs = append(errs, validateMaxLength(spec.ReleaseName, maxReleaseNameLength, fld.Child("releaseName"))...)
	errs = append(errs, commonvalidation.ValidateNamespaceName(spec.TargetNamespace, fld.Child("targetNamespace"))...)
	errs = append(errs, commonvalidation.ValidateNamespaceName(spec.StorageNamespace, fld.Child("storageNamespace"))...)
	errs = append(errs, validateOptionalName(spec.ServiceAccountName, fld.Child("serviceAccountName"))...)
	for i, dep := range spec.DependsOn {
		ref := common.NamespacedObjectReference{Name: dep.Name, Namespace: dep.Namespace}
		errs = append(errs, commonvalidation.ValidateNamespacedObjectReference(ref, fld.Child("dependsOn").Index(i))...)
		if dep.Kind != "" {
			errs = append(errs, commonvalidation.ValidateEnum(dep.Kind, fld.Child("dependsOn").Index(i).Child("kind"), helm.HelmReleaseKind, "Kustomization")...)
		}
	}
	errs = append(errs, validateDriftDetection(spec.DriftDetection, fld.Child("driftDetection"))...)
	errs = append(errs, validateInstall(spec.Install, fld.Child("install"))...)
	errs = append(errs, validateUpgrade(spec.Upgrade, fld.Child("upgrade"))...)
	errs = append(errs, validateTest(spec.Test, fld.Child("test"))...)
	errs = append(errs, validateRollback(spec.Rollback, fld.Child("rollback"))...)
	errs = append(errs, validateUninstall(spec.Uninstall, fld.Child("uninstall"))...)
	errs = append(errs, validateValuesFrom(spec.ValuesFrom, fld.Child("valuesFrom"))...)
	errs = append(errs, validateValues(spec.Values, fld.Child("values"))...)
	for i, pr := range spec.PostRenderers {
		if pr.Kustomize == nil {
			continue
		}
		kf := fld.Child("postRenderers").Index(i).Child("kustomize")
		errs = append(errs, kustomizevalidation.ValidatePatches(pr.Kustomize.Patches, kf.Child("patches"))...)
		errs = append(errs, kustomizevalidation.ValidateImages(pr.Kustomize.Images, kf.Child("images"))...)
	}
	errs = append(errs, commonvalidation.ValidateOptionalEnum(spec.PostRenderStrategy, fld.Child("postRenderStrategy"), postRenderStrategies...)...)
	if spec.WaitStrategy != nil {
		errs = append(errs, commonvalidation.ValidateEnum(spec.WaitStrategy.Name, fld.Child("waitStrategy", "name"), waitStrategies...)...)
	}
	return append(errs, kustomizevalidation.ValidateCustomHealthChecks(spec.HealthCheckExprs, fld.Child("healthCheckExprs"))...)
}

// validateChartSource enforces Flux's CEL rule that exactly one of chart and
// chartRef is set, and checks whichever is.
func validateChartSource(spec *helm.HelmReleaseSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case spec.Chart == nil && spec.ChartRef == nil:
		errs = append(errs, field.Required(fld.Child("chart"), "either chart or chartRef must be set"))
	case spec.Chart != nil && spec.ChartRef != nil:
		errs = append(errs, field.Forbidden(fld.Child("chartRef"), "either chart or chartRef must be set, not both"))
	}
	if spec.ChartRef != nil {
		errs = append(errs, commonvalidation.ValidateNamespacedObjectKindReference(*spec.ChartRef, fld.Child("chartRef"), chartRefKinds...)...)
	}
	if spec.Chart != nil {
		errs = append(errs, validateChartTemplate(&spec.Chart.Spec, fld.Child("chart", "spec"))...)
	}
	return errs
}

func validateChartTemplate(spec *helm.HelmChartTemplateSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case spec.Chart == "":
		errs = append(errs, field.Required(fld.Child("chart"), "the chart name or its path in the source is required"))
	case len(spec.Chart) > maxChartNameLength:
		errs = append(errs, field.TooLong(fld.Child("chart"), spec.Chart, maxChartNameLength))
	}
	errs = append(errs, commonvalidation.ValidateNamespacedObjectKindReference(spec.SourceRef, fld.Child("sourceRef"), chartSourceKinds...)...)
	errs = append(errs, commonvalidation.ValidateOptionalDuration(spec.Interval, fld.Child("interval"))...)
	errs = append(errs, commonvalidation.ValidateOptionalEnum(spec.ReconcileStrategy, fld.Child("reconcileStrategy"), reconcileStrategies...)...)
	if spec.Verify != nil {
		vf := fld.Child("verify")
		errs = append(errs, commonvalidation.ValidateEnum(spec.Verify.Provider, vf.Child("provider"), verifyProviders...)...)
		errs = append(errs, commonvalidation.ValidateOptionalLocalObjectReference(spec.Verify.SecretRef, vf.Child("secretRef"))...)
	}
	return errs
}

func validateDriftDetection(dd *helm.DriftDetection, fld *field.Path) field.ErrorList {
	if dd == nil {
		return nil
	}
	errs := commonvalidation.ValidateOptionalEnum(string(dd.Mode), fld.Child("mode"), driftModes...)
	for i, rule := range dd.Ignore {
		rf := fld.Child("ignore").Index(i)
		if rule.Paths == nil {
			errs = append(errs, field.Required(rf.Child("paths"), "list the JSON pointers to ignore"))
		}
		errs = append(errs, kustomizevalidation.ValidateSelector(rule.Target, rf.Child("target"))...)
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

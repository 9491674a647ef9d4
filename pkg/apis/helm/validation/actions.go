package validation

import (
	"bytes"
	"encoding/json"
	"regexp"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	commonvalidation "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common/validation"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
)

// Limits and patterns of valuesFrom entries, from Flux's CRD schema.
const (
	maxValuesKeyLength  = 253
	maxTargetPathLength = 250
)

var (
	valuesKeyPattern  = regexp.MustCompile(`^[\-._a-zA-Z0-9]+$`)
	targetPathPattern = regexp.MustCompile(`^([a-zA-Z0-9_\-.\\\/]|\[[0-9]{1,5}\])+$`)

	crdsPolicies = []string{string(helm.CRDsSkip), string(helm.CRDsCreate), string(helm.CRDsCreateReplace)}
	remediations = []string{
		string(helm.RollbackRemediationStrategy), string(helm.UninstallRemediationStrategy),
	}
	actionStrategies     = []string{helm.RemediateOnFailureStrategy, helm.RetryOnFailureStrategy}
	serverSideApplyModes = []string{helm.ServerSideApplyEnabled, helm.ServerSideApplyDisabled, helm.ServerSideApplyAuto}
	chartNameChanges     = []string{helm.ChartNameChangeReinstall, helm.ChartNameChangeInPlaceUpdate}
	deletionPropagations = []string{
		helm.DeletionPropagationBackground, helm.DeletionPropagationForeground, helm.DeletionPropagationOrphan,
	}
	valuesKinds = []string{"Secret", "ConfigMap"}
)

func validateInstall(in *helm.Install, fld *field.Path) field.ErrorList {
	if in == nil {
		return nil
	}
	errs := commonvalidation.ValidateOptionalDuration(in.Timeout, fld.Child("timeout"))
	errs = append(errs, commonvalidation.ValidateOptionalEnum(string(in.CRDs), fld.Child("crds"), crdsPolicies...)...)
	if in.Strategy != nil {
		errs = append(errs, validateActionStrategy(in.Strategy.Name, in.Strategy.RetryInterval, fld.Child("strategy"))...)
	}
	return errs
}

func validateUpgrade(up *helm.Upgrade, fld *field.Path) field.ErrorList {
	if up == nil {
		return nil
	}
	errs := commonvalidation.ValidateOptionalDuration(up.Timeout, fld.Child("timeout"))
	errs = append(errs, commonvalidation.ValidateOptionalEnum(string(up.CRDs), fld.Child("crds"), crdsPolicies...)...)
	errs = append(errs, commonvalidation.ValidateOptionalEnum(up.ServerSideApply, fld.Child("serverSideApply"), serverSideApplyModes...)...)
	errs = append(errs, commonvalidation.ValidateOptionalEnum(up.ChartNameChangeStrategy, fld.Child("chartNameChangeStrategy"), chartNameChanges...)...)
	if up.Remediation != nil && up.Remediation.Strategy != nil {
		errs = append(errs, commonvalidation.ValidateEnum(string(*up.Remediation.Strategy), fld.Child("remediation", "strategy"), remediations...)...)
	}
	if up.Strategy != nil {
		errs = append(errs, validateActionStrategy(up.Strategy.Name, up.Strategy.RetryInterval, fld.Child("strategy"))...)
	}
	return errs
}

// validateActionStrategy checks an install or upgrade strategy: a known
// name, and a retry interval only with RetryOnFailure.
func validateActionStrategy(name string, retryInterval *common.Duration, fld *field.Path) field.ErrorList {
	errs := commonvalidation.ValidateEnum(name, fld.Child("name"), actionStrategies...)
	errs = append(errs, commonvalidation.ValidateOptionalDuration(retryInterval, fld.Child("retryInterval"))...)
	if retryInterval != nil && name == helm.RemediateOnFailureStrategy {
		errs = append(errs, field.Forbidden(fld.Child("retryInterval"), "may only be set when name is RetryOnFailure"))
	}
	return errs
}

func validateTest(t *helm.Test, fld *field.Path) field.ErrorList {
	if t == nil {
		return nil
	}
	errs := commonvalidation.ValidateOptionalDuration(t.Timeout, fld.Child("timeout"))
	if t.Filters != nil {
		for i, f := range *t.Filters {
			if f.Name == "" {
				errs = append(errs, field.Required(fld.Child("filters").Index(i).Child("name"), "the test name is required"))
			} else {
				errs = append(errs, validateMaxLength(f.Name, commonvalidation.MaxNameLength, fld.Child("filters").Index(i).Child("name"))...)
			}
		}
	}
	return errs
}

func validateRollback(rb *helm.Rollback, fld *field.Path) field.ErrorList {
	if rb == nil {
		return nil
	}
	errs := commonvalidation.ValidateOptionalDuration(rb.Timeout, fld.Child("timeout"))
	return append(errs, commonvalidation.ValidateOptionalEnum(rb.ServerSideApply, fld.Child("serverSideApply"), serverSideApplyModes...)...)
}

func validateUninstall(un *helm.Uninstall, fld *field.Path) field.ErrorList {
	if un == nil {
		return nil
	}
	errs := commonvalidation.ValidateOptionalDuration(un.Timeout, fld.Child("timeout"))
	if un.DeletionPropagation != nil {
		errs = append(errs, commonvalidation.ValidateEnum(*un.DeletionPropagation, fld.Child("deletionPropagation"), deletionPropagations...)...)
	}
	return errs
}

func validateValuesFrom(refs []helm.ValuesReference, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ref := range refs {
		rf := fld.Index(i)
		errs = append(errs, commonvalidation.ValidateEnum(ref.Kind, rf.Child("kind"), valuesKinds...)...)
		errs = append(errs, commonvalidation.ValidateName(ref.Name, rf.Child("name"))...)
		errs = append(errs, validatePattern(ref.ValuesKey, maxValuesKeyLength, valuesKeyPattern, rf.Child("valuesKey"))...)
		errs = append(errs, validatePattern(ref.TargetPath, maxTargetPathLength, targetPathPattern, rf.Child("targetPath"))...)
	}
	return errs
}

func validatePattern(value string, maxLen int, pattern *regexp.Regexp, fld *field.Path) field.ErrorList {
	if value == "" {
		return nil
	}
	if len(value) > maxLen {
		return field.ErrorList{field.TooLong(fld, value, maxLen)}
	}
	if !pattern.MatchString(value) {
		return field.ErrorList{field.Invalid(fld, value, "must match "+pattern.String())}
	}
	return nil
}

// validateValues requires Helm values to be a JSON object, the only shape
// Helm can merge; anything else would fail every reconciliation.
func validateValues(values *common.JSON, fld *field.Path) field.ErrorList {
	if values == nil || len(values.Raw) == 0 {
		return nil
	}
	trimmed := bytes.TrimSpace(values.Raw)
	if !json.Valid(trimmed) {
		return field.ErrorList{field.Invalid(fld, "<raw>", "must be valid JSON")}
	}
	if bytes.Equal(trimmed, []byte("null")) || trimmed[0] == '{' {
		return nil
	}
	return field.ErrorList{field.Invalid(fld, "<raw>", "must be an object of chart values")}
}

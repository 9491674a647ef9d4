package validation

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/celhealth"
)

// validateExpressions compiles the CEL expressions of a Kustomization, which
// Flux's CRD leaves to the controller: an expression that cannot work is
// refused here, naming its field, instead of stalling the object later. On
// update (old set) an expression the old object already had is not checked
// again, so that an object stored before this check can still be updated
// (its finalizer removed, say); the worker stalls on it instead.
func validateExpressions(spec, old *kustomize.KustomizationSpec, fld *field.Path) field.ErrorList {
	var oldSpec kustomize.KustomizationSpec
	if old != nil {
		oldSpec = *old
	}
	errs := ValidateHealthCheckExprs(spec.HealthCheckExprs, oldSpec.HealthCheckExprs, fld.Child("healthCheckExprs"))
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

// ValidateHealthCheckExprs compiles every health check expression that old
// (the stored object's, nil on create) does not have, and refuses two
// entries for the same group and kind unless old had such a pair too.
func ValidateHealthCheckExprs(checks, old []common.CustomHealthCheck, fld *field.Path) field.ErrorList {
	known := map[string]bool{}
	for _, hc := range old {
		known[hc.Current], known[hc.InProgress], known[hc.Failed] = true, true, true
	}
	var errs field.ErrorList
	for i, hc := range checks {
		for _, x := range []struct{ name, expr string }{
			{celhealth.FieldCurrent, hc.Current},
			{celhealth.FieldInProgress, hc.InProgress},
			{celhealth.FieldFailed, hc.Failed},
		} {
			if x.expr == "" || known[x.expr] {
				continue // an empty current is refused by ValidateCustomHealthChecks
			}
			if err := celhealth.ValidateExpr(x.expr); err != nil {
				errs = append(errs, field.Invalid(fld.Index(i).Child(x.name), x.expr,
					fmt.Sprintf("the CEL expression does not compile: %v", err)))
			}
		}
	}
	if dup := duplicateEntry(checks); dup != nil && duplicateEntry(old) == nil {
		errs = append(errs, field.Invalid(fld.Index(dup.Index).Child("kind"), checks[dup.Index].Kind, dup.Err.Error()))
	}
	return errs
}

// duplicateEntry is the first entry whose group and kind an earlier one
// already covers, or nil.
func duplicateEntry(checks []common.CustomHealthCheck) *celhealth.ExprError {
	// Only the selection matters here: compile with trivial expressions.
	trivial := make([]celhealth.Check, len(checks))
	for i, hc := range checks {
		trivial[i] = celhealth.Check{APIVersion: hc.APIVersion, Kind: hc.Kind, Current: "true"}
	}
	_, err := celhealth.Compile(trivial)
	var e *celhealth.ExprError
	if errors.As(err, &e) && e.Field == "kind" {
		return e
	}
	return nil
}

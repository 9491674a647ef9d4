package validation

import (
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// The checks below cover the shared kustomize types in package common; the
// helm group uses them for HelmRelease post-renderers and health checks.

// ValidatePatches requires a patch document in every patch and well-formed
// target selectors.
func ValidatePatches(patches []common.Patch, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, p := range patches {
		pf := fld.Index(i)
		if p.Patch == "" {
			errs = append(errs, field.Required(pf.Child("patch"), "an inline strategic merge or JSON 6902 patch is required"))
		}
		errs = append(errs, ValidateSelector(p.Target, pf.Child("target"))...)
	}
	return errs
}

// ValidateImages requires the name of the image each entry rewrites.
func ValidateImages(images []common.Image, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, img := range images {
		if img.Name == "" {
			errs = append(errs, field.Required(fld.Index(i).Child("name"), "the image name to match is required"))
		}
	}
	return errs
}

// ValidateSelector accepts nil, or a selector whose label and annotation
// selectors parse as label-selector expressions.
func ValidateSelector(sel *common.Selector, fld *field.Path) field.ErrorList {
	if sel == nil {
		return nil
	}
	var errs field.ErrorList
	if sel.LabelSelector != "" {
		if _, err := labels.Parse(sel.LabelSelector); err != nil {
			errs = append(errs, field.Invalid(fld.Child("labelSelector"), sel.LabelSelector, err.Error()))
		}
	}
	if sel.AnnotationSelector != "" {
		if _, err := labels.Parse(sel.AnnotationSelector); err != nil {
			errs = append(errs, field.Invalid(fld.Child("annotationSelector"), sel.AnnotationSelector, err.Error()))
		}
	}
	return errs
}

// ValidateCustomHealthChecks requires the API version and the Current
// expression of every CEL health check. The expressions themselves are
// compiled by the controller, as in Flux.
func ValidateCustomHealthChecks(checks []common.CustomHealthCheck, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, hc := range checks {
		hf := fld.Index(i)
		if hc.APIVersion == "" {
			errs = append(errs, field.Required(hf.Child("apiVersion"), "the API version of the checked resources is required"))
		}
		if hc.Current == "" {
			errs = append(errs, field.Required(hf.Child("current"), "a CEL expression telling when the resource is ready is required"))
		}
	}
	return errs
}

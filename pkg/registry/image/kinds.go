// Package image declares the image.toolkit.fluxcd.io kinds to the registry.
package image

import (
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/validation"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/registry"
)

var (
	categories = []string{"fluxcd", "fluxcd-images"}
	versions   = []string{"v1", "v1beta2"}
)

// Kinds returns the image kinds.
func Kinds() []*registry.Kind {
	return []*registry.Kind{
		{
			Resource: "imagerepositories", Singular: "imagerepository", ShortNames: []string{"imgrepo"},
			GroupKind: image.Kind("ImageRepository"), Categories: categories, Versions: versions, Reconcilable: true,
			New:                  func() runtime.Object { return &image.ImageRepository{} },
			NewList:              func() runtime.Object { return &image.ImageRepositoryList{} },
			Validate:             registry.Validate(validation.ValidateImageRepository),
			ValidateUpdate:       registry.ValidateUpdate(validation.ValidateImageRepositoryUpdate),
			ValidateStatusUpdate: registry.ValidateUpdate(validation.ValidateImageRepositoryStatusUpdate),
			Columns: append([]registry.Column{
				registry.StringColumn("Image", "The image scanned.", 1,
					registry.Text(func(o *image.ImageRepository) string { return o.Spec.Image })),
				registry.StringColumn("Tags", "Tags found by the last scan.", 1,
					registry.Text(func(o *image.ImageRepository) string {
						if r := o.Status.LastScanResult; r != nil {
							return strconv.Itoa(r.TagCount)
						}
						return ""
					})),
				registry.StringColumn("Last Scan", "When the last scan ran.", 0,
					registry.Text(func(o *image.ImageRepository) string {
						if r := o.Status.LastScanResult; r != nil && !r.ScanTime.IsZero() {
							return r.ScanTime.UTC().Format(time.RFC3339)
						}
						return ""
					})),
			}, registry.StatusColumns()...),
		},
		{
			Resource: "imagepolicies", Singular: "imagepolicy", ShortNames: []string{"imgpol"},
			GroupKind: image.Kind("ImagePolicy"), Categories: categories, Versions: versions, Reconcilable: true,
			New:                  func() runtime.Object { return &image.ImagePolicy{} },
			NewList:              func() runtime.Object { return &image.ImagePolicyList{} },
			Validate:             registry.Validate(validation.ValidateImagePolicy),
			ValidateUpdate:       registry.ValidateUpdate(validation.ValidateImagePolicyUpdate),
			ValidateStatusUpdate: registry.ValidateUpdate(validation.ValidateImagePolicyStatusUpdate),
			// As `flux get image policy`: LATEST IMAGE READY MESSAGE.
			Columns: []registry.Column{
				registry.StringColumn("Latest Image", "The image the policy elected.", 0,
					registry.Text(func(o *image.ImagePolicy) string {
						if r := o.Status.LatestRef; r != nil {
							return r.Name + ":" + r.Tag
						}
						return ""
					})),
				registry.Wide(registry.SuspendedColumn()), registry.ReadyColumn(), registry.MessageColumn(),
			},
		},
		{
			Resource: "imageupdateautomations", Singular: "imageupdateautomation", ShortNames: []string{"iua"},
			GroupKind: image.Kind("ImageUpdateAutomation"), Categories: categories, Versions: versions, Reconcilable: true,
			New:                  func() runtime.Object { return &image.ImageUpdateAutomation{} },
			NewList:              func() runtime.Object { return &image.ImageUpdateAutomationList{} },
			Validate:             registry.Validate(validation.ValidateImageUpdateAutomation),
			ValidateUpdate:       registry.ValidateUpdate(validation.ValidateImageUpdateAutomationUpdate),
			ValidateStatusUpdate: registry.ValidateUpdate(validation.ValidateImageUpdateAutomationStatusUpdate),
			Columns: append([]registry.Column{
				registry.StringColumn("Last Run", "When the automation last ran.", 0,
					registry.Text(func(o *image.ImageUpdateAutomation) string {
						if t := o.Status.LastAutomationRunTime; t != nil {
							return t.UTC().Format("2006-01-02T15:04:05Z")
						}
						return ""
					})),
			}, registry.StatusColumns()...),
		},
	}
}

// Package source declares the source.toolkit.fluxcd.io kinds to the registry.
package source

import (
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/validation"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/registry"
)

var categories = []string{"fluxcd", "fluxcd-sources"}

// withoutUserinfo is a URL as tables show it: credentials written into the
// URL (https://user:token@host/...) are left out, since anyone who may list
// the objects sees the columns. An SSH user name alone is kept.
func withoutUserinfo(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		if _, hasPassword := u.User.Password(); u.Scheme == "ssh" && !hasPassword {
			return raw // ssh://git@host: the user name is no secret
		}
		u.User = nil
		return u.String()
	}
	// Unparseable: drop whatever sits between the scheme and the last '@'.
	if i, j := strings.Index(raw, "://"), strings.LastIndex(raw, "@"); i >= 0 && j > i {
		return raw[:i+3] + raw[j+1:]
	}
	return raw
}

// Kinds returns the source kinds.
func Kinds() []*registry.Kind {
	return []*registry.Kind{
		{
			Resource: "gitrepositories", Singular: "gitrepository", ShortNames: []string{"gitrepo"},
			GroupKind: source.Kind("GitRepository"), Categories: categories, Versions: []string{"v1", "v1beta1"}, Reconcilable: true,
			New:                  func() runtime.Object { return &source.GitRepository{} },
			Artifact:             func(o runtime.Object) *common.Artifact { return o.(*source.GitRepository).Status.Artifact },
			NewList:              func() runtime.Object { return &source.GitRepositoryList{} },
			Validate:             registry.Validate(validation.ValidateGitRepository),
			ValidateUpdate:       registry.ValidateUpdate(validation.ValidateGitRepositoryUpdate),
			ValidateStatusUpdate: registry.ValidateUpdate(validation.ValidateGitRepositoryStatusUpdate),
			Columns: sourceColumns(
				registry.Text(func(o *source.GitRepository) string { return withoutUserinfo(o.Spec.URL) }),
				registry.Text(func(o *source.GitRepository) string { return revision(o.Status.Artifact) })),
		},
		{
			Resource: "ocirepositories", Singular: "ocirepository", ShortNames: []string{"ocirepo"},
			GroupKind: source.Kind("OCIRepository"), Categories: categories, Versions: []string{"v1", "v1beta2"}, Reconcilable: true,
			New:                  func() runtime.Object { return &source.OCIRepository{} },
			Artifact:             func(o runtime.Object) *common.Artifact { return o.(*source.OCIRepository).Status.Artifact },
			NewList:              func() runtime.Object { return &source.OCIRepositoryList{} },
			Validate:             registry.Validate(validation.ValidateOCIRepository),
			ValidateUpdate:       registry.ValidateUpdate(validation.ValidateOCIRepositoryUpdate),
			ValidateStatusUpdate: registry.ValidateUpdate(validation.ValidateOCIRepositoryStatusUpdate),
			Columns: sourceColumns(
				registry.Text(func(o *source.OCIRepository) string { return withoutUserinfo(o.Spec.URL) }),
				registry.Text(func(o *source.OCIRepository) string { return revision(o.Status.Artifact) })),
		},
		{
			Resource: "helmrepositories", Singular: "helmrepository", ShortNames: []string{"helmrepo"},
			GroupKind: source.Kind("HelmRepository"), Categories: categories, Versions: []string{"v1"}, Reconcilable: true,
			New:                  func() runtime.Object { return &source.HelmRepository{} },
			NewList:              func() runtime.Object { return &source.HelmRepositoryList{} },
			Validate:             registry.Validate(validation.ValidateHelmRepository),
			ValidateUpdate:       registry.ValidateUpdate(validation.ValidateHelmRepositoryUpdate),
			ValidateStatusUpdate: registry.ValidateUpdate(validation.ValidateHelmRepositoryStatusUpdate),
			Columns: sourceColumns(
				registry.Text(func(o *source.HelmRepository) string { return withoutUserinfo(o.Spec.URL) }),
				registry.Text(func(o *source.HelmRepository) string { return revision(o.Status.Artifact) })),
		},
		{
			Resource: "helmcharts", Singular: "helmchart", ShortNames: []string{"hc"},
			GroupKind: source.Kind("HelmChart"), Categories: categories, Versions: []string{"v1"}, Reconcilable: true,
			New:                  func() runtime.Object { return &source.HelmChart{} },
			Artifact:             func(o runtime.Object) *common.Artifact { return o.(*source.HelmChart).Status.Artifact },
			NewList:              func() runtime.Object { return &source.HelmChartList{} },
			Validate:             registry.Validate(validation.ValidateHelmChart),
			ValidateUpdate:       registry.ValidateUpdate(validation.ValidateHelmChartUpdate),
			ValidateStatusUpdate: registry.ValidateUpdate(validation.ValidateHelmChartStatusUpdate),
			Columns: sourceColumnsNamed("Chart", "The chart, and the source it comes from.",
				registry.Text(func(o *source.HelmChart) string {
					return o.Spec.Chart + " from " + o.Spec.SourceRef.Kind + "/" + o.Spec.SourceRef.Name
				}),
				registry.Text(func(o *source.HelmChart) string { return revision(o.Status.Artifact) })),
		},
		{
			Resource: "buckets", Singular: "bucket",
			GroupKind: source.Kind("Bucket"), Categories: categories, Versions: []string{"v1", "v1beta2"}, Reconcilable: true,
			New:                  func() runtime.Object { return &source.Bucket{} },
			Artifact:             func(o runtime.Object) *common.Artifact { return o.(*source.Bucket).Status.Artifact },
			NewList:              func() runtime.Object { return &source.BucketList{} },
			Validate:             registry.Validate(validation.ValidateBucket),
			ValidateUpdate:       registry.ValidateUpdate(validation.ValidateBucketUpdate),
			ValidateStatusUpdate: registry.ValidateUpdate(validation.ValidateBucketStatusUpdate),
			Columns: sourceColumnsNamed("Endpoint", "The bucket's endpoint and name.",
				registry.Text(func(o *source.Bucket) string { return o.Spec.Endpoint + "/" + o.Spec.BucketName }),
				registry.Text(func(o *source.Bucket) string { return revision(o.Status.Artifact) })),
		},
		{
			Resource: "externalartifacts", Singular: "externalartifact", ShortNames: []string{"ea"},
			GroupKind: source.Kind("ExternalArtifact"), Categories: categories, Versions: []string{"v1"},
			New:                  func() runtime.Object { return &source.ExternalArtifact{} },
			Artifact:             func(o runtime.Object) *common.Artifact { return o.(*source.ExternalArtifact).Status.Artifact },
			NewList:              func() runtime.Object { return &source.ExternalArtifactList{} },
			Validate:             registry.Validate(validation.ValidateExternalArtifact),
			ValidateUpdate:       registry.ValidateUpdate(validation.ValidateExternalArtifactUpdate),
			ValidateStatusUpdate: registry.ValidateUpdate(validation.ValidateExternalArtifactStatusUpdate),
			Columns: []registry.Column{
				registry.StringColumn("Source", "The object the artifact was generated from.", 1,
					registry.Text(func(o *source.ExternalArtifact) string {
						if r := o.Spec.SourceRef; r != nil {
							return r.Kind + "/" + r.Name
						}
						return ""
					})),
				registry.StringColumn("Revision", "Revision of the artifact.", 0,
					registry.Text(func(o *source.ExternalArtifact) string { return revision(o.Status.Artifact) })),
				registry.ReadyColumn(), registry.MessageColumn(),
			},
		},
	}
}

// sourceColumns: REVISION SUSPENDED READY MESSAGE, as `flux get sources`
// prints them, and URL with -o wide.
func sourceColumns(url, rev func(runtime.Object) string) []registry.Column {
	return sourceColumnsNamed("URL", "Where the source is fetched from.", url, rev)
}

// sourceColumnsNamed is sourceColumns with another wide column.
func sourceColumnsNamed(wide, description string, cell, rev func(runtime.Object) string) []registry.Column {
	cols := []registry.Column{
		registry.StringColumn(wide, description, 1, cell),
		registry.StringColumn("Revision", "Revision of the last artifact.", 0, rev),
	}
	return append(cols, registry.StatusColumns()...)
}

func revision(a *common.Artifact) string {
	if a == nil {
		return ""
	}
	return a.Revision
}

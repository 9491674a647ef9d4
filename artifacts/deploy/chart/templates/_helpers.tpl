{{/* The image reference: repository[:tag][@digest]. */}}
{{- define "gitops-apiserver.image" -}}
{{- .Values.image.repository -}}
{{- with .Values.image.tag }}:{{ . }}{{ end -}}
{{- with .Values.image.digest }}@{{ . }}{{ end -}}
{{- end -}}

{{/*
The served group versions, each group's preferred version first (as
pkg/apiserver.GroupVersions lists them; test/deploy checks they agree).
*/}}
{{- define "gitops-apiserver.groupVersions" -}}
source.toolkit.fluxcd.io: [v1, v1beta2, v1beta1]
kustomize.toolkit.fluxcd.io: [v1, v1beta2]
helm.toolkit.fluxcd.io: [v2]
notification.toolkit.fluxcd.io: [v1, v1beta3]
image.toolkit.fluxcd.io: [v1, v1beta2]
{{- end -}}

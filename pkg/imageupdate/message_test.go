package imageupdate_test

import (
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/imageupdate"
)

func sampleData() imageupdate.TemplateData {
	return imageupdate.TemplateData{
		AutomationObject: imageupdate.NamespacedName{Namespace: "flux-system", Name: "podinfo-update"},
		Changed: imageupdate.Result{FileChanges: map[string]imageupdate.ObjectChanges{
			"apps/podinfo.yaml": {
				{Name: "podinfo", Namespace: "default", APIVersion: "apps/v1", Kind: "Deployment"}: {
					{OldValue: "ghcr.io/stefanprodan/podinfo:5.0.0", NewValue: "ghcr.io/stefanprodan/podinfo:5.0.3", Setter: "flux-system:podinfo-policy"},
				},
			},
			"apps/release.yaml": {
				{Name: "web", Namespace: "default", APIVersion: "helm.toolkit.fluxcd.io/v2", Kind: "HelmRelease"}: {
					{OldValue: "1.0.0", NewValue: "1.1.0", Setter: "flux-system:web:tag"},
				},
			},
		}},
		Values: map[string]string{"cluster": "prod"},
	}
}

func TestRenderMessage(t *testing.T) {
	fluxExample := `Automated image update

Automation name: {{ .AutomationObject }}

Files:
{{ range $filename, $_ := .Changed.FileChanges -}}
- {{ $filename }}
{{ end -}}

Objects:
{{ range $resource, $changes := .Changed.Objects -}}
- {{ $resource.Kind | lower }} {{ $resource.Name }}
  Changes:
{{- range $_, $change := $changes }}
    - {{ $change.OldValue }} -> {{ $change.NewValue }}
{{ end -}}
{{ end -}}`
	wantExample := `Automated image update

Automation name: flux-system/podinfo-update

Files:
- apps/podinfo.yaml
- apps/release.yaml
Objects:
- deployment podinfo
  Changes:
    - ghcr.io/stefanprodan/podinfo:5.0.0 -> ghcr.io/stefanprodan/podinfo:5.0.3
- helmrelease web
  Changes:
    - 1.0.0 -> 1.1.0
`
	tests := []struct {
		name, tmpl, want, wantErr string
	}{
		{name: "default", tmpl: "", want: imageupdate.DefaultMessage},
		{name: "flux documentation example", tmpl: fluxExample, want: wantExample},
		{name: "changes and values", tmpl: `{{range .Changed.Changes}}{{print .OldValue}} -> {{println .NewValue}}{{end}}for {{ .Values.cluster }}`,
			want: "ghcr.io/stefanprodan/podinfo:5.0.0 -> ghcr.io/stefanprodan/podinfo:5.0.3\n1.0.0 -> 1.1.0\nfor prod"},
		{name: "sprig functions", tmpl: `{{ .AutomationObject.Name | upper | trunc 7 }} {{ sha256sum "x" | trunc 8 }}`, want: "PODINFO 2d711642"},
		{name: "removed Updated data", tmpl: `{{ range .Updated.Images }}{{ . }}{{ end }}`, wantErr: "Updated"},
		{name: "parse error", tmpl: `{{ .Changed`, wantErr: "invalid commit message template"},
		{name: "no environment", tmpl: `{{ env "HOME" }}`, wantErr: `"env" not defined`},
		{name: "no network", tmpl: `{{ getHostByName "example.com" }}`, wantErr: `"getHostByName" not defined`},
		{name: "bounded repeat", tmpl: `{{ repeat 100000000 "x" }}`, wantErr: "repeat"},
		{name: "bounded until", tmpl: `{{ range until 100000000 }}{{ end }}`, wantErr: "until"},
		{name: "bounded output", tmpl: `{{ range until 9000 }}{{ repeat 9000 "x" }}{{ end }}`, wantErr: "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := imageupdate.RenderMessage(tt.tmpl, sampleData())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("message:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

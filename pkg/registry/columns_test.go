package registry_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/registry"
	helmregistry "github.com/gitops-apiserver/gitops-apiserver/pkg/registry/helm"
	imageregistry "github.com/gitops-apiserver/gitops-apiserver/pkg/registry/image"
	kustomizeregistry "github.com/gitops-apiserver/gitops-apiserver/pkg/registry/kustomize"
	notificationregistry "github.com/gitops-apiserver/gitops-apiserver/pkg/registry/notification"
	sourceregistry "github.com/gitops-apiserver/gitops-apiserver/pkg/registry/source"
)

func allKinds() map[string]*registry.Kind {
	out := map[string]*registry.Kind{}
	for _, kinds := range [][]*registry.Kind{sourceregistry.Kinds(), kustomizeregistry.Kinds(), helmregistry.Kinds(), notificationregistry.Kinds(), imageregistry.Kinds()} {
		for _, k := range kinds {
			out[k.GroupKind.Kind] = k
		}
	}
	return out
}

// TestColumns_MirrorFluxGet: the default columns of every kind are those
// `flux get` prints for it (NAME and AGE come with every table); -o wide
// adds where the object comes from.
func TestColumns_MirrorFluxGet(t *testing.T) {
	status := "Suspended Ready Message"
	for kind, want := range map[string]struct{ normal, wide string }{
		"GitRepository":         {"Revision " + status, "URL"},
		"OCIRepository":         {"Revision " + status, "URL"},
		"HelmRepository":        {"Revision " + status, "URL"},
		"HelmChart":             {"Revision " + status, "Chart"},
		"Bucket":                {"Revision " + status, "Endpoint"},
		"ExternalArtifact":      {"Revision Ready Message", "Source"},
		"Kustomization":         {"Revision " + status, "Source"},
		"HelmRelease":           {"Revision " + status, "Chart"},
		"Alert":                 {status, "Provider"},
		"Provider":              {"Ready Message", "Type Suspended"},
		"Receiver":              {status, "Type"},
		"ImageRepository":       {"Last Scan " + status, "Image Tags"},
		"ImagePolicy":           {"Latest Image Ready Message", "Suspended"},
		"ImageUpdateAutomation": {"Last Run " + status, ""},
	} {
		k := allKinds()[kind]
		if k == nil {
			t.Errorf("%s: no such kind", kind)
			continue
		}
		var normal, wide []string
		for _, c := range k.Columns {
			if c.Priority == 0 {
				normal = append(normal, c.Name)
			} else {
				wide = append(wide, c.Name)
			}
			c.Cell(k.New()) // no panic on an empty object
		}
		if got := strings.Join(normal, " "); got != want.normal {
			t.Errorf("%s: columns %q, want %q", kind, got, want.normal)
		}
		if got := strings.Join(wide, " "); got != want.wide {
			t.Errorf("%s: -o wide adds %q, want %q", kind, got, want.wide)
		}
	}
	if n := len(allKinds()); n != 14 {
		t.Errorf("%d kinds, want 14", n)
	}
}

// cell is kind's cell of the column name for obj.
func cell(t *testing.T, kind, name string, obj runtime.Object) interface{} {
	t.Helper()
	for _, c := range allKinds()[kind].Columns {
		if c.Name == name {
			return c.Cell(obj)
		}
	}
	t.Fatalf("%s has no column %s", kind, name)
	return nil
}

func TestColumns_CellsAsFluxGetPrintsThem(t *testing.T) {
	hr := &helm.HelmRelease{}
	hr.Status.LastAttemptedRevision = "2.0.0"
	if got := cell(t, "HelmRelease", "Revision", hr); got != "2.0.0" {
		t.Errorf("HelmRelease without history: revision %v, want the last attempt's", got)
	}
	hr.Status.History = []helm.Snapshot{{ChartVersion: "1.0.0"}}
	if got := cell(t, "HelmRelease", "Revision", hr); got != "1.0.0" {
		t.Errorf("HelmRelease: revision %v, want the newest release's chart version", got)
	}

	repo := &image.ImageRepository{}
	repo.Status.LastScanResult = &image.ScanResult{TagCount: 3, ScanTime: metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
	if got := cell(t, "ImageRepository", "Last Scan", repo); got != "2026-01-02T03:04:05Z" {
		t.Errorf("Last Scan %v", got)
	}
	if got := cell(t, "ImageRepository", "Tags", repo); got != "3" {
		t.Errorf("Tags %v", got)
	}

	alert := allKinds()["Alert"].New()
	if r, m := cell(t, "Alert", "Ready", alert), cell(t, "Alert", "Message", alert); r != "True" || m != "Alert is Ready" {
		t.Errorf("Alert: %v %v, want flux get's True, Alert is Ready", r, m)
	}
	provider := allKinds()["Provider"].New()
	if r, m := cell(t, "Provider", "Ready", provider), cell(t, "Provider", "Message", provider); r != "True" || m != "Provider is Ready" {
		t.Errorf("Provider: %v %v", r, m)
	}
}

package deploy

import (
	"encoding/base64"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

func TestAPIServices_OnePerGroupVersionWithCABundle(t *testing.T) {
	gvs := []schema.GroupVersion{
		{Group: "source.toolkit.fluxcd.io", Version: "v1"},
		{Group: "source.toolkit.fluxcd.io", Version: "v1beta2"},
		{Group: "kustomize.toolkit.fluxcd.io", Version: "v1"},
	}
	out, err := APIServices(gvs, Target{Namespace: "flux-system", Service: "gitops-apiserver", Port: 443, CABundle: []byte("PEM")})
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(strings.TrimPrefix(string(out), "---\n"), "---\n")
	if len(docs) != 3 {
		t.Fatalf("got %d documents, want 3", len(docs))
	}
	var second struct {
		Metadata struct{ Name string }
		Spec     struct {
			CABundle        string `json:"caBundle"`
			VersionPriority int    `json:"versionPriority"`
			Service         struct{ Port int }
		}
	}
	if err := yaml.Unmarshal([]byte(docs[1]), &second); err != nil {
		t.Fatal(err)
	}
	if second.Metadata.Name != "v1beta2.source.toolkit.fluxcd.io" {
		t.Errorf("name = %q", second.Metadata.Name)
	}
	if second.Spec.CABundle != base64.StdEncoding.EncodeToString([]byte("PEM")) {
		t.Errorf("caBundle = %q", second.Spec.CABundle)
	}
	if second.Spec.VersionPriority != 90 || second.Spec.Service.Port != 443 {
		t.Errorf("spec = %+v", second.Spec)
	}
	if strings.Contains(string(out), "insecureSkipTLSVerify") {
		t.Error("APIServices must verify TLS")
	}
}

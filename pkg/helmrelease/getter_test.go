package helmrelease

import (
	"log/slog"
	"testing"

	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/client-go/rest"
)

// Helm validates every rendered manifest with a kubectl validator whose
// per-kind cache lives in the validator; the actions of one cluster must
// share it, or each action parses the OpenAPI documents again.
func TestConfiguration_ActionsOfAClusterShareTheValidator(t *testing.T) {
	var c Clusters
	cfg := &rest.Config{Host: "https://127.0.0.1:1"}
	validator := func(key, ns string) any {
		t.Helper()
		conf, err := c.Configuration(key, cfg, ns, ns, slog.DiscardHandler)
		if err != nil {
			t.Fatal(err)
		}
		kc, ok := conf.KubeClient.(*kube.Client)
		if !ok {
			t.Fatalf("KubeClient is %T, want *kube.Client", conf.KubeClient)
		}
		s, err := kc.Factory.Validator("Strict")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := validator("cluster-a", "team-a"), validator("cluster-a", "team-b")
	if a != b {
		t.Error("two actions on one cluster got different validators")
	}
	if other := validator("cluster-b", "team-a"); other == a {
		t.Error("another cluster (or identity) got the first one's validator")
	}
	c.Invalidate("cluster-a")
	if again := validator("cluster-a", "team-a"); again == a {
		t.Error("Invalidate kept the validator")
	}
}

package helmrelease

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
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

// Helm invalidates the discovery cache and reads discovery again for every
// action unless the configuration carries its capabilities: the actions of
// one cluster share them, read once until Invalidate (or their TTL).
func TestCapabilities_ReadOncePerCluster(t *testing.T) {
	var versions atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/version":
			versions.Add(1)
			fmt.Fprint(w, `{"major":"1","minor":"36","gitVersion":"v1.36.3"}`)
		case "/api":
			fmt.Fprint(w, `{"kind":"APIVersions","versions":["v1"]}`)
		case "/apis":
			fmt.Fprint(w, `{"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}]}`)
		case "/api/v1":
			fmt.Fprint(w, `{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"configmaps","namespaced":true,"kind":"ConfigMap","verbs":["get"]}]}`)
		case "/apis/apps/v1":
			fmt.Fprint(w, `{"kind":"APIResourceList","groupVersion":"apps/v1","resources":[{"name":"deployments","namespaced":true,"kind":"Deployment","verbs":["get"]}]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	var c Clusters
	cfg := &rest.Config{Host: srv.URL}
	caps, err := c.Capabilities("k", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if caps.KubeVersion.Version != "v1.36.3" || !caps.APIVersions.Has("apps/v1/Deployment") || !caps.APIVersions.Has("v1") {
		t.Errorf("capabilities %+v", caps)
	}
	caps.APIVersions = nil // a copy: the next action gets its own
	again, err := c.Capabilities("k", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := versions.Load(); got != 1 || !again.APIVersions.Has("apps/v1") {
		t.Errorf("second action: %d reads of /version (want 1), API versions %v", got, again.APIVersions)
	}
	c.Invalidate("k")
	if _, err := c.Capabilities("k", cfg); err != nil {
		t.Fatal(err)
	}
	if got := versions.Load(); got != 2 {
		t.Errorf("after Invalidate: %d reads of /version, want 2", got)
	}
}

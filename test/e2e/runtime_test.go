package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

// TestWorkers_MetricsAndLease: the workers hold a Lease in the host cluster
// and report Flux's reconciliation metrics on /metrics.
func TestWorkers_MetricsAndLease(t *testing.T) {
	if out := kubectl(t, "get", "lease", "gitops-apiserver-workers", "-n", "flux-system", "-o", "jsonpath={.spec.holderIdentity}"); strings.TrimSpace(out) == "" {
		t.Error("the workers' Lease has no holder")
	}

	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: "flux", Password: "pw"})
	repo := srv.CreateRepo(t, "metrics")
	hash := repo.Commit(t, map[string]string{"a.yaml": "a: 1\n"}, "one")
	ns := namespace(t, "it-metrics")
	kubectl(t, "create", "secret", "generic", "git-auth", "-n", ns, "--from-literal=username=flux", "--from-literal=password=pw")
	apply(t, gitRepositoryFrom(ns, "metrics", srv.URL("metrics"), "branch: main"))
	waitForObject(t, "gitrepositories", ns, "metrics", 90*time.Second, "Ready", revisionIs("main@sha1:"+hash))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body, err := cp.GitOpsGet(ctx, "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics := string(body)
	for _, want := range []string{
		`gotk_reconcile_condition{kind="GitRepository",name="metrics",namespace="it-metrics",status="True",type="Ready"} 1`,
		`gotk_reconcile_duration_seconds_count{kind="GitRepository",name="metrics",namespace="it-metrics"}`,
		`workqueue_adds_total{name="gitrepository"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestStorage_ExternalEtcd: with --etcd-servers the embedded etcd is not
// started, and objects live in the shared etcd under our own prefix.
func TestStorage_ExternalEtcd(t *testing.T) {
	if _, err := os.Stat(filepath.Join(cp.GitOpsDataDir(), "etcd")); err == nil {
		t.Error("an embedded etcd data directory exists although --etcd-servers is set")
	}
	ns := namespace(t, "it-external-etcd")
	apply(t, gitRepositoryFrom(ns, "stored", "https://127.0.0.1:1/none.git", "branch: main")+"  suspend: true\n")
	if got := nested(getObject(t, "gitrepositories", ns, "stored"), "spec", "suspend"); got != "true" {
		t.Errorf("stored object reads suspend=%q", got)
	}
	// kube-apiserver's own data in the same etcd is untouched.
	if out := kubectl(t, "get", "namespace", ns, "-o", "name"); !strings.Contains(out, ns) {
		t.Errorf("kube-apiserver lost its namespace: %q", out)
	}
}

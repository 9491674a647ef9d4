package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

// BenchmarkGitRepositories_ToReady measures the wall time from one
// `kubectl apply --server-side` of N GitRepositories (one shared loopback
// repository) until every one is Ready. Run with
//
//	GITOPS_BIN_DIR=$PWD/_output/bin go test -run '^$' -bench GitRepositories -benchtime 1x ./test/e2e/
//
// Benchmarks report; tests assert behaviour (this is not part of make test).
func BenchmarkGitRepositories_ToReady(b *testing.B) {
	for _, n := range []int{100, 300} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			srv := gitserver.NewHTTP(b, gitserver.HTTPOptions{Username: "flux", Password: "pw"})
			repo := srv.CreateRepo(b, "bench")
			repo.Commit(b, map[string]string{"app/cm.yaml": "kind: ConfigMap\n"}, "bench")
			for i := 0; i < b.N; i++ {
				ns := fmt.Sprintf("bench-git-%d-%d", n, i)
				if _, err := cp.Kubectl(b.Context(), "create", "namespace", ns); err != nil {
					b.Fatal(err)
				}
				if _, err := cp.Kubectl(b.Context(), "create", "secret", "generic", "git-auth", "-n", ns, "--from-literal=username=flux", "--from-literal=password=pw"); err != nil {
					b.Fatal(err)
				}
				var docs []string
				for j := 0; j < n; j++ {
					docs = append(docs, gitRepositoryFrom(ns, fmt.Sprintf("app-%d", j), srv.URL("bench"), "branch: main"))
				}
				b.ResetTimer()
				start := time.Now()
				if out, err := cp.KubectlWithInput(b.Context(), strings.NewReader(strings.Join(docs, "---\n")), "apply", "--server-side", "-f", "-"); err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
				if out, err := cp.Kubectl(b.Context(), "wait", "gitrepositories", "--all", "-n", ns, "--for=condition=Ready", "--timeout=300s"); err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
				b.ReportMetric(time.Since(start).Seconds(), "s/all-ready")
				b.StopTimer()
				_, _ = cp.Kubectl(b.Context(), "delete", "namespace", ns, "--wait=false")
			}
		})
	}
}

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
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

// BenchmarkImageAutomation_TagToDeployment measures, per iteration, the
// time from a new tag pushed to the registry until the Deployment in the
// cluster runs it: the ImageRepository is asked to scan (as a Receiver
// webhook from the registry would), the ImagePolicy picks the tag, the
// automation commits and pushes, the GitRepository fetches, and the
// Kustomization applies. Every interval is 10m, so only the triggers count.
//
//	GITOPS_BIN_DIR=$PWD/_output/bin go test -run '^$' -bench ImageAutomation -benchtime 10x ./test/e2e/
func BenchmarkImageAutomation_TagToDeployment(b *testing.B) {
	ctx := b.Context()
	run := func(args ...string) string {
		b.Helper()
		out, err := cp.Kubectl(ctx, args...)
		if err != nil {
			b.Fatalf("kubectl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	apply := func(doc string) {
		b.Helper()
		if out, err := cp.KubectlWithInput(ctx, strings.NewReader(doc), "apply", "-f", "-"); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
	}
	reg := ocitest.NewRegistry(b, ocitest.Options{})
	reg.Push(b, "app", "1.0.0", ocitest.Image(b, map[string]string{"v": "1.0.0"}, nil, ""))
	image := reg.Host + "/app"
	ns := fmt.Sprintf("bench-image-%d", b.N)
	run("create", "namespace", ns)
	b.Cleanup(func() { _, _ = cp.Kubectl(ctx, "delete", "namespace", ns, "--wait=false") })
	srv := gitserver.NewHTTP(b, gitserver.HTTPOptions{Username: "flux", Password: "pw"})
	repo := srv.CreateRepo(b, "app")
	repo.AllowPush(b)
	repo.Commit(b, map[string]string{"app/deployment.yaml": imageDeployment(ns, image+":1.0.0")}, "initial")
	run("create", "secret", "generic", "git-auth", "-n", ns, "--from-literal=username=flux", "--from-literal=password=pw")
	apply(strings.Replace(gitRepositoryFrom(ns, "app", srv.URL("app"), "branch: main"), "interval: 1m", "interval: 10m", 1))
	apply(kustomizationFrom(ns, "app", "  targetNamespace: "+ns+"\n"))
	apply(imageRepositoryFrom(ns, "app", image, ""))
	apply(imagePolicyFrom(ns, "app", "app", "  policy:\n    semver:\n      range: \">=1.0.0\"\n"))
	apply(imageUpdateAutomationFrom(ns, "app", ""))
	deployed := func(tag string) bool {
		out, err := cp.Kubectl(ctx, "get", "deployment", "web", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}")
		return err == nil && string(out) == image+":"+tag
	}
	waitDeployed := func(tag string) {
		b.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for !deployed(tag) {
			if time.Now().After(deadline) {
				b.Fatalf("the Deployment does not run %s after 2m", tag)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitDeployed("1.0.0")
	run("wait", "imageupdateautomations/app", "-n", ns, "--for=condition=Ready", "--timeout=120s")

	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tag := fmt.Sprintf("1.0.%d", i+1)
		reg.Push(b, "app", tag, ocitest.Image(b, map[string]string{"v": tag}, nil, ""))
		start := time.Now()
		if out, err := cp.KubectlWithInput(ctx, strings.NewReader("{}"), "create", "--raw",
			"/apis/image.toolkit.fluxcd.io/v1/namespaces/"+ns+"/imagerepositories/app/reconcile", "-f", "-"); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
		waitDeployed(tag)
		total += time.Since(start)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/tag-to-deployment")
}

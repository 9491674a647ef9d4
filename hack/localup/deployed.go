package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/gitops-apiserver/gitops-apiserver/test/framework"
)

// runDeployed starts the cluster alone and installs gitops-apiserver into
// it with hack/deploy.sh, then waits for Ctrl-C.
func runDeployed(root, dir, binDir, image string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := freshDirs(&root, &dir, &binDir); err != nil {
		return err
	}
	logf := func(format string, args ...interface{}) { fmt.Printf("local-up: "+format+"\n", args...) }
	cp, err := framework.Start(ctx, framework.Options{Dir: dir, BinDir: binDir, RepoRoot: root, ClusterOnly: true, Log: logf})
	if err != nil {
		return err
	}
	defer cp.Stop()
	logf("deploying with hack/deploy.sh")
	out, err := cp.Deploy(ctx, image, filepath.Join(dir, "deploy"))
	fmt.Print(string(out))
	if err != nil {
		return err
	}
	rel, _ := filepath.Rel(root, cp.Kubeconfig)
	fmt.Printf(`
gitops-apiserver is deployed as a user would deploy it; its pod "runs" on the
simulated node %s (no container runs, so the APIServices stay unavailable).
Generated files are in %s/deploy, logs in %s. In another shell, try:

  export KUBECONFIG=%s
  kubectl -n %s get deployment,pods,services,pdb,networkpolicy,pvc -o wide
  kubectl get apiservices -l app.kubernetes.io/name=gitops-apiserver

Press Ctrl-C to stop everything.
`, framework.NodeName, dir, dir, rel, framework.DeployNamespace)
	return untilStopped(ctx, cp)
}

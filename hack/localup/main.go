// Command localup runs the local control plane of hack/local-up.sh in the
// foreground: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
// a simulated node and gitops-apiserver on loopback, with the APIServices
// registered. Ctrl-C stops everything it started. Arguments after "--" go to
// gitops-apiserver.
//
// With --deployed it runs no gitops-apiserver process: it installs the
// server with hack/deploy.sh as a user would (Deployment, RBAC, Services,
// PDB, NetworkPolicy, certificate, APIServices), and the pod "runs" on the
// simulated node. Nothing serves behind the APIServices then: the mode is
// for looking at the installation, not for using the API.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/gitops-apiserver/gitops-apiserver/test/framework"
)

func main() {
	root := flag.String("repo-root", ".", "repository checkout")
	dir := flag.String("dir", "_output/local", "directory for certificates, data, logs and the kubeconfig")
	binDir := flag.String("bin-dir", "_output/bin", "directory with the control plane's binaries and gitops-apiserver")
	deployed := flag.Bool("deployed", false, "install gitops-apiserver with hack/deploy.sh (its pod on the simulated node) instead of running it on loopback")
	image := flag.String("image", "", "with --deployed, the image the Deployment names (never pulled); empty keeps artifacts/deploy's")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [flags] [-- gitops-apiserver flags...]\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if *deployed {
		err := runDeployed(*root, *dir, *binDir, *image)
		if err != nil {
			fmt.Fprintln(os.Stderr, "local-up:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*root, *dir, *binDir, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "local-up:", err)
		os.Exit(1)
	}
}

func run(root, dir, binDir string, gitopsArgs []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := freshDirs(&root, &dir, &binDir); err != nil {
		return err
	}
	cp, err := framework.Start(ctx, framework.Options{
		Dir: dir, BinDir: binDir, RepoRoot: root, GitOpsArgs: gitopsArgs,
		Log: func(format string, args ...interface{}) { fmt.Printf("local-up: "+format+"\n", args...) },
	})
	if err != nil {
		return err
	}
	defer cp.Stop()
	// Receivers' webhooks are served on their own port: tools and docs
	// read the base URL from here.
	if err := os.WriteFile(filepath.Join(dir, "receiver-address"), []byte("http://"+cp.ReceiverAddress()+"\n"), 0o644); err != nil {
		return err
	}
	rel, _ := filepath.Rel(root, cp.Kubeconfig)
	fmt.Printf(`
gitops-apiserver is serving the Flux API through kube-apiserver.
Logs are in %s. Receivers' webhooks are served at %s (also in receiver-address
there), Flux's event ingest API at http://%s. In another shell, try:

  export KUBECONFIG=%s
  kubectl api-resources --categories=fluxcd
  kubectl apply -f artifacts/examples/source/gitrepository-v1.yaml
  kubectl get gitrepositories -A
  kubectl explain gitrepository.spec

Press Ctrl-C to stop everything.
`, dir, "http://"+cp.ReceiverAddress(), cp.EventsAddress(), rel)
	return untilStopped(ctx, cp)
}

// freshDirs makes the paths absolute and empties dir: a fresh control
// plane each time, since certificates and ports change.
func freshDirs(root, dir, binDir *string) error {
	for _, p := range []*string{root, dir, binDir} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	return os.RemoveAll(*dir)
}

// untilStopped waits for Ctrl-C, or returns why a process of cp ended.
func untilStopped(ctx context.Context, cp *framework.ControlPlane) error {
	select {
	case <-ctx.Done():
		fmt.Println("\nlocal-up: stopping")
	case why := <-cp.Done():
		return fmt.Errorf("%s", why)
	}
	return nil
}

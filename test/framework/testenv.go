package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// RepoRoot finds the repository checkout above the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "artifacts", "deploy")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no repository root above the working directory")
		}
		dir = parent
	}
}

// StartForTests starts a control plane for a test binary's TestMain. The
// binaries come from $GITOPS_BIN_DIR (make test-integration sets it) or
// _output/bin; missing binaries are an error, never a skip. opts may set
// GitOpsArgs and SharedEtcd; the paths are filled in. It returns the
// control plane and a stop function.
func StartForTests(m *testing.M, opts Options) (*ControlPlane, func(), error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, nil, err
	}
	binDir := os.Getenv("GITOPS_BIN_DIR")
	if binDir == "" {
		binDir = filepath.Join(root, "_output", "bin")
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kwok-stages.yaml", "kubectl", "gitops-apiserver"} {
		if _, err := os.Stat(filepath.Join(binDir, b)); err != nil {
			return nil, nil, fmt.Errorf("%s not found in %s: run `make tools build` (or `make test-integration`)", b, binDir)
		}
	}
	dir, err := os.MkdirTemp("", "gitops-it-")
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	opts.Dir, opts.BinDir, opts.RepoRoot = dir, binDir, root
	cp, err := Start(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	stop := func() {
		cp.Stop()
		if os.Getenv("GITOPS_KEEP_TEST_DIR") == "" {
			os.RemoveAll(dir)
		} else {
			fmt.Fprintln(os.Stderr, "control plane files kept in", dir)
		}
	}
	return cp, stop, nil
}

// Main is a test binary's TestMain: it starts a control plane with opts,
// stores it in *cp, runs the tests, stops everything and returns the exit
// code for os.Exit.
func Main(m *testing.M, opts Options, cp **ControlPlane) int {
	c, stop, err := StartForTests(m, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the control plane:", err)
		return 1
	}
	*cp = c
	defer stop()
	return m.Run()
}

// StartForTest starts a control plane of the test's own (e.g. with
// ClusterOnly, where a shared one would not do) and stops it when the test
// ends. Binaries are found as for StartForTests.
func StartForTest(t testing.TB, opts Options) *ControlPlane {
	t.Helper()
	cp, stop, err := StartForTests(nil, opts)
	if err != nil {
		t.Fatalf("starting the control plane: %v", err)
	}
	t.Cleanup(stop)
	return cp
}

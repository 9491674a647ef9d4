// Package deploy tests how users get gitops-apiserver: the container image
// `make image` builds and `make push` pushes (checked from a loopback
// registry), the install hack/deploy.sh performs against a real control
// plane whose simulated node "runs" the pod, and the Helm chart, which must
// render what the kustomize install applies.
package deploy

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
	"github.com/gitops-apiserver/gitops-apiserver/test/framework"
)

var (
	// imageDir holds the OCI layout built once for the package's tests.
	imageDir string

	buildOnce sync.Once
	buildErr  error
	buildLog  string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gitops-image-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	imageDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// layoutDir is the OCI layout `make image` would write, built with the same
// script (hack/image.sh build: a static binary for this machine's
// architecture, cached by the Go build cache, then the image). The first
// build of the static binary on a machine compiles everything once more
// (CGO_ENABLED=0 changes every package depending on net); later runs relink
// at most.
func layoutDir(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		start := time.Now()
		out, err := script(t, 25*time.Minute, "image.sh", "build", "IMAGE_OUT="+filepath.Join(imageDir, "oci"), "ARCHS="+runtime.GOARCH)
		buildLog = fmt.Sprintf("hack/image.sh build took %s:\n%s", time.Since(start).Round(time.Second), out)
		buildErr = err
	})
	if buildErr != nil {
		t.Fatalf("%v\n%s", buildErr, buildLog)
	}
	t.Log(buildLog)
	return filepath.Join(imageDir, "oci")
}

// pushImage pushes the built image to a new loopback registry with
// hack/image.sh push (what `make push IMAGE=...` runs) and returns the
// digest reference it printed.
func pushImage(t *testing.T) (reg *ocitest.Registry, tagRef, digestRef string) {
	t.Helper()
	oci := layoutDir(t)
	reg = ocitest.NewRegistry(t, ocitest.Options{})
	tagRef = reg.Host + "/gitops/gitops-apiserver:test"
	out, err := script(t, 5*time.Minute, "image.sh", "push", "IMAGE_OUT="+oci, "IMAGE="+tagRef)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	digestRef = lines[len(lines)-1]
	if !strings.HasPrefix(digestRef, reg.Host+"/gitops/gitops-apiserver@sha256:") {
		t.Fatalf("hack/image.sh push printed %q last, want the digest reference", digestRef)
	}
	return reg, tagRef, digestRef
}

// script runs hack/<name> with args and extra environment, from the
// repository root, and returns its output.
func script(t *testing.T, timeout time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	var cmdArgs, env []string
	for _, a := range args {
		if strings.Contains(a, "=") {
			env = append(env, a)
		} else {
			cmdArgs = append(cmdArgs, a)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	root := repoRoot(t)
	cmd := exec.CommandContext(ctx, "bash", append([]string{filepath.Join(root, "hack", name)}, cmdArgs...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("hack/%s %s: %w", name, strings.Join(cmdArgs, " "), err)
	}
	return string(out), nil
}

// git runs git in the repository and returns its trimmed output.
func git(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

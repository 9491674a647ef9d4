// Package integration tests the API gitops-apiserver serves, the way users
// drive it: kubectl against a real kube-apiserver that proxies the Flux
// groups to a real gitops-apiserver through APIServices. The workers are
// off here (the examples point at public hosts, and tests reach loopback
// only); test/e2e runs them against loopback servers.
package integration

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/test/framework"
)

var cp *framework.ControlPlane

func TestMain(m *testing.M) {
	os.Exit(framework.Main(m, framework.Options{GitOpsArgs: []string{"--disable-workers"}}, &cp))
}

// kubectl runs kubectl as admin and fails the test on error.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := kubectlErr(t, args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}

// kubectlErr runs kubectl as admin and returns its output and error.
func kubectlErr(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := cp.Kubectl(ctx, args...)
	return string(out), err
}

// kubectlStdin runs kubectl with stdin.
func kubectlStdin(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := cp.KubectlWithInput(ctx, strings.NewReader(stdin), args...)
	return string(out), err
}

// namespace creates a namespace for one test and deletes it afterwards.
func namespace(t *testing.T, name string) string {
	t.Helper()
	kubectl(t, "create", "namespace", name)
	t.Cleanup(func() {
		_, _ = kubectlErr(t, "delete", "namespace", name, "--wait=false")
	})
	return name
}

// Package e2e tests the workers end to end: real git (and later OCI, Helm,
// S3) servers on loopback, the real kube-apiserver, and gitops-apiserver
// reconciling what users apply with kubectl.
package e2e

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/test/framework"
)

var cp *framework.ControlPlane

func TestMain(m *testing.M) {
	// The workers run on an external etcd here (the control plane's own,
	// shared with kube-apiserver); test/integration covers the embedded one.
	os.Exit(framework.Main(m, framework.Options{SharedEtcd: true}, &cp))
}

// kubectl runs kubectl as admin and fails the test on error.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := cp.Kubectl(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// apply applies a manifest as admin.
func apply(t *testing.T, manifest string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := cp.KubectlWithInput(ctx, strings.NewReader(manifest), "apply", "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// namespace creates a namespace for one test and deletes it afterwards.
func namespace(t *testing.T, name string) string {
	t.Helper()
	kubectl(t, "create", "namespace", name)
	t.Cleanup(func() {
		_, _ = cp.Kubectl(context.Background(), "delete", "namespace", name, "--wait=false")
	})
	return name
}

// getObject reads an object as JSON.
func getObject(t *testing.T, resource, namespace, name string) map[string]interface{} {
	t.Helper()
	var obj map[string]interface{}
	if err := json.Unmarshal([]byte(kubectl(t, "get", resource, name, "-n", namespace, "-o", "json")), &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

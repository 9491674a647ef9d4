package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apiserver"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/deploy"
)

// localService points the APIServices' Service at loopback, so the
// aggregator reaches gitops-apiserver with no cluster network.
const localService = `apiVersion: v1
kind: Service
metadata:
  name: gitops-apiserver
  namespace: flux-system
spec:
  type: ExternalName
  externalName: localhost
`

// installManifests applies the deployment's namespace, service account and
// RBAC from artifacts/deploy, an ExternalName Service, and the APIServices.
func (cp *ControlPlane) installManifests(ctx context.Context) error {
	deployDir := filepath.Join(cp.opts.RepoRoot, "artifacts", "deploy")
	for _, f := range []string{"namespace.yaml", "serviceaccount.yaml", "rbac.yaml"} {
		if _, err := cp.Kubectl(ctx, "apply", "--server-side", "-f", filepath.Join(deployDir, f)); err != nil {
			return err
		}
	}
	apiServices, err := deploy.APIServices(apiserver.GroupVersions(), deploy.Target{
		Namespace: "flux-system",
		Service:   "gitops-apiserver",
		Port:      int32(cp.gitopsPort),
		CABundle:  cp.pki.gitopsCA.PEM,
	})
	if err != nil {
		return err
	}
	file := filepath.Join(cp.opts.Dir, "apiservices.yaml")
	if err := os.WriteFile(file, append([]byte(localService+"---\n"), apiServices...), 0o600); err != nil {
		return err
	}
	_, err = cp.Kubectl(ctx, "apply", "--server-side", "-f", file)
	return err
}

var apiServiceResource = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// waitAPIServicesAvailable waits until gitops-apiserver is ready and every
// APIService reports Available=True.
func (cp *ControlPlane) waitAPIServicesAvailable(ctx context.Context, p *process) error {
	if err := poll(ctx, 120*time.Second, p, "gitops-apiserver /readyz", cp.gitopsReady); err != nil {
		return err
	}
	client, err := dynamic.NewForConfig(cp.RESTConfig())
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, gv := range apiserver.GroupVersions() {
		want[gv.Version+"."+gv.Group] = true
	}
	if err := poll(ctx, 120*time.Second, p, "APIServices Available", func() (bool, error) {
		list, err := client.Resource(apiServiceResource).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=gitops-apiserver"})
		if err != nil {
			return false, err
		}
		var notReady []string
		available := 0
		for _, item := range list.Items {
			if !want[item.GetName()] {
				continue
			}
			if apiServiceAvailable(item.Object) {
				available++
			} else {
				notReady = append(notReady, item.GetName())
			}
		}
		if available == len(want) {
			return true, nil
		}
		return false, fmt.Errorf("%d of %d available; waiting for %s", available, len(want), strings.Join(notReady, ", "))
	}); err != nil {
		return err
	}
	// Available means discovery answers; also wait until every resource
	// lists through the aggregator (storage and watch caches are ready), so
	// the first request of a test does not meet a 503.
	return poll(ctx, 60*time.Second, p, "every resource lists", func() (bool, error) {
		for _, gv := range apiserver.GroupVersions() {
			for _, r := range apiserver.ResourcesOf(gv) {
				if _, err := client.Resource(gv.WithResource(r)).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
					return false, fmt.Errorf("listing %s: %w", gv.WithResource(r), err)
				}
			}
		}
		return true, nil
	})
}

func apiServiceAvailable(obj map[string]interface{}) bool {
	status, _ := obj["status"].(map[string]interface{})
	conds, _ := status["conditions"].([]interface{})
	for _, c := range conds {
		m, _ := c.(map[string]interface{})
		if m["type"] == "Available" {
			return m["status"] == "True"
		}
	}
	return false
}

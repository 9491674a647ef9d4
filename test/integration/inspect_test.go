package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

func kustomization(namespace, name string) string {
	return fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %s
  namespace: %s
spec:
  interval: 10m
  prune: true
  path: ./deploy
  sourceRef:
    kind: GitRepository
    name: podinfo
`, name, namespace)
}

func helmRelease(namespace, name string) string {
	return fmt.Sprintf(`apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: %s
  namespace: %s
spec:
  interval: 10m
  chart:
    spec:
      chart: redis
      sourceRef:
        kind: HelmRepository
        name: bitnami
`, name, namespace)
}

// setInventory writes status.inventory of a Kustomization through /status,
// as the workers do; entries are "id v" pairs.
func setInventory(t *testing.T, namespace, name string, entries ...[2]string) {
	t.Helper()
	refs := make([]map[string]string, 0, len(entries))
	for _, e := range entries {
		refs = append(refs, map[string]string{"id": e[0], "v": e[1]})
	}
	patch, err := json.Marshal(map[string]interface{}{"status": map[string]interface{}{"inventory": map[string]interface{}{"entries": refs}}})
	if err != nil {
		t.Fatal(err)
	}
	kubectl(t, "patch", "kustomization", name, "-n", namespace, "--subresource=status", "--type=merge", "-p", string(patch))
}

func inspectPath(group, version, namespace, resource, name, sub string) string {
	return fmt.Sprintf("/apis/%s/%s/namespaces/%s/%s/%s/%s", group, version, namespace, resource, name, sub)
}

func ksPath(namespace, name, sub string) string {
	return inspectPath("kustomize.toolkit.fluxcd.io", "v1", namespace, "kustomizations", name, sub)
}

func hrPath(namespace, name, sub string) string {
	return inspectPath("helm.toolkit.fluxcd.io", "v2", namespace, "helmreleases", name, sub)
}

// rawGet fetches a path through kube-apiserver as admin and returns the
// status code, Content-Type and body.
func rawGet(t *testing.T, path string) (int, string, string) {
	t.Helper()
	cfg := cp.RESTConfig()
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// expectRawError runs `kubectl get --raw path` with args (e.g. --as) and
// checks that it fails with every string in want.
func expectRawError(t *testing.T, path string, args []string, want ...string) {
	t.Helper()
	out, err := kubectlErr(t, append(args, "get", "--raw", path)...)
	if err == nil {
		t.Errorf("GET %s %v succeeded:\n%s", path, args, out)
		return
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("GET %s %v: output lacks %q:\n%s", path, args, w, out)
		}
	}
}

// TestTree_ShowsInventoriesRecursively: /tree follows status.inventory into
// child Kustomizations (across namespaces, stopping at cycles), as JSON and
// as text like `flux tree kustomization`.
func TestTree_ShowsInventoriesRecursively(t *testing.T) {
	ns := namespace(t, "it-tree")
	infraNS := namespace(t, "it-tree-infra")
	apply(t, kustomization(ns, "apps")+"---\n"+kustomization(infraNS, "infra")+"---\n"+helmRelease(ns, "redis"))
	setInventory(t, ns, "apps",
		[2]string{"_it-tree-podinfo__Namespace", "v1"},
		[2]string{infraNS + "_infra_kustomize.toolkit.fluxcd.io_Kustomization", "v1"},
		[2]string{ns + "_redis_helm.toolkit.fluxcd.io_HelmRelease", "v2"},
		[2]string{"_system__viewers_rbac.authorization.k8s.io_ClusterRole", "v1"},
		[2]string{ns + "_podinfo_apps_Deployment", "v1"},
	)
	setInventory(t, infraNS, "infra",
		[2]string{infraNS + "_x_apps_Deployment", "v1"},
		// A cycle back to the root: shown, not followed.
		[2]string{ns + "_apps_kustomize.toolkit.fluxcd.io_Kustomization", "v1"},
	)

	text := kubectl(t, "get", "--raw", ksPath(ns, "apps", "tree")+"?format=text")
	want := `Kustomization/it-tree/apps
├── Namespace/it-tree-podinfo
├── Kustomization/it-tree-infra/infra
│   ├── Deployment/it-tree-infra/x
│   └── Kustomization/it-tree/apps
├── HelmRelease/it-tree/redis
├── ClusterRole/system:viewers
└── Deployment/it-tree/podinfo
`
	if text != want {
		t.Errorf("text tree:\n%s\nwant:\n%s", text, want)
	}

	var tree struct {
		Kind, APIVersion string
		Root             node
	}
	if err := json.Unmarshal([]byte(kubectl(t, "get", "--raw", ksPath(ns, "apps", "tree"))), &tree); err != nil {
		t.Fatal(err)
	}
	if tree.Kind != "Tree" || tree.Root.Object.APIVersion != "kustomize.toolkit.fluxcd.io/v1" || len(tree.Root.Children) != 5 {
		t.Fatalf("JSON tree: %+v", tree)
	}
	infra := tree.Root.Children[1]
	if infra.Object.Namespace != infraNS || len(infra.Children) != 2 || infra.Children[0].Object.APIVersion != "apps/v1" || infra.Children[0].Object.Name != "x" {
		t.Errorf("child Kustomization: %+v", infra)
	}

	// Content types, read past kubectl.
	if code, ct, _ := rawGet(t, ksPath(ns, "apps", "tree")); code != 200 || ct != "application/json" {
		t.Errorf("JSON: %d %q", code, ct)
	}
	if code, ct, _ := rawGet(t, ksPath(ns, "apps", "tree")+"?format=text"); code != 200 || ct != "text/plain; charset=utf-8" {
		t.Errorf("text: %d %q", code, ct)
	}

	// v1beta2 serves it too; a HelmRelease is a leaf (no inventory yet).
	if out := kubectl(t, "get", "--raw", inspectPath("kustomize.toolkit.fluxcd.io", "v1beta2", infraNS, "kustomizations", "infra", "tree")+"?format=text"); !strings.HasPrefix(out, "Kustomization/it-tree-infra/infra\n├── Deployment/it-tree-infra/x\n") {
		t.Errorf("v1beta2 tree:\n%s", out)
	}
	if out := kubectl(t, "get", "--raw", hrPath(ns, "redis", "tree")+"?format=text"); out != "HelmRelease/it-tree/redis\n" {
		t.Errorf("HelmRelease tree: %q", out)
	}

	expectRawError(t, ksPath(ns, "apps", "tree")+"?format=yaml", nil, "BadRequest", `unknown format "yaml"`)
	expectRawError(t, ksPath(ns, "missing", "tree"), nil, "NotFound", `"missing" not found`)
	expectRawError(t, hrPath(ns, "missing", "tree"), nil, "NotFound")
}

type node struct {
	Object struct {
		APIVersion, Kind, Namespace, Name string
	}
	Children []node
}

// TestTree_RBAC: flux-view may read trees; a user with only `get` on
// kustomizations may not; and a tree expands a child Kustomization only for
// users who may read that child's tree.
func TestTree_RBAC(t *testing.T) {
	ns := namespace(t, "it-tree-rbac")
	otherNS := namespace(t, "it-tree-rbac-other")
	apply(t, kustomization(ns, "apps")+"---\n"+kustomization(otherNS, "infra"))
	setInventory(t, ns, "apps", [2]string{otherNS + "_infra_kustomize.toolkit.fluxcd.io_Kustomization", "v1"})
	setInventory(t, otherNS, "infra", [2]string{otherNS + "_secret-app_apps_Deployment", "v1"})
	kubectl(t, "create", "rolebinding", "tree-viewer", "-n", ns, "--clusterrole=flux-view", "--user=tree-viewer")
	for _, n := range []string{ns, otherNS} {
		kubectl(t, "create", "rolebinding", "tree-viewer-both", "-n", n, "--clusterrole=flux-view", "--user=tree-viewer-both")
	}
	kubectl(t, "create", "role", "ks-reader", "-n", ns, "--verb=get,list", "--resource=kustomizations.kustomize.toolkit.fluxcd.io")
	kubectl(t, "create", "rolebinding", "ks-reader", "-n", ns, "--role=ks-reader", "--user=ks-reader")

	out := kubectl(t, "--as=tree-viewer", "get", "--raw", ksPath(ns, "apps", "tree")+"?format=text")
	if want := "Kustomization/it-tree-rbac/apps\n└── Kustomization/it-tree-rbac-other/infra\n"; out != want {
		t.Errorf("tree-viewer sees the inventory of a namespace it cannot read:\n%s\nwant:\n%s", out, want)
	}
	out = kubectl(t, "--as=tree-viewer-both", "get", "--raw", ksPath(ns, "apps", "tree")+"?format=text")
	if want := "Kustomization/it-tree-rbac/apps\n└── Kustomization/it-tree-rbac-other/infra\n    └── Deployment/it-tree-rbac-other/secret-app\n"; out != want {
		t.Errorf("a viewer of both namespaces:\n%s\nwant:\n%s", out, want)
	}
	expectRawError(t, ksPath(ns, "apps", "tree"), []string{"--as=ks-reader"}, "Forbidden", "kustomizations/tree")
}

// TestDiff_AnswersWithoutWorkers: the workers compute diffs and are
// disabled here, so /diff answers 503, after RBAC (edit level, not view),
// the format check and the object lookup.
func TestDiff_AnswersWithoutWorkers(t *testing.T) {
	ns := namespace(t, "it-diff")
	apply(t, kustomization(ns, "apps")+"---\n"+helmRelease(ns, "redis"))
	kubectl(t, "create", "rolebinding", "viewer", "-n", ns, "--clusterrole=flux-view", "--user=diff-viewer")
	kubectl(t, "create", "rolebinding", "editor", "-n", ns, "--clusterrole=flux-edit-subresources", "--user=diff-editor")

	for _, path := range []string{ksPath(ns, "apps", "diff"), hrPath(ns, "redis", "diff")} {
		expectRawError(t, path, nil, "ServiceUnavailable", "workers")
		expectRawError(t, path, []string{"--as=diff-editor"}, "ServiceUnavailable")
		expectRawError(t, path, []string{"--as=diff-viewer"}, "Forbidden", "/diff")
		expectRawError(t, path+"?format=html", nil, "BadRequest", `unknown format "html"`)
	}
	if code, _, body := rawGet(t, ksPath(ns, "apps", "diff")+"?format=text"); code != http.StatusServiceUnavailable {
		t.Errorf("diff: %d %s", code, body)
	}
	expectRawError(t, ksPath(ns, "missing", "diff"), nil, "NotFound", `"missing" not found`)
}

// TestInspect_Discovery: /diff and /tree are listed in discovery, like
// /artifact and /reconcile, with the verb get.
func TestInspect_Discovery(t *testing.T) {
	for _, tc := range []struct{ gv, resource string }{
		{"kustomize.toolkit.fluxcd.io/v1", "kustomizations"},
		{"kustomize.toolkit.fluxcd.io/v1beta2", "kustomizations"},
		{"helm.toolkit.fluxcd.io/v2", "helmreleases"},
	} {
		var list struct {
			Resources []struct {
				Name  string
				Verbs []string
			}
		}
		if err := json.Unmarshal([]byte(kubectl(t, "get", "--raw", "/apis/"+tc.gv)), &list); err != nil {
			t.Fatal(err)
		}
		verbs := map[string]string{}
		for _, r := range list.Resources {
			verbs[r.Name] = strings.Join(r.Verbs, ",")
		}
		for _, sub := range []string{"diff", "tree"} {
			if got := verbs[tc.resource+"/"+sub]; got != "get" {
				t.Errorf("%s %s/%s: verbs %q, want get (discovery: %v)", tc.gv, tc.resource, sub, got, verbs)
			}
		}
	}
}

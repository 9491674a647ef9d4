package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func gitRepository(namespace, name, interval string) string {
	return fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: %s
  namespace: %s
  labels:
    team: %s
spec:
  interval: %s
  url: https://github.com/stefanprodan/podinfo
  ref:
    branch: master
`, name, namespace, name, interval)
}

func apply(t *testing.T, manifest string, args ...string) string {
	t.Helper()
	out, err := kubectlStdin(t, manifest, append([]string{"apply", "-f", "-"}, args...)...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}

// TestKubectl_Workflow walks through what a user does with kubectl.
func TestKubectl_Workflow(t *testing.T) {
	ns := namespace(t, "it-kubectl")
	apply(t, gitRepository(ns, "podinfo", "1m"))

	table := kubectl(t, "get", "gitrepositories", "-n", ns)
	for _, col := range []string{"NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE", "AGE", "podinfo"} {
		if !strings.Contains(table, col) {
			t.Errorf("kubectl get output lacks %q:\n%s", col, table)
		}
	}
	if wide := kubectl(t, "get", "gitrepo", "-n", ns, "-o", "wide"); !strings.Contains(wide, "https://github.com/stefanprodan/podinfo") {
		t.Errorf("-o wide lacks the URL:\n%s", wide)
	}
	if all := kubectl(t, "get", "fluxcd", "-n", ns); !strings.Contains(all, "gitrepository.source.toolkit.fluxcd.io/podinfo") {
		t.Errorf("category fluxcd does not list the GitRepository:\n%s", all)
	}

	y := kubectl(t, "get", "gitrepo", "podinfo", "-n", ns, "-o", "yaml")
	for _, want := range []string{"interval: 1m\n", "branch: master", "timeout: 60s", "generation: 1"} {
		if !strings.Contains(y, want) {
			t.Errorf("-o yaml lacks %q:\n%s", want, y)
		}
	}

	explain := kubectl(t, "explain", "gitrepositories.spec.ref")
	if !strings.Contains(explain, "branch") || !strings.Contains(explain, "semver") {
		t.Errorf("explain spec.ref:\n%s", explain)
	}
	if explain := kubectl(t, "explain", "kustomization.spec.sourceRef"); !strings.Contains(explain, "kind") {
		t.Errorf("explain kustomization:\n%s", explain)
	}

	kubectl(t, "patch", "gitrepo", "podinfo", "-n", ns, "--type=merge", "-p", `{"spec":{"interval":"5m"}}`)
	got := getObject(t, "gitrepositories", ns, "podinfo")
	if spec := got["spec"].(map[string]interface{}); spec["interval"] != "5m" {
		t.Errorf("interval after patch = %v", spec["interval"])
	}
	if gen := got["metadata"].(map[string]interface{})["generation"]; gen != float64(2) {
		t.Errorf("generation after a spec patch = %v, want 2", gen)
	}
	kubectl(t, "label", "gitrepo", "podinfo", "-n", ns, "tier=web")
	got = getObject(t, "gitrepositories", ns, "podinfo")
	if gen := got["metadata"].(map[string]interface{})["generation"]; gen != float64(2) {
		t.Errorf("generation after a label change = %v, want 2", gen)
	}

	// Server-side apply records our field manager and detects conflicts.
	ssa := strings.Replace(gitRepository(ns, "podinfo", "10m"), "branch: master", "branch: main", 1)
	if _, err := kubectlStdin(t, ssa, "apply", "--server-side", "--field-manager=platform-team", "-f", "-"); err == nil {
		t.Error("server-side apply changing fields owned by another manager should conflict")
	}
	apply(t, ssa, "--server-side", "--field-manager=platform-team", "--force-conflicts")
	var withFields map[string]interface{}
	if err := json.Unmarshal([]byte(kubectl(t, "get", "gitrepo", "podinfo", "-n", ns, "-o", "json", "--show-managed-fields")), &withFields); err != nil {
		t.Fatal(err)
	}
	got = withFields
	managers := map[string]bool{}
	for _, mf := range got["metadata"].(map[string]interface{})["managedFields"].([]interface{}) {
		managers[mf.(map[string]interface{})["manager"].(string)] = true
	}
	if !managers["platform-team"] {
		t.Errorf("managedFields lack platform-team: %v", managers)
	}

	kubectl(t, "delete", "gitrepo", "podinfo", "-n", ns)
	if _, err := kubectlErr(t, "get", "gitrepo", "podinfo", "-n", ns); err == nil {
		t.Error("object still there after delete")
	}
}

// TestWatch_SeesChanges runs `kubectl get -w` and sees an object appear,
// change and go.
func TestWatch_SeesChanges(t *testing.T) {
	ns := namespace(t, "it-watch")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cp.KubectlPath(), "--kubeconfig="+cp.Kubeconfig,
		"get", "gitrepositories", "-n", ns, "-w", "--output-watch-events", "--no-headers")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	lines := make(chan string)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	// Lines are table rows led by the event type: "ADDED   watched   ...".
	expect := func(event, name string) {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("watch ended before %s %s", event, name)
				}
				if f := strings.Fields(l); len(f) > 1 && f[0] == event && f[1] == name {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no %s %s from the watch", event, name)
			}
		}
	}
	// Whether the object is created before or after the watch starts, kubectl
	// reports it as ADDED (listed first, then watched).
	apply(t, gitRepository(ns, "watched", "1m"))
	expect("ADDED", "watched")
	kubectl(t, "patch", "gitrepo", "watched", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":true}}`)
	expect("MODIFIED", "watched")
	kubectl(t, "delete", "gitrepo", "watched", "-n", ns)
	expect("DELETED", "watched")
}

// TestList_PaginationAndSelectors lists in pages and by label and field.
func TestList_PaginationAndSelectors(t *testing.T) {
	ns := namespace(t, "it-list")
	for i := 0; i < 5; i++ {
		apply(t, gitRepository(ns, fmt.Sprintf("repo-%d", i), "1m"))
	}
	var page struct {
		Items    []json.RawMessage `json:"items"`
		Metadata struct {
			Continue string `json:"continue"`
		} `json:"metadata"`
	}
	raw := kubectl(t, "get", "--raw", "/apis/source.toolkit.fluxcd.io/v1/namespaces/"+ns+"/gitrepositories?limit=2")
	if err := json.Unmarshal([]byte(raw), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Metadata.Continue == "" {
		t.Fatalf("first page: %d items, continue %q", len(page.Items), page.Metadata.Continue)
	}
	total := len(page.Items)
	for page.Metadata.Continue != "" {
		cont := page.Metadata.Continue
		page.Items, page.Metadata.Continue = nil, ""
		raw = kubectl(t, "get", "--raw", "/apis/source.toolkit.fluxcd.io/v1/namespaces/"+ns+"/gitrepositories?limit=2&continue="+cont)
		if err := json.Unmarshal([]byte(raw), &page); err != nil {
			t.Fatal(err)
		}
		total += len(page.Items)
	}
	if total != 5 {
		t.Errorf("paged through %d objects, want 5", total)
	}
	if out := kubectl(t, "get", "gitrepo", "-n", ns, "-l", "team=repo-3", "-o", "name"); strings.TrimSpace(out) != "gitrepository.source.toolkit.fluxcd.io/repo-3" {
		t.Errorf("label selector: %q", out)
	}
	if out := kubectl(t, "get", "gitrepo", "-n", ns, "--field-selector", "metadata.name=repo-1", "-o", "name"); strings.TrimSpace(out) != "gitrepository.source.toolkit.fluxcd.io/repo-1" {
		t.Errorf("field selector: %q", out)
	}
	if out := kubectl(t, "get", "gitrepo", "-A", "--field-selector", "metadata.namespace="+ns, "-o", "name"); strings.Count(out, "\n") != 5 {
		t.Errorf("namespace field selector: %q", out)
	}
}

// TestDryRun_PersistsNothing checks server-side dry-run.
func TestDryRun_PersistsNothing(t *testing.T) {
	ns := namespace(t, "it-dryrun")
	out := apply(t, gitRepository(ns, "dry", "1m"), "--dry-run=server")
	if !strings.Contains(out, "server dry run") {
		t.Errorf("output: %s", out)
	}
	if _, err := kubectlErr(t, "get", "gitrepo", "dry", "-n", ns); err == nil {
		t.Error("a dry-run create persisted the object")
	}
}

// TestFinalizers_DeletionWaits checks graceful deletion with a finalizer.
func TestFinalizers_DeletionWaits(t *testing.T) {
	ns := namespace(t, "it-finalizers")
	apply(t, strings.Replace(gitRepository(ns, "held", "1m"), "  labels:", "  finalizers:\n  - example.com/hold\n  labels:", 1))
	kubectl(t, "delete", "gitrepo", "held", "-n", ns, "--wait=false")
	got := getObject(t, "gitrepositories", ns, "held")
	if got["metadata"].(map[string]interface{})["deletionTimestamp"] == nil {
		t.Fatal("no deletionTimestamp on an object with a finalizer")
	}
	kubectl(t, "patch", "gitrepo", "held", "-n", ns, "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
	if _, err := kubectlErr(t, "get", "gitrepo", "held", "-n", ns); err == nil {
		t.Error("object still there after its finalizer was removed")
	}
}

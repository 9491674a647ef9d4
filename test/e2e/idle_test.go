package e2e

import (
	"bufio"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// idleFiles are objects of kinds no other test applies and no controller
// writes (PodTemplate, LimitRange), so kube-apiserver's request counts of
// their resources are this test's alone; a ConfigMap makes the set usual.
func idleFiles() map[string]string {
	return map[string]string{
		"app/kustomization.yaml": "resources: [template.yaml, limits.yaml, config.yaml]\n",
		"app/template.yaml": `apiVersion: v1
kind: PodTemplate
metadata:
  name: idle
template:
  metadata:
    labels: {app: idle}
  spec:
    containers:
    - name: idle
      image: registry.example/idle:1
`,
		"app/limits.yaml": `apiVersion: v1
kind: LimitRange
metadata:
  name: idle
spec:
  limits:
  - type: Container
    default: {cpu: 100m}
`,
		"app/config.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: idle
data:
  greeting: hello
`,
	}
}

// requestCounts are the request counters an idle run must not move.
type requestCounts struct {
	// objectWrites: kube-apiserver's non-read requests to PodTemplates and
	// LimitRanges (applies are PATCH requests counted as verb APPLY).
	objectWrites float64
	// kustomizationWrites: gitops-apiserver's non-read requests to
	// Kustomizations and their subresources (status writes, finalizers).
	kustomizationWrites float64
	// runs of the Kustomization under test.
	runs float64
	// by counts the writes by "component resource/subresource verb", to
	// tell what moved.
	by map[string]float64
}

// moved lists the write counters that differ between c and later.
func (c requestCounts) moved(later requestCounts) []string {
	var out []string
	for k, v := range later.by {
		if d := v - c.by[k]; d != 0 {
			out = append(out, fmt.Sprintf("%s +%v", k, d))
		}
	}
	sort.Strings(out)
	return out
}

func readCounts(t *testing.T, ns, name string) requestCounts {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kube, err := cp.Kubectl(ctx, "get", "--raw", "/metrics")
	if err != nil {
		t.Fatalf("kube-apiserver /metrics: %v", err)
	}
	gitops, err := cp.GitOpsGet(ctx, "/metrics")
	if err != nil {
		t.Fatalf("gitops-apiserver /metrics: %v", err)
	}
	// Writes, but for DELETECOLLECTION: the namespace controller sends one
	// per resource of every namespace it empties (earlier tests' namespaces
	// are deleted without waiting), and the worker never sends any.
	write := func(l map[string]string) bool {
		switch l["verb"] {
		case "GET", "LIST", "WATCH", "CONNECT", "DELETECOLLECTION":
			return false
		}
		return true
	}
	by := map[string]float64{}
	count := func(server string, match func(map[string]string) bool) func(map[string]string, float64) bool {
		return func(l map[string]string, v float64) bool {
			if !match(l) {
				return false
			}
			by[server+" "+l["resource"]+"/"+l["subresource"]+" "+l["verb"]] += v
			return true
		}
	}
	return requestCounts{
		objectWrites: sumMetric(string(kube), "apiserver_request_total", count("kube-apiserver", func(l map[string]string) bool {
			return l["group"] == "" && (l["resource"] == "podtemplates" || l["resource"] == "limitranges") && write(l)
		})),
		kustomizationWrites: sumMetric(string(gitops), "apiserver_request_total", count("gitops-apiserver", func(l map[string]string) bool {
			return l["group"] == "kustomize.toolkit.fluxcd.io" && l["resource"] == "kustomizations" && write(l)
		})),
		runs: sumMetric(string(gitops), "gotk_reconcile_duration_seconds_count", func(l map[string]string, _ float64) bool {
			return l["kind"] == "Kustomization" && l["namespace"] == ns && l["name"] == name
		}),
		by: by,
	}
}

var labelRE = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

// sumMetric sums the samples of a Prometheus text metric whose labels
// match (match sees each sample's value too).
func sumMetric(text, name string, match func(map[string]string, float64) bool) float64 {
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		end := strings.LastIndex(line, "}")
		if end < 0 {
			continue
		}
		labels := map[string]string{}
		for _, m := range labelRE.FindAllStringSubmatch(line[len(name)+1:end], -1) {
			labels[m[1]] = m[2]
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil || !match(labels, v) {
			continue
		}
		sum += v
	}
	return sum
}

// quiet waits until ns/name is the only Kustomization left and no
// namespace is being deleted (earlier tests' namespaces are deleted
// without waiting, and emptying one writes to every resource), so that
// the request counters move for this test alone.
func quiet(t *testing.T, ns, name string) {
	t.Helper()
	waitFor(t, 120*time.Second, "the namespaces of earlier tests gone", func() bool {
		ks := strings.Fields(kubectl(t, "get", "kustomizations", "-A", "-o", "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {end}"))
		phases := kubectl(t, "get", "namespaces", "-o", "jsonpath={.items[*].status.phase}")
		return len(ks) == 1 && ks[0] == ns+"/"+name && !strings.Contains(phases, "Terminating")
	})
}

// TestIdle_UnchangedKustomizationWritesNothing: once applied, interval
// runs of a Kustomization whose source, spec, values and objects did not
// change send no apply and no status write (and build nothing); a
// reconcile request runs in full, which also shows the counters count.
func TestIdle_UnchangedKustomizationWritesNothing(t *testing.T) {
	ns := namespace(t, "idle")
	_, first := gitSource(t, ns, idleFiles())
	apply(t, strings.Replace(kustomizationFrom(ns, "app", "  targetNamespace: "+ns+"\n"), "interval: 10m", "interval: 2s", 1))
	waitForObject(t, "kustomizations", ns, "app", 90*time.Second, "applied", appliedAt("main@sha1:"+first))
	quiet(t, ns, "app")

	// Settle: the first runs after the apply may still see their own
	// writes arrive.
	settled := readCounts(t, ns, "app")
	waitFor(t, 30*time.Second, "two interval runs", func() bool { return readCounts(t, ns, "app").runs >= settled.runs+2 })

	before := readCounts(t, ns, "app")
	rvBefore := jsonpath(t, "kustomizations", ns, "app", "{.metadata.resourceVersion}")
	waitFor(t, 40*time.Second, "five interval runs", func() bool { return readCounts(t, ns, "app").runs >= before.runs+5 })
	after := readCounts(t, ns, "app")
	rvAfter := jsonpath(t, "kustomizations", ns, "app", "{.metadata.resourceVersion}")
	quiet(t, ns, "app")
	t.Logf("%v idle interval runs: %v object writes, %v Kustomization writes",
		after.runs-before.runs, after.objectWrites-before.objectWrites, after.kustomizationWrites-before.kustomizationWrites)
	if m := before.moved(after); len(m) > 0 {
		t.Logf("write counters that moved: %s", strings.Join(m, ", "))
	}
	if d := after.objectWrites - before.objectWrites; d != 0 {
		t.Errorf("idle interval runs sent %v writes to the applied objects, want 0", d)
	}
	if d := after.kustomizationWrites - before.kustomizationWrites; d != 0 {
		t.Errorf("idle interval runs wrote the Kustomization %v times, want 0", d)
	}
	if rvAfter != rvBefore {
		t.Errorf("the Kustomization changed during idle runs: resourceVersion %s -> %s", rvBefore, rvAfter)
	}

	// A reconcile request is a change: it runs in full.
	requested := postReconcile(t, "kustomize.toolkit.fluxcd.io/v1", ns, "kustomizations", "app", "", "")
	waitForObject(t, "kustomizations", ns, "app", 30*time.Second, "the request handled", func(o map[string]interface{}) bool {
		return nested(o, "status", "lastHandledReconcileAt") == requested
	})
	forced := readCounts(t, ns, "app")
	if d := forced.objectWrites - after.objectWrites; d < 2 {
		t.Errorf("a reconcile request sent %v writes to the applied objects, want the 2 applies", d)
	}
	if d := forced.kustomizationWrites - after.kustomizationWrites; d < 2 {
		t.Errorf("a reconcile request wrote the Kustomization %v times, want the request and a status write", d)
	}
}

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// requestCounts sums apiserver_request_total of one server.
type requestCounts struct {
	// Total counts every request.
	Total float64
	// Conflicts counts the 409 answers by "group/resource[/subresource] VERB".
	Conflicts map[string]float64
	// ByKind counts every request by "group/resource[/subresource] VERB".
	ByKind map[string]float64
	// Seconds sums apiserver_request_duration_seconds by the same key.
	Seconds map[string]float64
	// ByVerb counts every request by verb, dry runs apart ("APPLY
	// dry-run").
	ByVerb map[string]float64
	// Reconciles counts the workers' runs by kind (gotk_reconcile_total,
	// gitops-apiserver only).
	Reconciles map[string]float64
	// Failed counts the answers with a code of 400 or more by
	// "group/resource[/subresource] VERB code".
	Failed map[string]float64
}

// serverOwnConflicts are 409s the control plane causes itself, not the
// workers, by whose they are: kube-apiserver's ClusterIP allocator creates
// IPAddress objects when a Service is created and retries when two
// allocations race; kube-controller-manager's deployment and replica set
// controllers write the status of the apps' Deployments and ReplicaSets
// (the workers never do).
var serverOwnConflicts = map[string]string{
	"networking.k8s.io/ipaddresses POST": "kube-apiserver's own",
	"apps/deployments/status PUT":        "kube-controller-manager's",
	"apps/replicasets/status PUT":        "kube-controller-manager's",
}

// conflicts is the number of 409 answers to clients.
func (c requestCounts) conflicts() float64 {
	var s float64
	for k, v := range c.Conflicts {
		if serverOwnConflicts[k] == "" {
			s += v
		}
	}
	return s
}

// since returns c minus an earlier scrape.
func (c requestCounts) since(before requestCounts) requestCounts {
	diff := func(after, before map[string]float64) map[string]float64 {
		out := map[string]float64{}
		for k, v := range after {
			if d := v - before[k]; d > 0 {
				out[k] = d
			}
		}
		return out
	}
	return requestCounts{
		Total:      c.Total - before.Total,
		Conflicts:  diff(c.Conflicts, before.Conflicts),
		ByKind:     diff(c.ByKind, before.ByKind),
		Seconds:    diff(c.Seconds, before.Seconds),
		ByVerb:     diff(c.ByVerb, before.ByVerb),
		Reconciles: diff(c.Reconciles, before.Reconciles),
		Failed:     diff(c.Failed, before.Failed),
	}
}

// writeVerbs are the verbs of apiserver_request_total that write (dry
// runs included: the server does all the work but the storing).
var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "DELETE": true, "DELETECOLLECTION": true, "APPLY": true}

// backgroundWrites are the resources the control plane writes on its own
// while the apps are idle, never the workers: leader election and the
// apiserver's identity (leases), the simulated node's heartbeats
// (nodes/status), kube-controller-manager's status of Deployments and
// ReplicaSets and its ReplicaSets; and the access and token reviews,
// which store nothing (gitops-apiserver asks them about the harness's own
// requests: its /metrics and watches).
var backgroundWrites = map[string]bool{
	"coordination.k8s.io/leases": true, "nodes/status": true, "nodes": true,
	"apps/deployments/status": true, "apps/replicasets": true, "apps/replicasets/status": true,
	"authorization.k8s.io/subjectaccessreviews": true, "authentication.k8s.io/tokenreviews": true,
}

// splitWrites picks the write requests out of counts by "resource VERB",
// apart the control plane's own (backgroundWrites).
func splitWrites(byKind map[string]float64) (writes, background map[string]float64) {
	writes, background = map[string]float64{}, map[string]float64{}
	for k, v := range byKind {
		i := strings.LastIndexByte(k, ' ')
		if i < 0 || !writeVerbs[k[i+1:]] {
			continue
		}
		if backgroundWrites[k[:i]] {
			background[k] += v
		} else {
			writes[k] += v
		}
	}
	return writes, background
}

// top lists the most frequent kinds of request, e.g.
// "apps/deployments APPLY 1000", at most n of them.
func top(byKind map[string]float64, n int) string {
	keys := mostFrequent(byKind, n, func(string) bool { return true })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, byKind[k]))
	}
	return strings.Join(parts, ", ")
}

// mostFrequent returns at most n of the keys that keep accepts, the highest
// counts first (ties by name).
func mostFrequent(byKind map[string]float64, n int, keep func(string) bool) []string {
	keys := make([]string, 0, len(byKind))
	for k := range byKind {
		if keep(k) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if byKind[keys[i]] != byKind[keys[j]] {
			return byKind[keys[i]] > byKind[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) > n {
		keys = keys[:n]
	}
	return keys
}

// breakdown lists the 409s by resource, most first, e.g.
// "apps/deployments APPLY: 3".
func (c requestCounts) breakdown() string {
	keys := make([]string, 0, len(c.Conflicts))
	for k := range c.Conflicts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if c.Conflicts[keys[i]] != c.Conflicts[keys[j]] {
			return c.Conflicts[keys[i]] > c.Conflicts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		note := ""
		if who := serverOwnConflicts[k]; who != "" {
			note = " (" + who + ", not counted)"
		}
		parts = append(parts, fmt.Sprintf("%s: %.0f%s", k, c.Conflicts[k], note))
	}
	return strings.Join(parts, ", ")
}

// parseRequestCounts reads apiserver_request_total from a Prometheus text
// exposition.
func parseRequestCounts(body []byte) (requestCounts, error) {
	out := requestCounts{Conflicts: map[string]float64{}, ByKind: map[string]float64{}, Seconds: map[string]float64{},
		ByVerb: map[string]float64{}, Reconciles: map[string]float64{}, Failed: map[string]float64{}}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	const metric = "apiserver_request_total{"
	const duration = "apiserver_request_duration_seconds_sum{"
	const reconciles = "gotk_reconcile_total{"
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, reconciles); ok {
			if end := strings.LastIndex(rest, "}"); end >= 0 {
				if f := strings.Fields(rest[end+1:]); len(f) > 0 {
					if v, err := strconv.ParseFloat(f[0], 64); err == nil {
						out.Reconciles[parseLabels(rest[:end])["kind"]] += v
					}
				}
			}
			continue
		}
		if rest, ok := strings.CutPrefix(line, duration); ok {
			if end := strings.LastIndex(rest, "}"); end >= 0 {
				if f := strings.Fields(rest[end+1:]); len(f) > 0 {
					if v, err := strconv.ParseFloat(f[0], 64); err == nil {
						out.Seconds[requestKey(parseLabels(rest[:end]))] += v
					}
				}
			}
			continue
		}
		if !strings.HasPrefix(line, metric) {
			continue
		}
		end := strings.LastIndex(line, "}")
		if end < 0 {
			continue
		}
		fields := strings.Fields(line[end+1:])
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return out, fmt.Errorf("apiserver_request_total: %q: %w", line, err)
		}
		labels := parseLabels(line[len(metric):end])
		out.Total += v
		key := requestKey(labels)
		out.ByKind[key] += v
		verb := labels["verb"]
		if labels["dry_run"] != "" {
			verb += " dry-run"
		}
		out.ByVerb[verb] += v
		if code, err := strconv.Atoi(labels["code"]); err == nil && code >= 400 {
			out.Failed[key+" "+labels["code"]] += v
		}
		if labels["code"] == "409" {
			out.Conflicts[key] += v
		}
	}
	return out, sc.Err()
}

// requestKey is "group/resource[/subresource] VERB" of a request metric.
func requestKey(labels map[string]string) string {
	key := labels["resource"]
	if g := labels["group"]; g != "" {
		key = g + "/" + key
	}
	if s := labels["subresource"]; s != "" {
		key += "/" + s
	}
	return key + " " + labels["verb"]
}

// latencies lists the mean duration of the most frequent kinds of
// request, e.g. "apps/deployments APPLY 12.3 ms", at most n of them.
func latencies(c requestCounts, n int) string {
	keys := mostFrequent(c.ByKind, n, func(k string) bool {
		return c.Seconds[k] > 0 && !strings.HasSuffix(k, " WATCH")
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.1f ms", k, 1000*c.Seconds[k]/c.ByKind[k]))
	}
	return strings.Join(parts, ", ")
}

// parseLabels parses `a="x",b="y"` (label values here never hold quotes).
func parseLabels(s string) map[string]string {
	out := map[string]string{}
	for s != "" {
		eq := strings.Index(s, `="`)
		if eq < 0 {
			break
		}
		name := strings.TrimLeft(s[:eq], ", ")
		rest := s[eq+2:]
		q := strings.Index(rest, `"`)
		if q < 0 {
			break
		}
		out[name] = rest[:q]
		s = rest[q+1:]
	}
	return out
}

// findPID finds the process whose command line has every one of args, e.g.
// the --data-dir of this control plane's gitops-apiserver: other control
// planes may run the same binaries on this machine.
func findPID(args ...string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		have := map[string]bool{}
		for _, a := range bytes.Split(b, []byte{0}) {
			have[string(a)] = true
		}
		all := true
		for _, a := range args {
			all = all && have[a]
		}
		if all {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no process with arguments %s", strings.Join(args, " "))
}

// peakRSS is the process's resident set high-water mark (VmHWM) in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest) // "123456 kB"
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("/proc/%d/status: unexpected %q", pid, line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmHWM", pid)
}

// clockTicks is the unit of /proc/<pid>/stat's times (USER_HZ), 100 on
// every Linux this runs on.
const clockTicks = 100

// cpuSeconds is the CPU time (user + system) a process has used, with its
// waited-for children's when children is set.
func cpuSeconds(pid int, children bool) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: the fields start after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): utime, stime, cutime, cstime are 14–17.
	if len(f) < 15 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	last := 13
	if children {
		last = 15
	}
	var ticks int64
	for _, s := range f[11 : last+1] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return float64(ticks) / clockTicks, nil
}

// cpuUse is the CPU seconds each process of a run used in a phase.
type cpuUse struct {
	GitOps  float64 `json:"gitopsApiserver"`
	Kube    float64 `json:"kubeApiserver"`
	Etcd    float64 `json:"etcd"`
	Harness float64 `json:"harness"` // with its kubectl and git children
	// Cluster is kube-controller-manager, kube-scheduler and the simulated
	// node (kwok) together, when the control plane runs them.
	Cluster float64 `json:"clusterComponents,omitempty"`
}

func (c cpuUse) String() string {
	return fmt.Sprintf("gitops-apiserver %.1f s, kube-apiserver %.1f s, etcd %.1f s, harness+kubectl+git %.1f s, "+
		"kube-controller-manager+kube-scheduler+kwok %.1f s", c.GitOps, c.Kube, c.Etcd, c.Harness, c.Cluster)
}

func (c cpuUse) since(before cpuUse) cpuUse {
	return cpuUse{c.GitOps - before.GitOps, c.Kube - before.Kube, c.Etcd - before.Etcd, c.Harness - before.Harness,
		c.Cluster - before.Cluster}
}

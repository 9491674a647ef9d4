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
}

// serverOwnConflicts are 409s kube-apiserver causes itself, not its
// clients: its ClusterIP allocator creates IPAddress objects when a Service
// is created and retries when two allocations race.
var serverOwnConflicts = map[string]bool{"networking.k8s.io/ipaddresses POST": true}

// conflicts is the number of 409 answers to clients.
func (c requestCounts) conflicts() float64 {
	var s float64
	for k, v := range c.Conflicts {
		if !serverOwnConflicts[k] {
			s += v
		}
	}
	return s
}

// since returns c minus an earlier scrape.
func (c requestCounts) since(before requestCounts) requestCounts {
	out := requestCounts{Total: c.Total - before.Total, Conflicts: map[string]float64{}}
	for k, v := range c.Conflicts {
		if d := v - before.Conflicts[k]; d > 0 {
			out.Conflicts[k] = d
		}
	}
	return out
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
		if serverOwnConflicts[k] {
			note = " (kube-apiserver's own, not counted)"
		}
		parts = append(parts, fmt.Sprintf("%s: %.0f%s", k, c.Conflicts[k], note))
	}
	return strings.Join(parts, ", ")
}

// parseRequestCounts reads apiserver_request_total from a Prometheus text
// exposition.
func parseRequestCounts(body []byte) (requestCounts, error) {
	out := requestCounts{Conflicts: map[string]float64{}}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	const metric = "apiserver_request_total{"
	for sc.Scan() {
		line := sc.Text()
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
		if labels["code"] == "409" {
			key := labels["resource"]
			if g := labels["group"]; g != "" {
				key = g + "/" + key
			}
			if s := labels["subresource"]; s != "" {
				key += "/" + s
			}
			out.Conflicts[key+" "+labels["verb"]] += v
		}
	}
	return out, sc.Err()
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

// findPID finds the process whose command line has arg, e.g. the
// --data-dir of this control plane's gitops-apiserver: other control planes
// may run the same binaries on this machine.
func findPID(arg string) (int, error) {
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
		for _, a := range bytes.Split(b, []byte{0}) {
			if string(a) == arg {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("no process with argument %s", arg)
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

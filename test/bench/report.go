package main

import (
	"fmt"
	"sort"
	"strings"
)

// report is everything a bench invocation measured, with its settings.
type report struct {
	// Workload is workloadKustomization (also when empty, in reports
	// written before there was a choice) or workloadHelmRelease.
	Workload string `json:"workload,omitempty"`
	Date     string `json:"date"`
	Machine  string `json:"machine"`
	// KubeVersion is the k8s.io/kubernetes release the tools are built from
	// (the binaries themselves report no version).
	KubeVersion string   `json:"kubeVersion"`
	GitOpsArgs  []string `json:"gitopsArgs"`
	SharedEtcd  bool     `json:"sharedEtcd"`
	KCMQPS      int      `json:"kcmQPS,omitempty"`
	Phase2      bool     `json:"phase2"`
	Timeout     string   `json:"phaseTimeout"`
	// ReferenceFresh says the references ran each on a fresh control
	// plane (reports before it ran them after phase 1, on the main one).
	ReferenceFresh bool         `json:"referenceOnFreshControlPlane"`
	Runs           []*runResult `json:"runs"`
}

// stat is the median and spread of a measure over runs.
type stat struct {
	med, min, max float64
	n             int
}

// stats summarizes the values measured (v reports whether a run measured it).
func stats(runs []*runResult, v func(*runResult) (float64, bool)) stat {
	var xs []float64
	for _, r := range runs {
		if x, ok := v(r); ok {
			xs = append(xs, x)
		}
	}
	if len(xs) == 0 {
		return stat{}
	}
	sort.Float64s(xs)
	med := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		med = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	return stat{med: med, min: xs[0], max: xs[len(xs)-1], n: len(xs)}
}

// measure is one row of the per-N table.
type measure struct {
	name   string
	format func(float64) string
	value  func(*runResult) (float64, bool)
}

func seconds(x float64) string { return fmt.Sprintf("%.1f s", x) }
func ratio(x float64) string   { return fmt.Sprintf("%.2f×", x) }
func mib(x float64) string     { return fmt.Sprintf("%.0f MiB", x/(1<<20)) }
func count(x float64) string   { return fmt.Sprintf("%.0f", x) }
func perApp(x float64) string  { return fmt.Sprintf("%.2f", x) }
func millis(x float64) string  { return fmt.Sprintf("%.1f ms", 1000*x) }

func positive(x float64) (float64, bool) { return x, x > 0 }

// measures are the per-N table's rows for a workload.
func measures(workload string) []measure {
	k := kinds(workload)
	ms := []measure{
		{"ours: all " + k.appliers + " Ready", seconds, func(r *runResult) (float64, bool) { return positive(r.AllReady) }},
		{"ours: all " + k.sources + " Ready", seconds, func(r *runResult) (float64, bool) { return positive(r.SourcesReady) }},
	}
	ms = append(ms, commonMeasures[:4]...)
	ms = append(ms, feedFloorMeasures(workload)...)
	if workload == workloadHelmRelease {
		ms = append(ms, measure{"phase 2: chart 1.0.1 released everywhere, POST /reconcile", seconds,
			func(r *runResult) (float64, bool) { return positive(r.Phase2Reconcile) }})
	} else {
		ms = append(ms, phase2Measures...)
		ms = append(ms, idleMeasures...)
	}
	for _, m := range commonMeasures[4:] {
		if workload == workloadHelmRelease && m.name == harnessCPU {
			m.name = "CPU, phase 1: harness (with the chart server), kubectl"
		}
		ms = append(ms, m)
	}
	return ms
}

const harnessCPU = "CPU, phase 1: harness, kubectl, git server"

const (
	refA           = "reference (a): 1 kubectl, fresh control plane"
	refB           = "reference (b): 8 kubectl, fresh control plane"
	feedFloorRatio = "ours / feed floor"
	idleWrites     = "idle: writes per app per interval"
	idleCPU        = "idle: CPU per app per interval, gitops-apiserver + kube-apiserver"
	driftEdit      = "drift: a manual edit of a managed object reverted after"
)

// feedFloorMeasures are the feed floor's rows.
func feedFloorMeasures(workload string) []measure {
	what := "2N Flux objects"
	if workload == workloadHelmRelease {
		what = "the HelmRepository and N HelmReleases"
	}
	return []measure{
		{"feed floor: " + what + " stored, --disable-workers, fresh control plane", seconds,
			func(r *runResult) (float64, bool) { return positive(r.FeedFloor) }},
		{feedFloorRatio, ratio, func(r *runResult) (float64, bool) { return quotient(r.AllReady, r.FeedFloor) }},
		{"feed floor: its kubectl apply", seconds, func(r *runResult) (float64, bool) { return positive(r.FeedFloorApply) }},
		{"CPU, feed floor: gitops-apiserver", seconds, func(r *runResult) (float64, bool) { return positive(r.FeedFloorCPU.GitOps) }},
		{"CPU, feed floor: kube-apiserver", seconds, func(r *runResult) (float64, bool) { return positive(r.FeedFloorCPU.Kube) }},
	}
}

// idleMeasured says the run measured an idle window.
func idleMeasured(r *runResult) bool { return r.Idle != nil && r.Idle.WindowSeconds > 0 }

// idleValue is a measure of the idle window per app and interval.
func idleValue(v func(*idleResult) float64) func(*runResult) (float64, bool) {
	return func(r *runResult) (float64, bool) {
		if !idleMeasured(r) {
			return 0, false
		}
		return r.Idle.perAppInterval(v(r.Idle), r.N), true
	}
}

// idleMeasures are the idle phase's rows.
var idleMeasures = []measure{
	{"idle: interval", seconds, func(r *runResult) (float64, bool) {
		if !idleMeasured(r) {
			return 0, false
		}
		return r.Idle.IntervalSeconds, true
	}},
	{"idle: from the interval change to the window (not timed)", seconds, func(r *runResult) (float64, bool) {
		if !idleMeasured(r) {
			return 0, false
		}
		return r.Idle.SettleSeconds, true
	}},
	{idleWrites, perApp, idleValue((*idleResult).writes)},
	{driftEdit, millis, func(r *runResult) (float64, bool) {
		if r.Drift == nil {
			return 0, false
		}
		return positive(r.Drift.EditSeconds)
	}},
	{"drift: a deleted managed object recreated after", millis, func(r *runResult) (float64, bool) {
		if r.Drift == nil {
			return 0, false
		}
		return positive(r.Drift.DeleteSeconds)
	}},
	{"idle: kube-apiserver writes per app per interval", perApp, idleValue(func(i *idleResult) float64 { return sum(i.KubeWrites) })},
	{"idle: Flux object changes per app per interval (watched)", perApp, idleValue(func(i *idleResult) float64 { return sum(i.FluxChanges) })},
	{"idle: gitops-apiserver write requests per app per interval", perApp, idleValue(func(i *idleResult) float64 { return sum(i.GitOpsWrites) })},
	{"idle: kube-apiserver requests per app per interval", perApp, idleValue(func(i *idleResult) float64 { return sum(i.KubeByVerb) })},
	{"idle: gitops-apiserver requests per app per interval", perApp, idleValue(func(i *idleResult) float64 { return sum(i.GitOpsByVerb) })},
	{"idle: control plane's own writes (not counted) per app per interval", perApp,
		idleValue(func(i *idleResult) float64 { return sum(i.KubeBackground) })},
	{"idle: Kustomization runs per app in the window", perApp, func(r *runResult) (float64, bool) {
		if !idleMeasured(r) {
			return 0, false
		}
		return r.Idle.Reconciles["Kustomization"] / float64(r.N), true
	}},
	{"idle: GitRepository runs per app in the window", perApp, func(r *runResult) (float64, bool) {
		if !idleMeasured(r) {
			return 0, false
		}
		return r.Idle.Reconciles["GitRepository"] / float64(r.N), true
	}},
	{idleCPU, millis, idleValue(func(i *idleResult) float64 { return i.CPU.GitOps + i.CPU.Kube })},
	{"idle: CPU per app per interval, gitops-apiserver", millis, idleValue(func(i *idleResult) float64 { return i.CPU.GitOps })},
	{"idle: CPU per app per interval, kube-apiserver", millis, idleValue(func(i *idleResult) float64 { return i.CPU.Kube })},
	{"idle: CPU per app per interval, etcd", millis, idleValue(func(i *idleResult) float64 { return i.CPU.Etcd })},
	{"idle: cores used, gitops-apiserver + kube-apiserver", perApp, func(r *runResult) (float64, bool) {
		if !idleMeasured(r) {
			return 0, false
		}
		return (r.Idle.CPU.GitOps + r.Idle.CPU.Kube) / r.Idle.WindowSeconds, true
	}},
}

var phase2Measures = []measure{
	{"phase 2: new commit applied, polling (interval 1m)", seconds, func(r *runResult) (float64, bool) { return positive(r.Phase2Poll) }},
	{"phase 2: new commit applied, POST /reconcile", seconds, func(r *runResult) (float64, bool) { return positive(r.Phase2Reconcile) }},
}

// commonMeasures are the rows every workload has: the reference (the first
// four), then the phase 2 rows, then the rest.
var commonMeasures = []measure{
	{refA, seconds, func(r *runResult) (float64, bool) { return positive(r.RefA) }},
	{refB, seconds, func(r *runResult) (float64, bool) { return positive(r.RefB) }},
	{"ours / reference (b)", ratio, func(r *runResult) (float64, bool) { return quotient(r.AllReady, r.RefB) }},
	{"ours / reference (a)", ratio, func(r *runResult) (float64, bool) { return quotient(r.AllReady, r.RefA) }},
	{"gitops-apiserver peak RSS, phase 1", mib, func(r *runResult) (float64, bool) { return positive(float64(r.GitOpsPeak1)) }},
	{"gitops-apiserver peak RSS, whole run", mib, func(r *runResult) (float64, bool) { return positive(float64(r.GitOpsPeak)) }},
	{"kube-apiserver peak RSS, phase 1", mib, func(r *runResult) (float64, bool) { return positive(float64(r.KubePeak1)) }},
	// Counted whenever scraped, also when the phase did not complete.
	{"409 Conflicts, phase 1", count, func(r *runResult) (float64, bool) { return r.Phase1.conflicts(), r.Phase1.scraped() }},
	{"409 Conflicts, phase 2", count, func(r *runResult) (float64, bool) { return r.Phase2.conflicts(), r.Phase2.scraped() }},
	{"kube-apiserver requests per app, phase 1", count, func(r *runResult) (float64, bool) {
		return r.Phase1.KubeRequests / float64(r.N), r.Phase1.scraped()
	}},
	{"gitops-apiserver requests per app, phase 1", count, func(r *runResult) (float64, bool) {
		return r.Phase1.GitOpsRequests / float64(r.N), r.Phase1.scraped()
	}},
	// CPU seconds: the two cores are saturated, so these say where the
	// time goes.
	{"CPU, phase 1: gitops-apiserver", seconds, func(r *runResult) (float64, bool) { return positive(r.Phase1CPU.GitOps) }},
	{"CPU, phase 1: kube-apiserver", seconds, func(r *runResult) (float64, bool) { return positive(r.Phase1CPU.Kube) }},
	{"CPU, phase 1: etcd", seconds, func(r *runResult) (float64, bool) { return positive(r.Phase1CPU.Etcd) }},
	{harnessCPU, seconds, func(r *runResult) (float64, bool) { return positive(r.Phase1CPU.Harness) }},
	{"CPU, phase 1: kube-controller-manager, kube-scheduler, kwok", seconds, func(r *runResult) (float64, bool) { return positive(r.Phase1CPU.Cluster) }},
	{"CPU, phase 2 /reconcile: gitops-apiserver", seconds, func(r *runResult) (float64, bool) { return positive(r.Phase2CPU.GitOps) }},
	{"CPU, phase 2 /reconcile: kube-apiserver", seconds, func(r *runResult) (float64, bool) { return positive(r.Phase2CPU.Kube) }},
	{"CPU, reference (b): kube-apiserver", seconds, func(r *runResult) (float64, bool) { return positive(r.RefBCPU.Kube) }},
	{"CPU, reference (b): etcd", seconds, func(r *runResult) (float64, bool) { return positive(r.RefBCPU.Etcd) }},
	{"CPU, reference (b): kubectl", seconds, func(r *runResult) (float64, bool) { return positive(r.RefBCPU.Harness) }},
	{"not Ready at the end", count, func(r *runResult) (float64, bool) { return float64(r.NotReadyAtEnd), true }},
}

// summaryMeasures are the summary table's columns after N.
func summaryMeasures(workload string) []measure {
	byName := map[string]measure{}
	for _, m := range measures(workload) {
		byName[m.name] = m
	}
	var out []measure
	for _, name := range summaryNames(workload) {
		out = append(out, byName[name])
	}
	return out
}

// summaryNames are the summary table's measures, in order.
func summaryNames(workload string) []string {
	names := []string{
		"ours: all " + kinds(workload).appliers + " Ready", "ours / reference (b)", feedFloorRatio, "ours / reference (a)",
		refA, refB, feedFloorMeasures(workload)[0].name, "gitops-apiserver peak RSS, whole run",
		"kube-apiserver peak RSS, phase 1", "409 Conflicts, phase 1",
	}
	if workload != workloadHelmRelease {
		names = append(names, idleWrites, idleCPU, driftEdit)
	}
	return names
}

// summaryHeader heads the summary table's columns after N and the runs.
func summaryHeader(workload string) []string {
	h := []string{"ours: all " + kinds(workload).appliers + " Ready", "ours / ref (b)", "ours / feed floor", "ours / ref (a)",
		"ref (a) 1 kubectl", "ref (b) 8 kubectl", "feed floor", "gitops-apiserver peak RSS", "kube-apiserver peak RSS", "409s (phase 1)"}
	if workload != workloadHelmRelease {
		h = append(h, "idle writes / app / interval", "idle CPU / app / interval", "edit reverted")
	}
	return h
}

func quotient(a, b float64) (float64, bool) {
	if a <= 0 || b <= 0 {
		return 0, false
	}
	return a / b, true
}

func (s stat) cell(format func(float64) string) string {
	switch {
	case s.n == 0:
		return "—"
	case s.min == s.max:
		return format(s.med)
	default:
		return fmt.Sprintf("%s (%s – %s)", format(s.med), format(s.min), format(s.max))
	}
}

// byN groups the runs by N, in the order first measured.
func (rep *report) byN() (ns []int, runs map[int][]*runResult) {
	runs = map[int][]*runResult{}
	for _, r := range rep.Runs {
		if _, ok := runs[r.N]; !ok {
			ns = append(ns, r.N)
		}
		runs[r.N] = append(runs[r.N], r)
	}
	return ns, runs
}

// markdown renders the summary table, one table per N and every failure.
func (rep *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s, %s\n\n", kinds(rep.Workload).title, rep.Date)
	fmt.Fprintf(&b, "Workload: %s. ", rep.workloadText())
	fmt.Fprintf(&b, "%s, kube-apiserver %s. gitops-apiserver flags: `%s`; storage: %s; phase 2: %v; phase timeout %s. "+
		"Cells are the median of the runs that measured them, with (min – max).\n\n",
		rep.Machine, rep.KubeVersion, strings.Join(rep.GitOpsArgs, " "), storage(rep.SharedEtcd), rep.Phase2, rep.Timeout)
	if rep.KCMQPS > 0 {
		fmt.Fprintf(&b, "kube-controller-manager ran with `--kube-api-qps=%d` (its default is 20 per controller). ", rep.KCMQPS)
	}
	if rep.ReferenceFresh {
		b.WriteString("The references (a) and (b) ran each on a fresh control plane of their own (without gitops-apiserver), " +
			"the feed floor on another with gitops-apiserver `--disable-workers`. ")
	}
	if rep.Workload != workloadHelmRelease {
		b.WriteString("Idle: after phase 2, every GitRepository and Kustomization set to the idle interval; once all were Ready at it " +
			"and kube-controller-manager had observed every Deployment, one interval measured; writes are kube-apiserver's write " +
			"requests (POST, PUT, PATCH, DELETE, APPLY, dry runs included) without the control plane's own (leases, node heartbeats, " +
			"Deployment and ReplicaSet status) plus the stored changes of the Flux objects (watched) or gitops-apiserver's write " +
			"requests, whichever is more.")
	}
	b.WriteString("\n\n")
	ns, runs := rep.byN()
	header := append([]string{"N", "runs complete"}, summaryHeader(rep.Workload)...)
	fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
	for _, n := range ns {
		rs := runs[n]
		row := []string{fmt.Sprint(n), fmt.Sprintf("%d/%d", complete(rs), len(rs))}
		for _, m := range summaryMeasures(rep.Workload) {
			row = append(row, stats(rs, m.value).cell(m.format))
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
	}
	for _, n := range ns {
		rep.writeN(&b, n, runs[n])
	}
	return b.String()
}

// workloadText says what phase 1 sends.
func (rep *report) workloadText() string {
	if rep.Workload == workloadHelmRelease {
		return fmt.Sprintf("one HelmRepository and N HelmReleases (chart %s %s, version %q, from a loopback Helm repository; "+
			"4 objects per release)", chartName, chartVersion(1), chartVersionRange)
	}
	return "N GitRepositories and N Kustomizations (one loopback git repository; 4 objects per app)"
}

func storage(shared bool) string {
	if shared {
		return "the control plane's etcd (--etcd-servers)"
	}
	return "embedded etcd"
}

func complete(rs []*runResult) int {
	c := 0
	for _, r := range rs {
		if r.ok() {
			c++
		}
	}
	return c
}

// writeN writes one N's table, its 409s and its failures.
func (rep *report) writeN(b *strings.Builder, n int, rs []*runResult) {
	fmt.Fprintf(b, "\n## N = %d\n\n%d of %d runs complete.\n\n", n, complete(rs), len(rs))
	b.WriteString("| measure | median | min – max | runs |\n|---|---|---|---|\n")
	for _, m := range measures(rep.Workload) {
		s := stats(rs, m.value)
		spread := "—"
		if s.n > 0 {
			spread = m.format(s.min) + " – " + m.format(s.max)
		}
		med := "—"
		if s.n > 0 {
			med = m.format(s.med)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %d |\n", m.name, med, spread, s.n)
	}
	rep.writeIdleVerbs(b, rs)
	var notes []string
	for _, r := range rs {
		for phase, c := range map[string]serverCounts{"phase 1": r.Phase1, "phase 2": r.Phase2} {
			if g := (requestCounts{Conflicts: c.GitOpsConflicts}); len(g.Conflicts) > 0 {
				notes = append(notes, fmt.Sprintf("- run %d, %s, gitops-apiserver 409s: %s", r.Run, phase, g.breakdown()))
			}
			if k := (requestCounts{Conflicts: c.KubeConflicts}); len(k.Conflicts) > 0 {
				notes = append(notes, fmt.Sprintf("- run %d, %s, kube-apiserver 409s: %s", r.Run, phase, k.breakdown()))
			}
		}
		for _, f := range r.Failures {
			notes = append(notes, fmt.Sprintf("- run %d failed: %s", r.Run, oneLine(f)))
		}
	}
	sort.Strings(notes)
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
}

// oneLine keeps a failure readable in a markdown list.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}

// writeIdleVerbs writes the idle window's requests per app and interval
// by verb, for each server (median of the runs).
func (rep *report) writeIdleVerbs(b *strings.Builder, rs []*runResult) {
	verbs := map[string]bool{}
	for _, r := range rs {
		if idleMeasured(r) {
			for v := range r.Idle.KubeByVerb {
				verbs[v] = true
			}
			for v := range r.Idle.GitOpsByVerb {
				verbs[v] = true
			}
		}
	}
	if len(verbs) == 0 {
		return
	}
	names := make([]string, 0, len(verbs))
	for v := range verbs {
		names = append(names, v)
	}
	sort.Strings(names)
	b.WriteString("\nIdle window, requests per app per interval by verb (median):\n\n")
	b.WriteString("| verb | kube-apiserver | gitops-apiserver |\n|---|---|---|\n")
	for _, v := range names {
		k := stats(rs, idleValue(func(i *idleResult) float64 { return i.KubeByVerb[v] }))
		g := stats(rs, idleValue(func(i *idleResult) float64 { return i.GitOpsByVerb[v] }))
		fmt.Fprintf(b, "| %s | %s | %s |\n", v, perApp(k.med), perApp(g.med))
	}
}

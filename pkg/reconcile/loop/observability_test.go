package loop

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	dto "github.com/prometheus/client_model/go"
	"k8s.io/component-base/metrics"
	"k8s.io/klog/v2"
)

// logLines collects what a logger writes, one JSON object a line.
type logLines struct {
	mu    sync.Mutex
	lines []map[string]interface{}
}

func (l *logLines) logger() klog.Logger {
	return funcr.NewJSON(func(obj string) {
		var m map[string]interface{}
		if err := json.Unmarshal([]byte(obj), &m); err != nil {
			panic(err)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, m)
	}, funcr.Options{Verbosity: 1})
}

// runLines are the lines that end a run.
func (l *logLines) runLines() []map[string]interface{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]interface{}
	for _, m := range l.lines {
		if msg, _ := m["msg"].(string); strings.HasPrefix(msg, "Reconciliation ") {
			out = append(out, m)
		}
	}
	return out
}

func TestLoop_LogsEachRunWithFluxsKeys(t *testing.T) {
	var logs logLines
	ctx, cancel := context.WithCancel(klog.NewContext(context.Background(), logs.logger()))
	t.Cleanup(cancel)
	rec := &countingReconciler{seen: make(chan string, 10), after: 50 * time.Millisecond, revision: "main@sha1:abc"}
	startWith(t, ctx, nil, rec, repo("a"))
	waitFor(t, rec.seen, "a")
	waitFor(t, rec.seen, "a")
	deadline := time.Now().Add(5 * time.Second)
	for len(logs.runLines()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	lines := logs.runLines()
	if len(lines) < 2 {
		t.Fatalf("%d lines end a run, want 2 or more: %v", len(lines), logs.lines)
	}
	ids := map[interface{}]bool{}
	for _, l := range lines[:2] {
		for key, want := range map[string]interface{}{
			"controller":      "gitrepository",
			"controllerGroup": "source.toolkit.fluxcd.io",
			"controllerKind":  "GitRepository",
			"name":            "a",
			"namespace":       "ns",
			"revision":        "main@sha1:abc",
		} {
			if l[key] != want {
				t.Errorf("%s = %v, want %v in %v", key, l[key], want, l)
			}
		}
		if ref, _ := l["GitRepository"].(map[string]interface{}); ref["name"] != "a" || ref["namespace"] != "ns" {
			t.Errorf("GitRepository = %v, want {name: a, namespace: ns}", l["GitRepository"])
		}
		if msg, _ := l["msg"].(string); !strings.HasPrefix(msg, "Reconciliation finished in ") || !strings.Contains(msg, ", next run in ") {
			t.Errorf("msg = %q", msg)
		}
		id, _ := l["reconcileID"].(string)
		if id == "" || ids[id] {
			t.Errorf("reconcileID %q is empty or not new", id)
		}
		ids[id] = true
	}
}

func TestLoop_LogsFailuresAsErrors(t *testing.T) {
	var logs logLines
	ctx, cancel := context.WithCancel(klog.NewContext(context.Background(), logs.logger()))
	t.Cleanup(cancel)
	rec := &countingReconciler{seen: make(chan string, 10), err: Failf("GitOperationFailed", "boom"), after: time.Hour}
	startWith(t, ctx, nil, rec, repo("a"))
	waitFor(t, rec.seen, "a")
	deadline := time.Now().Add(5 * time.Second)
	for len(logs.runLines()) < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	lines := logs.runLines()
	if len(lines) == 0 {
		t.Fatal("no line ends the run")
	}
	// funcr marks errors with "error" holding the error's text, as zapr does.
	if l := lines[0]; l["error"] != "boom" || !strings.HasPrefix(l["msg"].(string), "Reconciliation failed after ") {
		t.Errorf("failure logged as %v", l)
	}
}

// gather reads one metric family's series as label sets and values.
func gather(t *testing.T, reg metrics.KubeRegistry, name string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			out[strings.Join(labels, ",")] = value(m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetHistogram() != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return 0
}

func TestMetrics_RecordRunsAndForgetObjectsWhenTheControllerStops(t *testing.T) {
	m := newMetrics()
	reg := metrics.NewKubeRegistry()
	reg.MustRegister(m.collectors()...)

	ctx, cancel := context.WithCancel(context.Background())
	ok := &countingReconciler{seen: make(chan string, 10), after: time.Hour}
	suspended := repo("a")
	suspended.Spec.Suspend = true
	h := startWith(t, ctx, m, ok, suspended)
	waitFor(t, ok.seen, "a")

	deadline := time.Now().Add(5 * time.Second)
	for gather(t, reg, "controller_runtime_reconcile_total")["controller=gitrepository,result=requeue_after"] < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	for name, want := range map[string]map[string]float64{
		"controller_runtime_reconcile_total": {
			"controller=gitrepository,result=requeue_after": 1,
			"controller=gitrepository,result=error":         0,
			"controller=gitrepository,result=success":       0,
		},
		"controller_runtime_reconcile_errors_total":    {"controller=gitrepository": 0},
		"controller_runtime_max_concurrent_reconciles": {"controller=gitrepository": 2},
		"gotk_reconcile_total": {
			"kind=GitRepository,result=succeeded":   1,
			"kind=GitRepository,result=failed":      0,
			"kind=GitRepository,result=stalled":     0,
			"kind=GitRepository,result=waiting":     0,
			"kind=GitRepository,result=progressing": 0,
		},
		"gotk_reconcile_duration_seconds": {"kind=GitRepository,name=a,namespace=ns": 1},
		"gotk_suspend_status":             {"kind=GitRepository,name=a,namespace=ns": 1},
		"gotk_reconcile_condition": {
			"kind=GitRepository,name=a,namespace=ns,status=True,type=Ready":    1,
			"kind=GitRepository,name=a,namespace=ns,status=False,type=Ready":   0,
			"kind=GitRepository,name=a,namespace=ns,status=Unknown,type=Ready": 0,
		},
	} {
		got := gather(t, reg, name)
		for labels, v := range want {
			if g, ok := got[labels]; !ok || g != v {
				t.Errorf("%s{%s} = %v (present: %v), want %v", name, labels, g, ok, v)
			}
		}
	}

	// A failure counts as an error.
	failing := &countingReconciler{seen: make(chan string, 10), err: Stallf("InvalidURL", "bad"), after: time.Hour}
	hb := startWith(t, ctx, m, failing, repo("b"))
	waitFor(t, failing.seen, "b")
	for gather(t, reg, "controller_runtime_reconcile_errors_total")["controller=gitrepository"] < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := gather(t, reg, "gotk_reconcile_total")["kind=GitRepository,result=stalled"]; got != 1 {
		t.Errorf("stalled runs = %v, want 1", got)
	}

	// Once the controller stops (a lost Lease), this replica reports no
	// object any more; the controller's counters stay.
	cancel()
	<-h.done
	<-hb.done
	for _, name := range []string{"gotk_reconcile_duration_seconds", "gotk_suspend_status"} {
		deadline := time.Now().Add(5 * time.Second)
		for len(gather(t, reg, name)) > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := gather(t, reg, name); len(got) > 0 {
			t.Errorf("%s after the controller stopped: %v", name, got)
		}
	}
	if got := gather(t, reg, "controller_runtime_reconcile_total"); len(got) == 0 {
		t.Error("controller_runtime_reconcile_total went away")
	}
}

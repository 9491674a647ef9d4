package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"
)

// fluxLogEntry is what `flux logs` decodes each line into (flux2
// cmd/flux/logs.go ControllerLogEntry): every field a string, so a line
// with another type under one of these keys stops it reading the log.
type fluxLogEntry struct {
	Timestamp      string `json:"ts"`
	Level          string `json:"level"`
	Message        string `json:"msg"`
	Error          string `json:"error,omitempty"`
	Logger         string `json:"logger"`
	Kind           string `json:"reconciler kind,omitempty"`
	ControllerKind string `json:"controllerKind,omitempty"`
	Name           string `json:"name,omitempty"`
	Namespace      string `json:"namespace,omitempty"`
}

// parseFluxLog decodes every line as `flux logs` does and fails on the
// first that does not decode.
func parseFluxLog(t *testing.T, out []byte) []fluxLogEntry {
	t.Helper()
	var entries []fluxLogEntry
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			t.Fatalf("not a JSON line: %q", line)
		}
		var e fluxLogEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("flux logs cannot parse %s: %v", line, err)
		}
		entries = append(entries, e)
	}
	return entries
}

// fluxLogsShows is `flux logs`' filter (--level, --kind, --name, and
// --namespace without --all-namespaces).
func fluxLogsShows(e fluxLogEntry, level, kind, name, namespace string) bool {
	return (level == "" || level == e.Level) &&
		(kind == "" || strings.EqualFold(kind, e.Kind) || strings.EqualFold(kind, e.ControllerKind)) &&
		(name == "" || strings.EqualFold(name, e.Name)) &&
		strings.EqualFold(namespace, e.Namespace)
}

func TestJSONLog_LinesParseAsFluxLogsAndFilterByObject(t *testing.T) {
	var out bytes.Buffer
	logger, control := newFluxJSONLogger(2, &out, nil)
	run := func(kind, ns, name string) klog.Logger {
		return logger.WithValues("controller", strings.ToLower(kind), "controllerKind", kind,
			kind, klog.KRef(ns, name), "namespace", ns, "name", name, "reconcileID", "id")
	}
	run("Kustomization", "apps", "app").Info("Reconciliation finished in 1s, next run in 10m0s", "revision", "main@sha1:abc")
	run("Kustomization", "apps", "other").Info("Reconciliation finished in 1s")
	run("GitRepository", "apps", "app").Error(errors.New("auth failed"), "Reconciliation failed after 1s")
	run("Kustomization", "apps", "app").V(1).Info("Health check in progress")
	logger.V(2).Info("a trace line")
	logger.V(3).Info("not logged at -v=2")
	// Values of another type under Flux's keys are written as strings.
	logger.Info("odd values", "name", struct{ A int }{1}, "namespace", 42, "error", []string{"x"})
	logger.WithName("leader").Info("named")
	control.Flush()

	entries := parseFluxLog(t, out.Bytes())
	if len(entries) != 7 {
		t.Fatalf("%d lines, want 7:\n%s", len(entries), out.String())
	}
	for _, e := range entries {
		if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", e.Timestamp); err != nil {
			t.Errorf("ts %q is not ISO 8601 with milliseconds: %v", e.Timestamp, err)
		}
	}
	levels := []string{"info", "info", "error", "debug", "trace", "info", "info"}
	for i, e := range entries {
		if e.Level != levels[i] {
			t.Errorf("line %d: level %q, want %q", i, e.Level, levels[i])
		}
	}
	if e := entries[2]; e.Error != "auth failed" {
		t.Errorf("error = %q, want the error's text", e.Error)
	}
	if e := entries[5]; e.Name != "{1}" || e.Namespace != "42" || e.Error != "[x]" {
		t.Errorf("odd values written as %+v", e)
	}
	if e := entries[6]; e.Logger != "leader" {
		t.Errorf("logger = %q", e.Logger)
	}
	// flux logs --kind=Kustomization --name=app --namespace=apps
	var shown []string
	for _, e := range entries {
		if fluxLogsShows(e, "", "Kustomization", "app", "apps") {
			shown = append(shown, e.Message)
		}
	}
	if want := []string{"Reconciliation finished in 1s, next run in 10m0s", "Health check in progress"}; strings.Join(shown, "|") != strings.Join(want, "|") {
		t.Errorf("flux logs --kind=Kustomization --name=app shows %q, want %q", shown, want)
	}
	// flux logs --level=error --namespace=apps
	shown = nil
	for _, e := range entries {
		if fluxLogsShows(e, "error", "", "", "apps") {
			shown = append(shown, e.ControllerKind+"/"+e.Name)
		}
	}
	if strings.Join(shown, ",") != "GitRepository/app" {
		t.Errorf("flux logs --level=error shows %q", shown)
	}

	// The kind key holds the object reference, as controller-runtime logs it.
	first := bytes.SplitN(out.Bytes(), []byte("\n"), 2)[0]
	var raw map[string]interface{}
	if err := json.Unmarshal(first, &raw); err != nil {
		t.Fatal(err)
	}
	if ref, _ := raw["Kustomization"].(map[string]interface{}); ref["name"] != "app" || ref["namespace"] != "apps" {
		t.Errorf("Kustomization = %v in %s", raw["Kustomization"], first)
	}
	if raw["revision"] != "main@sha1:abc" || raw["reconcileID"] != "id" || raw["controller"] != "kustomization" {
		t.Errorf("line %s", first)
	}
}

func TestJSONLog_SplitStreamSendsErrorsApart(t *testing.T) {
	var info, errs bytes.Buffer
	logger, _ := fluxJSONFactory{}.Create(logsapi.LoggingConfiguration{
		Options: logsapi.FormatOptions{JSON: logsapi.JSONOptions{OutputRoutingOptions: logsapi.OutputRoutingOptions{SplitStream: true}}},
	}, logsapi.LoggingOptions{InfoStream: &info, ErrorStream: &errs})
	logger.Info("fine")
	logger.Error(errors.New("bad"), "broken")
	if got := parseFluxLog(t, info.Bytes()); len(got) != 1 || got[0].Message != "fine" {
		t.Errorf("info stream: %+v", got)
	}
	if got := parseFluxLog(t, errs.Bytes()); len(got) != 1 || got[0].Message != "broken" || got[0].Error != "bad" {
		t.Errorf("error stream: %+v", got)
	}
}

func TestLogEncoding_IsFluxsNameForTheFormat(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		format string
	}{
		{nil, "text"},
		{[]string{"--log-encoding=json"}, "json"},
		{[]string{"--log-encoding=console"}, "text"},
		{[]string{"--logging-format=json"}, "json"},
		{[]string{"--log-encoding=json", "--logging-format=text"}, "text"},
	} {
		o := NewOptions()
		fss := o.Flags()
		fs := fss.FlagSet("logs")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if o.Logs.Format != tc.format {
			t.Errorf("%v: format %q, want %q", tc.args, o.Logs.Format, tc.format)
		}
	}
	o := NewOptions()
	fss := o.Flags()
	fs := fss.FlagSet("logs")
	fs.Init("logs", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse([]string{"--log-encoding=yaml"}); err == nil || !strings.Contains(err.Error(), "json or console") {
		t.Errorf("--log-encoding=yaml: %v", err)
	}
}

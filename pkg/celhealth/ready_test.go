package celhealth

import (
	"strings"
	"testing"
)

func TestReadyExpr_SeesSelfAndDep(t *testing.T) {
	self := map[string]any{"metadata": map[string]any{"name": "frontend", "labels": map[string]any{"app/version": "v1.2.3"}}}
	dep := func(version, ready string, generation, observed int64) map[string]any {
		return map[string]any{
			"metadata": map[string]any{"name": "backend", "generation": generation, "labels": map[string]any{"app/version": version}},
			"status": map[string]any{"observedGeneration": observed,
				"conditions": []any{map[string]any{"type": "Ready", "status": ready}}},
		}
	}
	const lockstep = `dep.metadata.labels['app/version'] == self.metadata.labels['app/version'] &&
  dep.status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True') &&
  dep.metadata.generation == dep.status.observedGeneration`
	tests := []struct {
		name string
		expr string
		dep  map[string]any
		want bool
	}{
		{"same version and ready", lockstep, dep("v1.2.3", "True", 2, 2), true},
		{"other version", lockstep, dep("v1.2.2", "True", 2, 2), false},
		{"not ready", lockstep, dep("v1.2.3", "False", 2, 2), false},
		{"generation not observed", lockstep, dep("v1.2.3", "True", 3, 2), false},
		{"dynamic result", "dep.metadata.labels['app/version'].startsWith('v1')", dep("v1.2.3", "False", 1, 1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := CompileReadyExpr(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Ready(self, tt.dep)
			if err != nil || got != tt.want {
				t.Errorf("Ready = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestReadyExpr_EvaluationErrors(t *testing.T) {
	r, err := CompileReadyExpr("dep.status.ready")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Ready(nil, map[string]any{"status": map[string]any{}}); err == nil || !strings.Contains(err.Error(), "no such key: ready") {
		t.Errorf("missing field: error %v", err)
	}
	if _, err := r.Ready(nil, map[string]any{"status": map[string]any{"ready": "yes"}}); err == nil || !strings.Contains(err.Error(), "not a bool") {
		t.Errorf("string result: error %v", err)
	}
}

func TestCompileReadyExpr_RefusesWhatCannotWork(t *testing.T) {
	for expr, want := range map[string]string{
		"":                                     "the expression is empty",
		"dep.status.":                          "Syntax error",
		"other.status.ready":                   "undeclared reference to 'other'",
		"dep.metadata.generation + 1":          "yields int, not a bool",
		"'ready'":                              "yields string, not a bool",
		"dep.status.conditions.exist(c, true)": "undeclared reference to 'exist'",
	} {
		_, err := CompileReadyExpr(expr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to mention %q", expr, err, want)
		}
	}
}

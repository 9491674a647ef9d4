package celhealth

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func widget(generation, observed int64, phase string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1",
		"kind":       "Widget",
		"metadata":   map[string]any{"name": "w", "namespace": "apps", "generation": generation},
		"status": map[string]any{
			"observedGeneration": observed,
			"phase":              phase,
			"conditions": []any{
				map[string]any{"type": "Ready", "status": map[string]string{"Running": "True", "Failed": "False"}[phase]},
			},
		},
	}}
	return u
}

func configMap(data map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "c", "namespace": "apps"},
		"data":     data,
	}}
}

var widgetCheck = Check{
	APIVersion: "example.com/v1", Kind: "Widget",
	InProgress: "status.phase == 'Pending'",
	Failed:     "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'False')",
	Current:    "status.conditions.exists(e, e.type == 'Ready' && e.status == 'True')",
}

func TestChecks_AssessInFluxOrder(t *testing.T) {
	tests := []struct {
		name   string
		checks []Check
		obj    *unstructured.Unstructured
		want   status.Status
		msg    string
	}{
		{name: "current", checks: []Check{widgetCheck}, obj: widget(2, 2, "Running"),
			want: status.CurrentStatus, msg: "healthCheckExprs[0].current is true"},
		{name: "failed", checks: []Check{widgetCheck}, obj: widget(2, 2, "Failed"),
			want: status.FailedStatus, msg: "healthCheckExprs[0].failed is true"},
		{name: "none true is in progress", checks: []Check{widgetCheck}, obj: widget(2, 2, "Unknown"),
			want: status.InProgressStatus, msg: "no expression of healthCheckExprs[0] is true"},
		{name: "inProgress before failed and current",
			checks: []Check{{APIVersion: "example.com/v1", Kind: "Widget", InProgress: "true", Failed: "true", Current: "true"}},
			obj:    widget(2, 2, "Running"), want: status.InProgressStatus, msg: "healthCheckExprs[0].inProgress is true"},
		{name: "failed before current",
			checks: []Check{{APIVersion: "example.com/v1", Kind: "Widget", Failed: "true", Current: "true"}},
			obj:    widget(2, 2, "Running"), want: status.FailedStatus},
		{name: "an older observed generation is in progress without evaluating",
			checks: []Check{{APIVersion: "example.com/v1", Kind: "Widget", Current: "nosuchfield"}},
			obj:    widget(3, 2, "Running"), want: status.InProgressStatus,
			msg: "status.observedGeneration 2 is not metadata.generation 3"},
		{name: "top-level fields are variables",
			checks: []Check{{APIVersion: "v1", Kind: "ConfigMap", Current: "data.ready == 'true'"}},
			obj:    configMap(map[string]any{"ready": "true"}), want: status.CurrentStatus},
		{name: "a missing field is an error, not false",
			checks: []Check{{APIVersion: "v1", Kind: "ConfigMap", Current: "data.ready == 'true'"}},
			obj:    configMap(map[string]any{}), want: status.UnknownStatus,
			msg: "healthCheckExprs[0].current: no such key: ready"},
		{name: "optional selection guards a missing field",
			checks: []Check{{APIVersion: "v1", Kind: "ConfigMap", Current: "data.?ready.orValue('') == 'true'"}},
			obj:    configMap(map[string]any{}), want: status.InProgressStatus},
		{name: "a non-bool result is an error",
			checks: []Check{{APIVersion: "v1", Kind: "ConfigMap", Current: "data.ready"}},
			obj:    configMap(map[string]any{"ready": "true"}), want: status.UnknownStatus,
			msg: "healthCheckExprs[0].current: the expression yields string, not a bool"},
		{name: "the version does not matter",
			checks: []Check{{APIVersion: "example.com/v1beta1", Kind: "Widget", Current: "true"}},
			obj:    widget(1, 1, "Running"), want: status.CurrentStatus},
		{name: "an entry without kind covers the group",
			checks: []Check{{APIVersion: "example.com/v1", Current: "true"}},
			obj:    widget(1, 1, "Running"), want: status.CurrentStatus},
		{name: "the entry naming the kind wins over the group's",
			checks: []Check{{APIVersion: "example.com/v1", Current: "false"}, {APIVersion: "example.com/v1", Kind: "Widget", Current: "true"}},
			obj:    widget(1, 1, "Running"), want: status.CurrentStatus, msg: "healthCheckExprs[1].current is true"},
		{name: "extension libraries",
			checks: []Check{{APIVersion: "v1", Kind: "ConfigMap",
				Current: "data.v.lowerAscii().split(',').isSorted() && data.v.find('[0-9]+') == '' && sets.contains(['a','b'], ['a'])"}},
			obj: configMap(map[string]any{"v": "A,B,C"}), want: status.CurrentStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Compile(tt.checks)
			if err != nil {
				t.Fatal(err)
			}
			res, ok := c.Assess(tt.obj)
			if !ok {
				t.Fatal("no entry applies")
			}
			if res.Status != tt.want || (tt.msg != "" && res.Message != tt.msg) {
				t.Errorf("Assess = %s %q, want %s %q", res.Status, res.Message, tt.want, tt.msg)
			}
		})
	}
}

func TestChecks_OtherKindsAreLeftToKstatus(t *testing.T) {
	c, err := Compile([]Check{{APIVersion: "example.com/v1", Kind: "Widget", Current: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*unstructured.Unstructured{configMap(nil), {Object: map[string]any{"apiVersion": "other.com/v1", "kind": "Widget"}}} {
		if res, ok := c.Assess(u); ok {
			t.Errorf("%s assessed (%v); want it left to kstatus", u.GroupVersionKind(), res)
		}
	}
	if !c.Covers(schema.GroupKind{Group: "example.com", Kind: "Widget"}) || c.Covers(schema.GroupKind{Kind: "ConfigMap"}) {
		t.Error("Covers disagrees with Assess")
	}
	var none *Checks
	if _, ok := none.Assess(configMap(nil)); ok || none.Len() != 0 {
		t.Error("a nil Checks assessed an object")
	}
}

func TestCompile_NamesTheEntryAndField(t *testing.T) {
	tests := []struct {
		name    string
		checks  []Check
		index   int
		field   string
		message string
	}{
		{name: "syntax error", checks: []Check{widgetCheck, {APIVersion: "v1", Kind: "ConfigMap", Current: "true", InProgress: "status."}},
			index: 1, field: "inProgress", message: "Syntax error"},
		{name: "unknown function", checks: []Check{{APIVersion: "v1", Kind: "ConfigMap", Current: "status.conditions.exist(c, c.type == 'Ready')"}},
			index: 0, field: "current", message: "undeclared function(s): exist"},
		{name: "unknown qualified function", checks: []Check{{APIVersion: "v1", Kind: "ConfigMap", Current: "true", Failed: "base64.decodeAll(data.x) == b''"}},
			index: 0, field: "failed", message: "undeclared function(s): decodeAll"},
		{name: "current required", checks: []Check{{APIVersion: "v1", Kind: "ConfigMap"}},
			index: 0, field: "current", message: "the expression is empty"},
		{name: "duplicate kind", checks: []Check{{APIVersion: "apps/v1", Kind: "Deployment", Current: "true"}, {APIVersion: "apps/v1beta1", Kind: "Deployment", Current: "true"}},
			index: 1, field: "kind", message: "healthCheckExprs[0] already covers Deployment.apps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.checks)
			var e *ExprError
			if !errors.As(err, &e) {
				t.Fatalf("error %v, want an *ExprError", err)
			}
			if e.Index != tt.index || e.Field != tt.field || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q (entry %d field %s), want entry %d field %s mentioning %q", err, e.Index, e.Field, tt.index, tt.field, tt.message)
			}
		})
	}
}

func TestChecks_SecretValuesNeverInMessages(t *testing.T) {
	// cel-go quotes a bad pattern: here the Secret's value.
	c, err := Compile([]Check{{APIVersion: "v1", Kind: "Secret", Current: "data.token.matches(data.token + '(')"}})
	if err != nil {
		t.Fatal(err)
	}
	secret := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "s"}, "data": map[string]any{"token": "s3cr3t-value"}}}
	res, _ := c.Assess(secret)
	if res.Status != status.UnknownStatus || strings.Contains(res.Message, "s3cr3t") ||
		res.Message != "healthCheckExprs[0].current: evaluation failed (the error is not shown for Secrets)" {
		t.Errorf("Assess = %s %q", res.Status, res.Message)
	}
}

func TestChecks_CostLimitEndsAnExpensiveExpression(t *testing.T) {
	// 30^4 multiplications: far beyond the limit, a few ms of CPU at most.
	list := "[" + strings.Repeat("1,", 29) + "1]"
	expr := list + ".map(a, " + list + ".map(b, " + list + ".map(c, " + list + ".map(d, a*b*c*d)))).size() > 0"
	c, err := Compile([]Check{{APIVersion: "v1", Kind: "ConfigMap", Current: expr}})
	if err != nil {
		t.Fatal(err)
	}
	res, _ := c.Assess(configMap(nil))
	if res.Status != status.UnknownStatus || !strings.Contains(res.Message, "cost limit exceeded") {
		t.Errorf("Assess = %s %q, want Unknown for the cost limit", res.Status, res.Message)
	}
}

package celhealth

import (
	"fmt"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// Check is one entry of spec.healthCheckExprs.
type Check struct {
	// APIVersion selects the objects' group (the version is ignored).
	APIVersion string
	// Kind selects the objects' kind; empty selects every kind of the group.
	Kind string
	// Current, InProgress and Failed are the expressions; Current is
	// required.
	Current, InProgress, Failed string
}

// Field names of a Check's expressions, as in the API.
const (
	FieldCurrent    = "current"
	FieldInProgress = "inProgress"
	FieldFailed     = "failed"
)

// ExprError is an entry of spec.healthCheckExprs that cannot be used.
type ExprError struct {
	// Index is the entry's position in the list.
	Index int
	// Field is the entry's field at fault: current, inProgress, failed or
	// kind (for a duplicate entry).
	Field string
	Err   error
}

func (e *ExprError) Error() string {
	return fmt.Sprintf("healthCheckExprs[%d].%s: %v", e.Index, e.Field, e.Err)
}

func (e *ExprError) Unwrap() error { return e.Err }

// Result is what an object's expressions say of it, in kstatus's terms.
type Result struct {
	Status  status.Status
	Message string
}

// Checks are compiled health check expressions by group and kind. The zero
// value and nil have none. A Checks is safe for concurrent use.
type Checks struct {
	byKind  map[schema.GroupKind]*evaluator
	byGroup map[string]*evaluator
}

// evaluator is one compiled entry.
type evaluator struct {
	index                       int
	current, inProgress, failed cel.Program
}

// Compile compiles checks; the error is an *ExprError naming the first
// entry that does not compile. An empty list gives an empty Checks.
func Compile(checks []Check) (*Checks, error) {
	c := &Checks{}
	first := map[schema.GroupKind]int{}
	for i, chk := range checks {
		gk := schema.FromAPIVersionAndKind(chk.APIVersion, chk.Kind).GroupKind()
		if j, dup := first[gk]; dup {
			what := gk.String()
			if gk.Kind == "" {
				what = fmt.Sprintf("every kind of group %q", gk.Group)
			}
			return nil, &ExprError{Index: i, Field: "kind", Err: fmt.Errorf("healthCheckExprs[%d] already covers %s", j, what)}
		}
		first[gk] = i
		ev, err := compileCheck(i, chk)
		if err != nil {
			return nil, err
		}
		if gk.Kind == "" {
			if c.byGroup == nil {
				c.byGroup = map[string]*evaluator{}
			}
			c.byGroup[gk.Group] = ev
			continue
		}
		if c.byKind == nil {
			c.byKind = map[schema.GroupKind]*evaluator{}
		}
		c.byKind[gk] = ev
	}
	return c, nil
}

func compileCheck(i int, chk Check) (*evaluator, error) {
	ev := &evaluator{index: i}
	for _, x := range []struct {
		field, expr string
		required    bool
		into        *cel.Program
	}{
		{FieldCurrent, chk.Current, true, &ev.current},
		{FieldInProgress, chk.InProgress, false, &ev.inProgress},
		{FieldFailed, chk.Failed, false, &ev.failed},
	} {
		if x.expr == "" && !x.required {
			continue
		}
		prg, err := compileHealthExpr(x.expr)
		if err != nil {
			return nil, &ExprError{Index: i, Field: x.field, Err: err}
		}
		*x.into = prg
	}
	return ev, nil
}

// ValidateExpr reports why a health check expression does not compile, or
// nil; for API validation of one field.
func ValidateExpr(expr string) error {
	_, err := compileHealthExpr(expr)
	return err
}

func compileHealthExpr(expr string) (cel.Program, error) {
	env, err := baseEnv()
	if err != nil {
		return nil, err
	}
	parsed, err := parse(env, expr)
	if err != nil {
		return nil, err
	}
	return env.Program(parsed, programOptions()...)
}

// Len is the number of entries.
func (c *Checks) Len() int {
	if c == nil {
		return 0
	}
	return len(c.byKind) + len(c.byGroup)
}

// Covers reports whether an entry applies to objects of gk.
func (c *Checks) Covers(gk schema.GroupKind) bool {
	return c.evaluatorFor(gk) != nil
}

func (c *Checks) evaluatorFor(gk schema.GroupKind) *evaluator {
	if c == nil {
		return nil
	}
	if ev, ok := c.byKind[gk]; ok {
		return ev
	}
	return c.byGroup[gk.Group]
}

// Assess evaluates the entry that applies to u. ok is false when none
// does; the caller assesses u otherwise (with kstatus).
func (c *Checks) Assess(u *unstructured.Unstructured) (res Result, ok bool) {
	gk := u.GroupVersionKind().GroupKind()
	ev := c.evaluatorFor(gk)
	if ev == nil {
		return Result{}, false
	}
	return ev.assess(u.Object, gk == secretKind), true
}

// secretKind is the kind whose values evaluation errors must not show
// (`data.token.matches(data.token + '(')` fails quoting the token).
var secretKind = schema.GroupKind{Kind: "Secret"}

func (ev *evaluator) assess(obj map[string]any, secret bool) Result {
	if observed, ok := number(obj, "status", "observedGeneration"); ok {
		if gen, ok := number(obj, "metadata", "generation"); ok && gen != observed {
			return Result{Status: status.InProgressStatus,
				Message: fmt.Sprintf("status.observedGeneration %d is not metadata.generation %d", observed, gen)}
		}
	}
	for _, x := range []struct {
		field string
		prg   cel.Program
		st    status.Status
	}{
		{FieldInProgress, ev.inProgress, status.InProgressStatus},
		{FieldFailed, ev.failed, status.FailedStatus},
		{FieldCurrent, ev.current, status.CurrentStatus},
	} {
		if x.prg == nil {
			continue
		}
		ok, err := evalBool(x.prg, obj)
		if err != nil {
			msg := err.Error()
			if secret {
				msg = "evaluation failed (the error is not shown for Secrets)"
			}
			return Result{Status: status.UnknownStatus,
				Message: fmt.Sprintf("healthCheckExprs[%d].%s: %s", ev.index, x.field, msg)}
		}
		if ok {
			return Result{Status: x.st, Message: fmt.Sprintf("healthCheckExprs[%d].%s is true", ev.index, x.field)}
		}
	}
	return Result{Status: status.InProgressStatus,
		Message: fmt.Sprintf("no expression of healthCheckExprs[%d] is true", ev.index)}
}

// evalBool evaluates prg over vars; anything but a bool is an error.
func evalBool(prg cel.Program, vars map[string]any) (bool, error) {
	out, _, err := prg.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("the expression yields %s, not a bool", out.Type().TypeName())
	}
	return bool(b), nil
}

// number reads an integer at path, as decoded from JSON (int64, or a
// float64 without a fraction).
func number(obj map[string]any, path ...string) (int64, bool) {
	v, found, err := unstructured.NestedFieldNoCopy(obj, path...)
	if err != nil || !found {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	}
	return 0, false
}

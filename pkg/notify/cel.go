package notify

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/ext"
)

// celCostLimit bounds the work of one evaluation of a tenant's expression.
const celCostLimit = 100_000

// statusExpr is a compiled commitStatusExpr.
type statusExpr struct {
	program  cel.Program
	provider map[string]any
	alert    map[string]any
}

// compileStatusExpr compiles o.CommitStatusExpr, or returns nil when it is
// empty. The expression sees event (the Event JSON as a map), provider and
// alert, with the CEL extended string functions (lowerAscii, replace,
// split, ...), and must yield a string.
func compileStatusExpr(o *Options) (*statusExpr, error) {
	if o.CommitStatusExpr == "" {
		return nil, nil
	}
	env, err := cel.NewEnv(
		cel.Variable("event", cel.DynType),
		cel.Variable("provider", cel.DynType),
		cel.Variable("alert", cel.DynType),
		ext.Strings(),
	)
	if err != nil {
		return nil, fmt.Errorf("notify: %s: commitStatusExpr: %w", o.Type, err)
	}
	ast, iss := env.Compile(o.CommitStatusExpr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("notify: %s: invalid commitStatusExpr: %w", o.Type, iss.Err())
	}
	if t := ast.OutputType(); !t.IsExactType(cel.StringType) && !t.IsExactType(cel.DynType) {
		return nil, fmt.Errorf("notify: %s: invalid commitStatusExpr: it yields %s, not a string", o.Type, t)
	}
	prg, err := env.Program(ast, cel.CostLimit(celCostLimit))
	if err != nil {
		return nil, fmt.Errorf("notify: %s: invalid commitStatusExpr: %w", o.Type, err)
	}
	provider := o.CommitStatusProvider
	if provider == nil {
		provider = map[string]any{"metadata": map[string]any{"uid": o.ProviderUID}}
	}
	alert := o.CommitStatusAlert
	if alert == nil {
		alert = map[string]any{}
	}
	return &statusExpr{program: prg, provider: provider, alert: alert}, nil
}

// eval returns the commit status ID for e.
func (x *statusExpr) eval(e *Event) (string, error) {
	raw, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	var event map[string]any
	if err := json.Unmarshal(raw, &event); err != nil {
		return "", err
	}
	out, _, err := x.program.Eval(map[string]any{"event": event, "provider": x.provider, "alert": x.alert})
	if err != nil {
		return "", err
	}
	id, ok := out.Value().(string)
	if !ok {
		return "", fmt.Errorf("it yields %s, not a string", out.Type())
	}
	if id == "" {
		return "", errors.New("it yields an empty string")
	}
	return id, nil
}

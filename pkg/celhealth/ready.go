package celhealth

import (
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
)

// Variables of a readiness expression, as in Flux.
const (
	// SelfVar is the dependent object, the one whose spec holds the
	// expression.
	SelfVar = "self"
	// DepVar is the dependency.
	DepVar = "dep"
)

// ReadyExpr is a compiled spec.dependsOn[].readyExpr. It is safe for
// concurrent use.
type ReadyExpr struct {
	program cel.Program
}

// CompileReadyExpr compiles a readiness expression over self and dep. It
// must yield a bool (an expression whose type is only known when evaluated,
// like `dep.status.ready`, is checked then).
func CompileReadyExpr(expr string) (*ReadyExpr, error) {
	base, err := baseEnv()
	if err != nil {
		return nil, err
	}
	env, err := base.Extend(cel.Variable(SelfVar, cel.DynType), cel.Variable(DepVar, cel.DynType))
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(expr) == "" {
		return nil, errEmpty
	}
	checked, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if t := checked.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, fmt.Errorf("the expression yields %s, not a bool", t)
	}
	prg, err := env.Program(checked, programOptions()...)
	if err != nil {
		return nil, err
	}
	return &ReadyExpr{program: prg}, nil
}

// Ready evaluates the expression with self and dep, each an object as an
// unstructured map (apiVersion, kind, metadata, spec, status).
func (r *ReadyExpr) Ready(self, dep map[string]any) (bool, error) {
	return evalBool(r.program, map[string]any{SelfVar: self, DepVar: dep})
}

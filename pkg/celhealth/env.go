package celhealth

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/ext"
	"k8s.io/apiserver/pkg/cel/library"
)

// CostLimit bounds the work of one evaluation of one expression, in CEL's
// cost units (about one per operation, more for operations on long strings
// and lists). Flux's expressions over conditions cost tens; an
// expression that exceeds the limit ends with an error.
const CostLimit = 100_000

// baseEnv is the environment every expression is parsed in: Flux's options
// and libraries, plus Kubernetes' list and regex functions. It declares no
// variables; health check expressions are only parsed, and readiness
// expressions extend it with theirs.
var baseEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.EagerlyValidateDeclarations(true),
		cel.DefaultUTCTimeZone(true),
		cel.CrossTypeNumericComparisons(true),
		cel.OptionalTypes(),
		ext.Strings(),
		ext.Sets(),
		ext.Encoders(),
		library.Lists(),
		library.Regex(),
	)
})

var errEmpty = errors.New("the expression is empty")

// programOptions bound every program's evaluation.
func programOptions() []cel.ProgramOption {
	return []cel.ProgramOption{
		cel.EvalOptions(cel.OptOptimize),
		cel.CostLimit(CostLimit),
	}
}

// parse parses expr in env and refuses calls of functions env does not
// have: without type-checking they would only fail when evaluated.
func parse(env *cel.Env, expr string) (*cel.Ast, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, errEmpty
	}
	parsed, iss := env.Parse(expr)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if unknown := unknownFunctions(env, parsed); len(unknown) > 0 {
		return nil, fmt.Errorf("undeclared function(s): %s", strings.Join(unknown, ", "))
	}
	return parsed, nil
}

// unknownFunctions lists the functions parsed calls that env does not
// declare, by their name or, for a call like base64.encode(...), their
// qualified name.
func unknownFunctions(env *cel.Env, parsed *cel.Ast) []string {
	fns := env.Functions()
	seen := map[string]bool{}
	ast.PreOrderVisit(ast.NavigateAST(parsed.NativeRep()), ast.NewExprVisitor(func(e ast.Expr) {
		if e.Kind() != ast.CallKind {
			return
		}
		call := e.AsCall()
		name := call.FunctionName()
		if _, ok := fns[name]; ok {
			return
		}
		if call.IsMemberFunction() {
			if q := qualifiedName(call.Target()); q != "" {
				if _, ok := fns[q+"."+name]; ok {
					return
				}
			}
		}
		seen[name] = true
	}))
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// qualifiedName is "a.b" for the identifier a.b, "" for anything else.
func qualifiedName(e ast.Expr) string {
	switch e.Kind() {
	case ast.IdentKind:
		return e.AsIdent()
	case ast.SelectKind:
		sel := e.AsSelect()
		if sel.IsTestOnly() {
			return ""
		}
		if q := qualifiedName(sel.Operand()); q != "" {
			return q + "." + sel.FieldName()
		}
	}
	return ""
}

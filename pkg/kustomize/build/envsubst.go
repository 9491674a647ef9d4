package build

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds a small bash-style parameter expansion parser, the
// language of Flux's post-build substitution:
//
//	${var}                         value (strict mode: must be defined)
//	${var:-word}  ${var:=word}     word when var is undefined or empty
//	${var-word}   ${var=word}      word when var is undefined
//	${#var}                        length in characters
//	${var^} ${var^^} ${var,} ${var,,}   upper/lower case first/all
//	${var:offset} ${var:offset:length}  substring (negative counts from the end)
//	${var#glob} ${var##glob}       strip shortest/longest matching prefix
//	${var%glob} ${var%%glob}       strip shortest/longest matching suffix
//	${var/old/new} ${var//old/new} replace first/all occurrences of old
//	${var/#old/new} ${var/%old/new} replace old at the start/end
//
// "$$" stands for a single "$" (so "$${var}" gives "${var}"), a "$" not
// followed by "{" is kept as is ("$var" is not expanded), and words may hold
// nested expansions ("${a:=${b}-x}"). ${var:?word}, ${var:+word} and their
// colon-less forms are refused: Flux documents them as unsupported.

// errUndefined is wrapped by the strict-mode error for an undefined variable.
var errUndefined = errors.New("variable is not defined")

// errUnterminated ends a word that reaches the end of the input.
var errUnterminated = errors.New("unterminated expansion")

// undefinedError names the variable that strict mode could not resolve.
type undefinedError struct{ name string }

func (e *undefinedError) Error() string {
	return fmt.Sprintf("variable %q is not defined and has no default", e.name)
}

func (e *undefinedError) Unwrap() error { return errUndefined }

// syntaxError reports a malformed expansion and where it starts.
type syntaxError struct {
	excerpt string
	reason  string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("bad substitution %q: %s", e.excerpt, e.reason)
}

// node is a piece of parsed text: literal text or an expansion.
type node interface{}

// text is literal output.
type text string

// word is a sequence of nodes, such as a default value with nested
// expansions.
type word []node

// expansion is one ${...} expression.
type expansion struct {
	name string
	// op is "" for ${name}, "len" for ${#name}, or the operator as written
	// (":-", "=", "^^", ":", "##", "//", "/#", ...).
	op   string
	args []word
}

// lookupFunc returns a variable's value and whether it is defined.
type lookupFunc func(name string) (string, bool)

// envsubst expands every ${...} expression in s.
func envsubst(s string, lookup lookupFunc, strict bool) (string, error) {
	p := &parser{src: s}
	w, err := p.parseWord(modeTop)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := (&evaluator{lookup: lookup, strict: strict}).eval(&b, w); err != nil {
		return "", err
	}
	return b.String(), nil
}

// parseMode tells parseWord where a word ends and which escapes it knows.
type parseMode int

const (
	modeTop      parseMode = iota // the whole input: ends at EOF, "$$" is "$"
	modeArg                       // default, pattern or offset: ends at "}"
	modeOffset                    // substring offset: ends at ":" or "}"
	modeReplace                   // replace pattern: ends at "/" or "}", escapes
	modeReplaced                  // replacement: ends at "}", escapes
)

type parser struct {
	src string
	pos int
}

func (p *parser) peek() (rune, int) {
	if p.pos >= len(p.src) {
		return 0, 0
	}
	return utf8.DecodeRuneInString(p.src[p.pos:])
}

func (p *parser) startsWith(s string) bool { return strings.HasPrefix(p.src[p.pos:], s) }

// parseWord reads text and nested expansions until the end that mode
// defines, which it leaves unread.
func (p *parser) parseWord(mode parseMode) (word, error) {
	var w word
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			w = append(w, text(lit.String()))
			lit.Reset()
		}
	}
	for p.pos < len(p.src) {
		r, size := p.peek()
		switch {
		case p.startsWith("${"):
			flush()
			e, err := p.parseExpansion()
			if err != nil {
				return nil, err
			}
			w = append(w, e)
			continue
		case r == '}' && mode != modeTop:
			flush()
			return w, nil
		case r == ':' && mode == modeOffset, r == '/' && mode == modeReplace:
			flush()
			return w, nil
		case r == '$' && p.startsWith("$$") && (mode == modeTop || mode == modeReplace || mode == modeReplaced):
			lit.WriteByte('$')
			p.pos += 2
			continue
		case r == '\\' && (mode == modeReplace || mode == modeReplaced) &&
			(p.startsWith(`\/`) || p.startsWith(`\\`)):
			lit.WriteByte(p.src[p.pos+1])
			p.pos += 2
			continue
		}
		lit.WriteString(p.src[p.pos : p.pos+size])
		p.pos += size
	}
	if mode != modeTop {
		return nil, errUnterminated // parseExpansion knows where it started
	}
	flush()
	return w, nil
}

// parseExpansion reads "${...}" at the current position.
func (p *parser) parseExpansion() (*expansion, error) {
	start := p.pos
	p.pos += 2 // "${"
	fail := func(reason string) (*expansion, error) { return nil, p.errorf(start, reason) }

	e := &expansion{}
	if p.startsWith("#") {
		p.pos++
		e.op = "len"
	}
	e.name = p.readName()
	if e.name == "" {
		return fail("expected a variable name")
	}
	if e.op == "len" {
		if !p.consume("}") {
			return fail("expected } after the variable name")
		}
		return e, nil
	}

	var argModes []parseMode
	switch {
	case p.consume("}"):
		return e, nil
	case p.consumeAny(":-", ":=", "-", "="):
		argModes = []parseMode{modeArg}
	case p.startsWith(":?"), p.startsWith(":+"), p.startsWith("?"), p.startsWith("+"):
		return fail("the ${var:?word} and ${var:+word} forms are not supported")
	case p.consume(":"):
		e.op = ":"
		argModes = []parseMode{modeOffset}
	case p.consumeAny("^^", "^", ",,", ","):
		// no argument
	case p.consumeAny("##", "#", "%%", "%"):
		argModes = []parseMode{modeArg}
	case p.consumeAny("//", "/#", "/%", "/"):
		argModes = []parseMode{modeReplace}
	case p.pos >= len(p.src):
		return fail("missing closing brace")
	default:
		return fail("unexpected character after the variable name")
	}
	if e.op == "" {
		e.op = p.src[start+2+len(e.name) : p.pos]
	}

	for len(argModes) > 0 {
		mode := argModes[0]
		argModes = argModes[1:]
		arg, err := p.parseWord(mode)
		if errors.Is(err, errUnterminated) {
			return fail("missing closing brace")
		}
		if err != nil {
			return nil, err
		}
		e.args = append(e.args, arg)
		switch {
		case mode == modeOffset && p.consume(":"):
			argModes = append(argModes, modeArg)
		case mode == modeReplace && p.consume("/"):
			argModes = append(argModes, modeReplaced)
		}
	}
	if !p.consume("}") {
		return fail("missing closing brace")
	}
	return e, nil
}

// readName reads a variable name: letters, digits and underscores.
func (p *parser) readName() string {
	start := p.pos
	for p.pos < len(p.src) {
		r, size := p.peek()
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		p.pos += size
	}
	return p.src[start:p.pos]
}

func (p *parser) consume(s string) bool {
	if p.startsWith(s) {
		p.pos += len(s)
		return true
	}
	return false
}

// consumeAny consumes the first of ops found at the current position;
// longer operators must come first.
func (p *parser) consumeAny(ops ...string) bool {
	for _, op := range ops {
		if p.consume(op) {
			return true
		}
	}
	return false
}

// errorf builds a syntaxError quoting the input from start, shortened.
func (p *parser) errorf(start int, reason string) error {
	excerpt := p.src[start:]
	if end := strings.IndexByte(excerpt, '}'); end >= 0 {
		excerpt = excerpt[:end+1]
	}
	if end := strings.IndexByte(excerpt, '\n'); end >= 0 {
		excerpt = excerpt[:end]
	}
	const maxExcerpt = 60
	if len(excerpt) > maxExcerpt {
		excerpt = excerpt[:maxExcerpt] + "..."
	}
	return &syntaxError{excerpt: excerpt, reason: reason}
}

type evaluator struct {
	lookup lookupFunc
	strict bool
}

func (ev *evaluator) eval(b *strings.Builder, w word) error {
	for _, n := range w {
		switch n := n.(type) {
		case text:
			b.WriteString(string(n))
		case *expansion:
			v, err := ev.expand(n)
			if err != nil {
				return err
			}
			b.WriteString(v)
		}
	}
	return nil
}

// evalWord evaluates a word on its own.
func (ev *evaluator) evalWord(w word) (string, error) {
	var b strings.Builder
	err := ev.eval(&b, w)
	return b.String(), err
}

func (ev *evaluator) expand(e *expansion) (string, error) {
	v, defined := ev.lookup(e.name)
	switch e.op {
	case ":-", ":=":
		if defined && v != "" {
			return v, nil
		}
		return ev.evalWord(e.args[0]) // evaluated only when used
	case "-", "=":
		if defined {
			return v, nil
		}
		return ev.evalWord(e.args[0])
	}
	if !defined && ev.strict {
		return "", &undefinedError{name: e.name}
	}
	args := make([]string, len(e.args))
	for i, a := range e.args {
		s, err := ev.evalWord(a)
		if err != nil {
			return "", err
		}
		args[i] = s
	}
	return applyOp(e.op, v, args), nil
}

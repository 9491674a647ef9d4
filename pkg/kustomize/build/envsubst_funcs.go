package build

import (
	"strconv"
	"strings"
	"unicode"
)

// applyOp computes a value-transforming expansion. Lengths and offsets
// count characters, not bytes, so multi-byte text is never cut in half.
func applyOp(op, v string, args []string) string {
	switch op {
	case "":
		return v
	case "len":
		return strconv.Itoa(len([]rune(v)))
	case "^":
		return mapFirst(v, unicode.ToUpper)
	case "^^":
		return strings.ToUpper(v)
	case ",":
		return mapFirst(v, unicode.ToLower)
	case ",,":
		return strings.ToLower(v)
	case ":":
		return substring(v, args)
	case "#":
		return trimPrefix(v, args[0], false)
	case "##":
		return trimPrefix(v, args[0], true)
	case "%":
		return trimSuffix(v, args[0], false)
	case "%%":
		return trimSuffix(v, args[0], true)
	case "/", "//", "/#", "/%":
		return replace(op, v, args)
	}
	return v // not reached: the parser only produces the operators above
}

func mapFirst(v string, f func(rune) rune) string {
	r := []rune(v)
	if len(r) > 0 {
		r[0] = f(r[0])
	}
	return string(r)
}

// substring implements ${v:offset} and ${v:offset:length}. As in bash, a
// negative offset counts from the end and a negative length stops that
// many characters before the end; offsets that are not numbers leave the
// value unchanged.
func substring(v string, args []string) string {
	r := []rune(v)
	off, err := strconv.Atoi(strings.TrimSpace(args[0]))
	if err != nil {
		return v
	}
	if off < 0 {
		off = max(len(r)+off, 0)
	}
	if off > len(r) {
		return ""
	}
	end := len(r)
	if len(args) > 1 {
		n, err := strconv.Atoi(strings.TrimSpace(args[1]))
		if err != nil {
			return v
		}
		if n < 0 {
			end = len(r) + n
		} else {
			end = min(off+n, len(r))
		}
		if end < off {
			return ""
		}
	}
	return string(r[off:end])
}

// trimPrefix removes the shortest (or longest) prefix of v matching the
// glob pattern.
func trimPrefix(v, pattern string, longest bool) string {
	r := []rune(v)
	for i := range len(r) + 1 {
		n := i
		if longest {
			n = len(r) - i
		}
		if globMatch([]rune(pattern), r[:n]) {
			return string(r[n:])
		}
	}
	return v
}

// trimSuffix removes the shortest (or longest) suffix of v matching the
// glob pattern.
func trimSuffix(v, pattern string, longest bool) string {
	r := []rune(v)
	for i := range len(r) + 1 {
		n := len(r) - i
		if longest {
			n = i
		}
		if globMatch([]rune(pattern), r[n:]) {
			return string(r[:n])
		}
	}
	return v
}

// replace implements the ${v/old/new} family. As in Flux, old is matched
// literally, not as a glob; an empty old only makes sense anchored.
func replace(op, v string, args []string) string {
	old, repl := args[0], ""
	if len(args) > 1 {
		repl = args[1]
	}
	switch op {
	case "/#":
		if strings.HasPrefix(v, old) {
			return repl + v[len(old):]
		}
	case "/%":
		if strings.HasSuffix(v, old) {
			return v[:len(v)-len(old)] + repl
		}
	case "/":
		if old != "" {
			return strings.Replace(v, old, repl, 1)
		}
	case "//":
		if old != "" {
			return strings.ReplaceAll(v, old, repl)
		}
	}
	return v
}

// globMatch reports whether the whole of s matches a shell pattern: "*"
// matches any run of characters (slashes included), "?" any one character,
// "[...]" a character class ("[!...]" or "[^...]" negated, "a-z" ranges),
// and a backslash makes the next character literal. It backtracks only to
// the last "*", so it runs in O(len(pattern)*len(s)).
func globMatch(pattern, s []rune) bool {
	p, i := 0, 0
	star, starI := -1, 0 // the last "*" seen, and where its match ends
	for i < len(s) {
		if p < len(pattern) && pattern[p] == '*' {
			star, starI = p, i
			p++
			continue
		}
		if n := matchOne(pattern[p:], s[i]); n > 0 {
			p += n
			i++
			continue
		}
		if star < 0 {
			return false
		}
		// Let the last "*" swallow one more character and retry.
		starI++
		p, i = star+1, starI
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchOne matches c against the single-character element at the start of
// pattern and returns the element's length, or 0 when c does not match.
func matchOne(pattern []rune, c rune) int {
	if len(pattern) == 0 {
		return 0
	}
	switch pattern[0] {
	case '?':
		return 1
	case '[':
		if ok, n := matchClass(pattern, c); n > 0 {
			if ok {
				return n
			}
			return 0
		}
		// An unterminated "[" is an ordinary character, as in bash.
	case '\\':
		if len(pattern) > 1 {
			if pattern[1] == c {
				return 2
			}
			return 0
		}
	}
	if pattern[0] == c {
		return 1
	}
	return 0
}

// matchClass matches c against the class that starts pattern ("[...]"). It
// returns whether c is in it and the class's length, 0 when the class is
// not terminated.
func matchClass(pattern []rune, c rune) (ok bool, n int) {
	i := 1
	negate := i < len(pattern) && (pattern[i] == '!' || pattern[i] == '^')
	if negate {
		i++
	}
	for first := true; i < len(pattern); first = false {
		if pattern[i] == ']' && !first {
			return ok != negate, i + 1
		}
		lo := pattern[i]
		if lo == '\\' && i+1 < len(pattern) {
			i++
			lo = pattern[i]
		}
		hi := lo
		if i+2 < len(pattern) && pattern[i+1] == '-' && pattern[i+2] != ']' {
			hi = pattern[i+2]
			i += 2
		}
		if lo <= c && c <= hi {
			ok = true
		}
		i++
	}
	return false, 0
}

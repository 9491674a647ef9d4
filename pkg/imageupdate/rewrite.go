package imageupdate

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// splice returns data with each edit's scalar replaced, leaving every other byte alone.
func splice(data []byte, edits []edit) ([]byte, error) {
	lineStarts := []int{0}
	for i, b := range data {
		if b == '\n' {
			lineStarts = append(lineStarts, i+1)
		}
	}
	type span struct {
		start, end int
		text       string
	}
	spans := make([]span, 0, len(edits))
	for _, e := range edits {
		start, end, err := locate(data, lineStarts, e)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", e.line, err)
		}
		spans = append(spans, span{start, end, render(e.new, e.style)})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var out bytes.Buffer
	out.Grow(len(data))
	prev := 0
	for _, s := range spans {
		if s.start < prev {
			return nil, fmt.Errorf("overlapping markers at byte %d", s.start)
		}
		out.Write(data[prev:s.start])
		out.WriteString(s.text)
		prev = s.end
	}
	out.Write(data[prev:])
	return out.Bytes(), nil
}

// locate returns the byte range of e's scalar as written in data, and checks that it
// reads as e.old.
func locate(data []byte, lineStarts []int, e edit) (int, int, error) {
	if e.line < 1 || e.line > len(lineStarts) {
		return 0, 0, fmt.Errorf("position out of range")
	}
	lineEnd := len(data)
	if e.line < len(lineStarts) {
		lineEnd = lineStarts[e.line] - 1
	}
	line := data[lineStarts[e.line-1]:lineEnd]
	// The parser counts columns in characters.
	off := 0
	for range e.column - 1 {
		if off >= len(line) {
			return 0, 0, fmt.Errorf("position out of range")
		}
		_, size := utf8.DecodeRune(line[off:])
		off += size
	}
	rest := string(line[off:])
	var n int
	switch {
	case e.style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return 0, 0, fmt.Errorf("a marker on a block scalar cannot be set")
	case e.style&yaml.DoubleQuotedStyle != 0:
		n = quotedLen(rest, '"')
	case e.style&yaml.SingleQuotedStyle != 0:
		n = quotedLen(rest, '\'')
	default:
		n = plainLen(rest, e.old)
	}
	if n <= 0 {
		return 0, 0, fmt.Errorf("the value %q is not on one line as the parser reported it; set it by hand", e.old)
	}
	start := lineStarts[e.line-1] + off
	return start, start + n, nil
}

// quotedLen returns the length of the quoted scalar s starts with, or 0 when it does not
// close on this line.
func quotedLen(s string, q byte) int {
	if len(s) == 0 || s[0] != q {
		return 0
	}
	for i := 1; i < len(s); i++ {
		switch {
		case q == '"' && s[i] == '\\':
			i++
		case s[i] == q && q == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
		case s[i] == q:
			return i + 1
		}
	}
	return 0
}

// plainLen returns the length of the plain scalar s starts with, which must read as
// value: up to a comment or the end of the line, or up to a flow indicator.
func plainLen(s, value string) int {
	if strings.HasPrefix(s, value) {
		rest := s[len(value):]
		if rest == "" || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\r' || rest[0] == ',' || rest[0] == ']' || rest[0] == '}' {
			return len(value)
		}
	}
	return 0
}

// render writes value as a scalar in style. A plain value that would not read back as
// the same string (a number, a boolean, YAML syntax) is double-quoted.
func render(value string, style yaml.Style) string {
	switch {
	case style&yaml.SingleQuotedStyle != 0:
		return "'" + strings.ReplaceAll(value, "'", "''") + "'"
	case style&yaml.DoubleQuotedStyle != 0 || !plainSafe(value):
		return doubleQuote(value)
	}
	return value
}

// plainSafe reports whether value, written plain, reads back as the same string under
// YAML 1.2 and 1.1 (Helm and older tools still read "yes" or "010" as non-strings).
func plainSafe(value string) bool {
	if value == "" || strings.TrimSpace(value) != value || strings.ContainsAny(value, "\n\r\t#") || strings.Contains(value, ": ") {
		return false
	}
	if yaml.IsValueNonString(value) {
		return false
	}
	var v any
	if err := yaml.Unmarshal([]byte("v: "+value), &v); err != nil {
		return false
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	s, ok := m["v"].(string)
	return ok && s == value
}

// doubleQuote writes value as a YAML double-quoted scalar.
func doubleQuote(value string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range value {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

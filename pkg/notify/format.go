package notify

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// objectName is how Flux titles an event in chat messages:
// "<kind in lower case>/<name>.<namespace>".
func objectName(e *Event) string {
	o := e.InvolvedObject
	return fmt.Sprintf("%s/%s.%s", strings.ToLower(o.Kind), o.Name, o.Namespace)
}

// sortedKeys returns the keys of m in order, so that payloads built from
// metadata are stable (Flux iterates the map in random order).
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// isError reports whether e has the error severity.
func isError(e *Event) bool { return e.Severity == SeverityError }

// Flux's emoji for chat messages.
const (
	emojiInfo  = "💫"
	emojiError = "🚨"
)

func emoji(e *Event) string {
	if isError(e) {
		return emojiError
	}
	return emojiInfo
}

// metadataLines renders metadata as "<prefix><key>: <value>" lines, sorted.
func metadataLines(m map[string]string, prefix string) string {
	var b strings.Builder
	for _, k := range sortedKeys(m) {
		fmt.Fprintf(&b, "%s%s: %s\n", prefix, k, m[k])
	}
	return b.String()
}

// splitCamelCase splits "ReconciliationSucceeded" into its words, keeping
// acronyms together ("HTTPServer" → "HTTP", "Server").
func splitCamelCase(s string) []string {
	if !utf8.ValidString(s) {
		return []string{s}
	}
	class := func(r rune) int {
		switch {
		case unicode.IsLower(r):
			return 1
		case unicode.IsUpper(r):
			return 2
		case unicode.IsDigit(r):
			return 3
		}
		return 4
	}
	var runs [][]rune
	last := 0
	for _, r := range s {
		c := class(r)
		if c == last {
			runs[len(runs)-1] = append(runs[len(runs)-1], r)
		} else {
			runs = append(runs, []rune{r})
		}
		last = c
	}
	// An upper-case run followed by a lower-case one gives its last letter
	// to the next word: "PDFL", "oader" → "PDF", "Loader".
	for i := 0; i < len(runs)-1; i++ {
		if unicode.IsUpper(runs[i][0]) && unicode.IsLower(runs[i+1][0]) {
			runs[i+1] = append([]rune{runs[i][len(runs[i])-1]}, runs[i+1]...)
			runs[i] = runs[i][:len(runs[i])-1]
		}
	}
	var out []string
	for _, r := range runs {
		if len(r) > 0 && strings.TrimSpace(string(r)) != "" {
			out = append(out, string(r))
		}
	}
	return out
}

// truncate shortens s to at most n runes, ending with "…" when cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// titleWord upper-cases the first letter of s and lower-cases the rest,
// as golang.org/x/text/cases.Title does for Flux's single-word reasons.
func titleWord(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + strings.ToLower(s[size:])
}

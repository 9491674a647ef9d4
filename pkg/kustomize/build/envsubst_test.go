package build

import (
	"errors"
	"strings"
	"testing"
)

func TestEnvsubst(t *testing.T) {
	vars := map[string]string{
		"name":  "podinfo",
		"empty": "",
		"file":  "bash.string.txt",
		"path":  "/home/bozo/ideas/thoughts.for.today",
		"mixed": "abcABC123ABCabc",
		"upper": "ABC",
		"greek": "αβγδ",
		"slash": "foo/bar/baz",
	}
	tests := []struct {
		in, want string
	}{
		{"plain text, no braces: $name $ {name} }", "plain text, no braces: $name $ {name} }"},
		{"${name}", "podinfo"},
		{"a-${name}-b${name}", "a-podinfo-bpodinfo"},
		{"${unset}", ""},
		// Defaults.
		{"${unset:=def}", "def"},
		{"${unset:-def}", "def"},
		{"${unset=def}", "def"},
		{"${unset-def}", "def"},
		{"${name:=def}", "podinfo"},
		{"${empty:=def}", "def"},
		{"${empty:-def}", "def"},
		{"${empty=def}", ""},
		{"${empty-def}", ""},
		{"${unset:=}", ""},
		{"${unset:=${name}-x}", "podinfo-x"},
		{"${unset:=${also_unset:=deep}}", "deep"},
		{"${unset:=a b: c}", "a b: c"},
		// Escapes.
		{"$${name}", "${name}"},
		{"$$name", "$name"},
		{"$$$${name}", "$${name}"},
		{"$$${name}", "$podinfo"},
		{"cost: 5$", "cost: 5$"},
		// Case.
		{"${name^}", "Podinfo"},
		{"${name^^}", "PODINFO"},
		{"${upper,}", "aBC"},
		{"${upper,,}", "abc"},
		{"${greek^}", "Αβγδ"},
		// Length and substrings count characters.
		{"${#name}", "7"},
		{"${#greek}", "4"},
		{"${path:11}", "ideas/thoughts.for.today"},
		{"${path:11:5}", "ideas"},
		{"${name: -4}", "info"},
		{"${name:3:-2}", "in"},
		{"${name:100}", ""},
		{"${greek:1:2}", "βγ"},
		{"${name:x}", "podinfo"},
		// Pattern removal.
		{"${file#*.}", "string.txt"},
		{"${file##*.}", "txt"},
		{"${file%.*}", "bash.string"},
		{"${file%%.*}", "bash"},
		{"${slash##*/}", "baz"},
		{"${slash#*/}", "bar/baz"},
		{"${file#nomatch}", "bash.string.txt"},
		{"${file#b?sh.}", "string.txt"},
		{"${file#[a-c]*.}", "string.txt"},
		{"${file#[!a]*.}", "string.txt"},
		// Replacement, literal.
		{"${mixed/abc/xyz}", "xyzABC123ABCabc"},
		{"${mixed//abc/xyz}", "xyzABC123ABCxyz"},
		{"${mixed/#abc/XYZ}", "XYZABC123ABCabc"},
		{"${mixed/%abc/XYZ}", "abcABC123ABCXYZ"},
		{"${mixed//abc/}", "ABC123ABC"},
		{"${mixed//abc}", "ABC123ABC"},
		{"${name/#/v-}", "v-podinfo"},
		{"${name/%/-v}", "podinfo-v"},
		{"${name//}", "podinfo"},
		{`${slash//\//-}`, "foo-bar-baz"},
		{"${name/pod/${upper}}", "ABCinfo"},
		// Operators on undefined variables work on "".
		{"${#unset}", "0"},
		{"${unset^^}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := envsubst(tt.in, mapLookup(vars), false)
			if err != nil {
				t.Fatalf("envsubst(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("envsubst(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEnvsubst_Strict(t *testing.T) {
	vars := map[string]string{"set": "v", "empty": ""}
	tests := []struct {
		in       string
		want     string
		wantUndf string // the undefined variable reported, if any
	}{
		{in: "${set}", want: "v"},
		{in: "${empty}", want: ""},
		{in: "${missing}", wantUndf: "missing"},
		{in: "${#missing}", wantUndf: "missing"},
		{in: "${missing^^}", wantUndf: "missing"},
		{in: "${missing:1}", wantUndf: "missing"},
		{in: "${missing/a/b}", wantUndf: "missing"},
		{in: "${missing%%x}", wantUndf: "missing"},
		{in: "${missing:=d}", want: "d"},
		{in: "${missing:-d}", want: "d"},
		{in: "${missing=d}", want: "d"},
		{in: "${missing-d}", want: "d"},
		{in: "${missing:=${other}}", wantUndf: "other"},
		// Defaults are only evaluated when used.
		{in: "${set:=${other}}", want: "v"},
		{in: "$missing $${missing}", want: "$missing ${missing}"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := envsubst(tt.in, mapLookup(vars), true)
			if tt.wantUndf != "" {
				var undef *undefinedError
				if !errors.As(err, &undef) || undef.name != tt.wantUndf || !errors.Is(err, errUndefined) {
					t.Fatalf("envsubst(%q) error = %v, want %q undefined", tt.in, err, tt.wantUndf)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("envsubst(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestEnvsubst_SyntaxErrors(t *testing.T) {
	tests := []struct{ in, wantMsg string }{
		{"${}", "expected a variable name"},
		{"${ name}", "expected a variable name"},
		{"${@}", "expected a variable name"},
		{"echo ${arr[0]}", `bad substitution "${arr[0]}": unexpected character`},
		{"${name", "missing closing brace"},
		{"${name:=default", `bad substitution "${name:=default": missing closing brace`},
		{"${a:=${b:=x}", `bad substitution "${a:=${b:=x}": missing closing brace`},
		{"${name/a/b", "missing closing brace"},
		{"${#}", "expected a variable name"},
		{"${#name:1}", "expected } after the variable name"},
		{"${name:?error}", "not supported"},
		{"${name:+alt}", "not supported"},
		{"${name+alt}", "not supported"},
		{"${name?err}", "not supported"},
		{"${name^,}", "missing closing brace"},
		{"line one\nlater ${x y}\nnext", `bad substitution "${x y}"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := envsubst(tt.in, mapLookup(nil), false)
			var syn *syntaxError
			if !errors.As(err, &syn) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("envsubst(%q) error = %v, want a syntax error containing %q", tt.in, err, tt.wantMsg)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"*", "", true},
		{"*", "a/b/c", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"[abc]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[!a-c]x", "dx", true},
		{"[^a-c]x", "ax", false},
		{"[]]", "]", true},
		{`\*`, "*", true},
		{`\*`, "a", false},
		{"[unterminated", "[unterminated", true},
		{"**.txt", "a.b.txt", true},
		{"*a*b", "xaxxbxb", true},
		{"*a*b", "xaxxbxc", false},
		{"a*", "a", true},
		{"*?", "", false},
		{strings.Repeat("*a", 30) + "b", strings.Repeat("a", 200), false}, // must not take exponential time
	}
	for _, tt := range tests {
		if got := globMatch([]rune(tt.pattern), []rune(tt.s)); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func mapLookup(vars map[string]string) lookupFunc {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

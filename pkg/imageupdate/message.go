package imageupdate

import (
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// DefaultMessage is the commit message when no template is given, as in Flux.
const DefaultMessage = "Update from image update automation"

// Limits on what a tenant's template may produce.
const (
	// MaxMessageSize bounds the rendered message.
	MaxMessageSize = 64 << 10
	// maxGenerated bounds the strings and lists the generating functions (repeat, until,
	// untilStep) build before anything is written.
	maxGenerated = 10000
)

// TemplateData is the data of a messageTemplate (Flux's v1 API).
type TemplateData struct {
	// AutomationObject names the automation; it prints as "<namespace>/<name>".
	AutomationObject NamespacedName
	// Changed is what Apply changed.
	Changed Result
	// Values are the automation's messageTemplateValues.
	Values map[string]string
}

// NamespacedName is an object's namespace and name.
type NamespacedName struct {
	Namespace, Name string
}

// String returns "<namespace>/<name>", as Kubernetes' types.NamespacedName does.
func (n NamespacedName) String() string { return n.Namespace + "/" + n.Name }

// RenderMessage executes tmpl (DefaultMessage when empty) over data. Errors name the
// problem in the template (a parse error, a missing field such as the removed
// .Updated, a function failing) so users can fix it.
func RenderMessage(tmpl string, data TemplateData) (string, error) {
	if strings.TrimSpace(tmpl) == "" {
		return DefaultMessage, nil
	}
	t, err := template.New("commit message").Funcs(templateFuncs()).Parse(tmpl)
	if err != nil {
		return "", fmt.Errorf("invalid commit message template: %w", err)
	}
	w := &cappedWriter{max: MaxMessageSize}
	if err := t.Execute(w, data); err != nil {
		if errors.Is(err, errTooLong) {
			// text/template wraps write errors in a message that repeats the template.
			return "", fmt.Errorf("commit message template: %w", errTooLong)
		}
		return "", fmt.Errorf("commit message template: %w", err)
	}
	return w.b.String(), nil
}

// templateFuncs is Sprig's function map without the functions that read the server's
// environment or reach the network, and with bounded generators.
func templateFuncs() template.FuncMap {
	fm := sprig.TxtFuncMap()
	for _, name := range []string{"env", "expandenv", "getHostByName"} {
		delete(fm, name)
	}
	fm["repeat"] = func(count int, s string) (string, error) {
		if count < 0 || count*max(len(s), 1) > maxGenerated {
			return "", fmt.Errorf("repeat: more than %d bytes", maxGenerated)
		}
		return strings.Repeat(s, count), nil
	}
	fm["until"] = func(count int) ([]int, error) {
		if count < 0 {
			return intRange(0, count, -1)
		}
		return intRange(0, count, 1)
	}
	fm["untilStep"] = func(start, stop, step int) ([]int, error) { return intRange(start, stop, step) }
	delete(fm, "seq")
	return fm
}

// intRange is Sprig's untilStep with a bound on the length.
func intRange(start, stop, step int) ([]int, error) {
	out := []int{}
	for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
		if len(out) == maxGenerated {
			return nil, fmt.Errorf("until: more than %d elements", maxGenerated)
		}
		out = append(out, i)
	}
	return out, nil
}

var errTooLong = fmt.Errorf("the message is longer than %d bytes", MaxMessageSize)

// cappedWriter fails once more than max bytes are written.
type cappedWriter struct {
	b   strings.Builder
	max int
}

func (w *cappedWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > w.max {
		return 0, errTooLong
	}
	return w.b.Write(p)
}

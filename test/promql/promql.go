// Package promql finds the metric names that PromQL expressions (in
// Prometheus rules and Grafana dashboards) query, so tests can check that a
// server exports every one of them. It is a small scanner, not a parser:
// enough for the expressions we write, where every metric is either a bare
// name or a name with a {…} selector.
package promql

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

var (
	grafanaVariable = regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)
	stringLiteral   = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	selector        = regexp.MustCompile(`\{[^}]*\}`)
	rangeOrSubquery = regexp.MustCompile(`\[[^\]]*\]`)
	labelList       = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	identifier      = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	labelValues     = regexp.MustCompile(`^\s*label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,`)
	queryResult     = regexp.MustCompile(`^\s*query_result\((.*)\)\s*$`)
)

// keywords are PromQL words that are neither metrics nor functions.
var keywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true,
	"on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true,
	"Inf": true, "NaN": true, "atan2": true,
}

// MetricNames returns the metrics expr queries, sorted and without
// duplicates.
func MetricNames(expr string) []string {
	s := grafanaVariable.ReplaceAllString(expr, "")
	s = stringLiteral.ReplaceAllString(s, `""`)
	s = selector.ReplaceAllString(s, "{}")
	s = rangeOrSubquery.ReplaceAllString(s, "[]")
	s = labelList.ReplaceAllString(s, "")
	set := map[string]bool{}
	for _, loc := range identifier.FindAllStringIndex(s, -1) {
		name := s[loc[0]:loc[1]]
		if loc[0] > 0 && isNamePart(s[loc[0]-1]) {
			continue // the tail of a number or duration, e.g. 1e3, 5m
		}
		if keywords[name] || strings.HasPrefix(strings.TrimLeft(s[loc[1]:], " \t\n"), "(") {
			continue // a keyword or a function call
		}
		set[name] = true
	}
	return sorted(set)
}

func isNamePart(c byte) bool {
	return c == '_' || c == ':' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// TemplatingMetricNames returns the metrics a Grafana variable query reads:
// label_values(metric, label) or query_result(expr).
func TemplatingMetricNames(query string) []string {
	if m := labelValues.FindStringSubmatch(query); m != nil {
		return []string{m[1]}
	}
	if m := queryResult.FindStringSubmatch(query); m != nil {
		return MetricNames(m[1])
	}
	return nil
}

// Dashboard is what a Grafana dashboard's JSON says about its queries.
type Dashboard struct {
	// Exprs are the PromQL expressions of every panel target, nested rows
	// included, keyed by "<panel title>/<refId>".
	Exprs map[string]string
	// VariableQueries are the queries of the templating variables that
	// read Prometheus, keyed by variable name.
	VariableQueries map[string]string
}

// ParseDashboard reads a Grafana dashboard's JSON.
func ParseDashboard(data []byte) (*Dashboard, error) {
	var d struct {
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	out := &Dashboard{Exprs: map[string]string{}, VariableQueries: map[string]string{}}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, t := range p.Targets {
				if t.Expr != "" {
					out.Exprs[p.Title+"/"+t.RefID] = t.Expr
				}
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		// Grafana writes the query as a string, or as {"query": "..."}.
		var q string
		if json.Unmarshal(v.Query, &q) != nil {
			var obj struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal(v.Query, &obj); err != nil {
				return nil, fmt.Errorf("dashboard variable %s: %w", v.Name, err)
			}
			q = obj.Query
		}
		out.VariableQueries[v.Name] = q
	}
	return out, nil
}

type panel struct {
	Title   string `json:"title"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

// MetricNames returns every metric the dashboard queries.
func (d *Dashboard) MetricNames() []string {
	set := map[string]bool{}
	for _, e := range d.Exprs {
		for _, n := range MetricNames(e) {
			set[n] = true
		}
	}
	for _, q := range d.VariableQueries {
		for _, n := range TemplatingMetricNames(q) {
			set[n] = true
		}
	}
	return sorted(set)
}

// Exported reports whether a Prometheus text exposition has a series of
// the metric name (a histogram's name_bucket, _sum and _count included).
func Exported(exposition, name string) bool {
	for _, line := range strings.Split(exposition, "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			return true
		}
	}
	return false
}

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

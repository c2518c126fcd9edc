package rules

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/promql/parser"
)

func TestResultLabels(t *testing.T) {
	tests := []struct {
		expr   string
		known  map[string]string // label → fixed value, or "*" for any
		closed bool
	}{
		{`up`, map[string]string{}, false},
		{`up{job="node", instance=~".+", env=~"a|", zone!="x", dc!=""}`, map[string]string{"job": "node", "instance": "*", "dc": "*"}, false},
		{`up{job="a", job=~"a|b"} == 0`, map[string]string{"job": "a"}, false},
		{`rate(http_requests_total{code="500"}[5m]) / rate(http_requests_total[5m]) > 0.1`, map[string]string{"code": "500"}, false},
		{`sum(up)`, map[string]string{}, true},
		{`sum by (job, instance) (up{job="node"})`, map[string]string{"job": "node", "instance": "*"}, true},
		{`sum by (job) (sum by (instance) (up))`, map[string]string{}, true},
		{`sum without (instance) (up{instance="a", job="b"})`, map[string]string{"job": "b"}, false},
		{`topk(3, up{job="x"})`, map[string]string{"job": "x"}, false},
		{`count_values by (job) ("version", build_info)`, map[string]string{"job": "*", "version": "*"}, true},
		{`a{x="1"} > on (instance) b`, map[string]string{"instance": "*"}, true},
		{`a{instance="i"} > on (instance, zone) b{zone="z"}`, map[string]string{"instance": "i", "zone": "z"}, true},
		{`a{x="1"} > ignoring (x) b`, map[string]string{}, false},
		{`a{x="1"} * on (instance) group_left (team) b`, map[string]string{"x": "1", "team": "*"}, false},
		{`sum by (i) (a) * on (i) group_left (team) sum by (i) (b)`, map[string]string{"i": "*"}, true},
		{`a * on (i) group_right (team) b{team="t", y="2"}`, map[string]string{"team": "*", "y": "2"}, false}, // team comes from a
		{`a{x="1", y="2"} or b{x="1", y="3"}`, map[string]string{"x": "1", "y": "*"}, false},
		{`sum(a) or sum(b)`, map[string]string{}, true},
		{`a{x="1"} and b{y="2"}`, map[string]string{"x": "1"}, false},
		{`a{x="1"} unless b`, map[string]string{"x": "1"}, false},
		{`absent(up{job="node", env=~"p.*"})`, map[string]string{"job": "node"}, true},
		{`absent_over_time(up{job="a", job="b"}[5m])`, map[string]string{}, true},
		{`vector(1)`, map[string]string{}, true},
		{`time() - process_start_time_seconds{job="x"} > 3600`, map[string]string{"job": "x"}, false},
		{`1 > bool 2`, map[string]string{}, true},
		{`label_replace(up, "host", "$1", "instance", "(.*):.*")`, map[string]string{"host": "*"}, false},
		{`label_join(sum by (a) (x), "ab", "-", "a", "b")`, map[string]string{"a": "*", "ab": "*"}, true},
		{`histogram_quantile(0.9, sum by (le, job) (rate(x_bucket[5m])))`, map[string]string{"job": "*"}, true},
		{`max_over_time(sum by (job) (up)[1h:5m])`, map[string]string{"job": "*"}, true},
		{`-(up{job="x"})`, map[string]string{"job": "x"}, false},
		{`scalar(up)`, map[string]string{}, true},
	}
	p := parser.NewParser(parser.Options{})
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			e, err := p.ParseExpr(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			got := resultLabels(e)
			known := map[string]string{}
			for k, info := range got.known {
				if info.fixed {
					known[k] = info.value
				} else {
					known[k] = "*"
				}
				if info.why == "" {
					t.Errorf("label %q has no reason", k)
				}
			}
			if diff := cmp.Diff(tc.known, known); diff != "" {
				t.Errorf("known labels (-want +got):\n%s", diff)
			}
			if got.closed != tc.closed {
				t.Errorf("closed = %v, want %v", got.closed, tc.closed)
			}
		})
	}
}

func TestInspectTemplate(t *testing.T) {
	tests := []struct {
		text  string
		refs  []string
		churn string
	}{
		{`plain text`, nil, ""},
		{`{{ $labels.instance }} {{ .Labels.job }} {{ index $labels "a" }} {{ index .Labels "b" }} {{ $.Labels.c }}`, []string{"a", "b", "c", "instance", "job"}, ""},
		{`{{ $value }}`, nil, "$value"},
		{`{{ .Value | humanize }}`, nil, "$value"},
		{`{{ $.Value }}`, nil, "$value"},
		{`{{ printf "%.2f" $value }}`, nil, "$value"},
		{`{{ humanize $value }}`, nil, "$value"},
		{`{{ $v := $value }}{{ $x := $v }}{{ $x }}`, nil, "$value"},
		{`{{ $v := $value }}fixed`, nil, ""},
		{`{{ if gt $value 10.0 }}critical{{ else }}warning{{ end }}`, nil, ""},
		{`{{ if gt $value 10.0 }}{{ $labels.a }}{{ end }}`, []string{"a"}, ""},
		{`{{ with $value }}{{ . }}{{ end }}`, nil, "$value"},
		{`{{ with $labels.a }}{{ . }}{{ end }}`, []string{"a"}, ""},
		{`{{ range $i, $v := query "up" }}{{ $v.Labels.job }}{{ end }}`, nil, ""},
		{`{{ range query "up" }}{{ .Value }}{{ end }}`, nil, "a query result's value"},
		{`{{ with query "up" }}{{ . | first | value }}{{ end }}`, nil, "a query result's value"},
		{`{{ with query "up" }}{{ . | first | label "job" }}{{ end }}`, nil, ""},
		{`{{ with $labels }}{{ .Value }}{{ end }}`, nil, ""}, // a label named Value
		{`{{ range $labels }}{{ . }}{{ end }}`, nil, ""},
		{`{{ now }}`, nil, "the time (now)"},
		{`{{ (now) | humanizeTimestamp }}`, nil, "the time (now)"},
		{`{{ template "x" $value }}`, nil, ""},
		{`{{ $labels.a`, nil, ""}, // does not parse: nothing known
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			got := inspectTemplate(tc.text)
			if !slices.Equal(got.labelRefs, tc.refs) {
				t.Errorf("label refs %q, want %q", got.labelRefs, tc.refs)
			}
			if got.churn != tc.churn {
				t.Errorf("churn %q, want %q", got.churn, tc.churn)
			}
		})
	}
}

func mustParse(t *testing.T, file, content string) []*Group {
	t.Helper()
	gs, err := Parse(file, []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	return gs
}

func allLints() map[string]bool {
	m := map[string]bool{}
	for _, l := range Lints {
		m[l] = true
	}
	return m
}

func TestLint(t *testing.T) {
	a := mustParse(t, "a.yml", `groups:
- name: g
  rules:
  - alert: A
    expr: up{job="node"} == 0
    labels: {severity: page, job: node}
  - alert: Churn
    expr: sum by (job) (x) > 1
    labels: {v: '{{ $value }}', job: '{{ $labels.job | toUpper }}'}
    annotations: {s: '{{ $labels.instance | humanize }}'}
  - record: r
    expr: sum by (team) (x)
    labels: {team: t, v: '{{ $value }}'}
`)
	b := mustParse(t, "b.yml", `groups:
- name: h
  rules:
  - alert: A
    expr: up{job="node"} == 0
    for: 5m
    labels: {job: node, severity: page}
`)
	var rendered []string
	render := func(alert, text string, series map[string]string, value float64) error {
		rendered = append(rendered, alert+": "+text)
		if value != SampleValue {
			t.Errorf("rendered with $value %v", value)
		}
		if strings.Contains(text, "humanize") && series["instance"] == "" {
			return errors.New("humanize: empty")
		}
		return nil
	}
	got := Lint(append(a, b...), LintOptions{Enabled: allLints(), Render: render})
	var lines []string
	for _, f := range got {
		lines = append(lines, f.String())
	}
	want := []string{
		`a.yml:7: group "g", rule 2, "Churn": annotation "s" does not render with $labels={job="1"} $value=1.5: humanize: empty (the expression's result has no label "instance") [template-render]`,
		`a.yml:7: group "g", rule 2, "Churn": label "v" prints $value: every new value makes a new alert, which resolves the old one and restarts 'for' [label-churn]`,
		`a.yml:11: group "g", rule 3, "r": label "team" replaces the series label "team" that the expression's result carries (kept by by (team)): the series' values are lost [label-override]`,
		`b.yml:4: group "h", rule 1, "A": duplicate alert: same name and labels {job="node", severity="page"} as at a.yml:4; their alerts or series are indistinguishable [duplicate-rules]`,
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	// Recording rules' labels are not templates: never rendered.
	for _, r := range rendered {
		if strings.HasPrefix(r, "r: ") {
			t.Errorf("rendered a recording rule's label: %s", r)
		}
	}

	t.Run("selected lints only", func(t *testing.T) {
		got := Lint(append(a, b...), LintOptions{Enabled: map[string]bool{LintDuplicateRules: true}, Render: render})
		if len(got) != 1 || got[0].Lint != LintDuplicateRules {
			t.Errorf("got %v", got)
		}
	})
	t.Run("no render function", func(t *testing.T) {
		for _, f := range Lint(a, LintOptions{Enabled: allLints()}) {
			if f.Lint == LintTemplateRender {
				t.Errorf("template-render ran without Render: %v", f.String())
			}
		}
	})
	t.Run("none", func(t *testing.T) {
		if got := Lint(append(a, b...), LintOptions{Render: render}); len(got) != 0 {
			t.Errorf("got %v", got)
		}
	})
}

func TestLintSampleSeries(t *testing.T) {
	gs := mustParse(t, "f.yml", `groups:
- name: g
  rules:
  - alert: Open
    expr: up{job="node", instance=~".+"} == 0
    annotations: {s: '{{ $labels.pod }} {{ $labels.job }}'}
  - alert: Closed
    expr: sum by (job) (up) == 0
    annotations: {s: '{{ $labels.pod }} {{ $labels.job }}'}
`)
	seen := map[string][]map[string]string{}
	render := func(alert, _ string, series map[string]string, _ float64) error {
		seen[alert] = append(seen[alert], maps.Clone(series))
		return errors.New("fails with every sample")
	}
	got := Lint(gs, LintOptions{Enabled: allLints(), Render: render})
	want := map[string][]map[string]string{
		"Open": {
			{"job": "node", "instance": "1m", "pod": "1m"},
			{"job": "node", "instance": "1", "pod": "1"},
		},
		"Closed": {{"job": "1m"}, {"job": "1"}},
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("sample $labels (-want +got):\n%s", diff)
	}
	if len(got) != 2 || !strings.Contains(got[0].Msg, `$labels={instance="1", job="node", pod="1"}`) {
		t.Errorf("findings: %v", got)
	}

	// A template that renders with one of the sample values passes.
	calls := 0
	render = func(_, _ string, series map[string]string, _ float64) error {
		calls++
		if slices.Contains(slices.Collect(maps.Values(series)), "1m") {
			return errors.New("a number is needed")
		}
		return nil
	}
	if got := Lint(gs, LintOptions{Enabled: allLints(), Render: render}); len(got) != 0 || calls != 4 {
		t.Errorf("findings %v after %d renders", got, calls)
	}
}

func TestFindingString(t *testing.T) {
	tests := []struct {
		f    Finding
		want string
	}{
		{Finding{Lint: "x", File: "f.yml", Line: 3, Group: "g", Rule: 2, RuleName: "A", Msg: "m"}, `f.yml:3: group "g", rule 2, "A": m [x]`},
		{Finding{Lint: "x", File: "f.yml", Line: 3, Group: "g", Msg: "m"}, `f.yml:3: group "g": m [x]`},
		{Finding{Lint: "x", File: "f.yml", Msg: "m"}, `f.yml: m [x]`},
	}
	for _, tc := range tests {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// FuzzLint lints whatever Parse accepts: the lints never panic.
func FuzzLint(f *testing.F) {
	f.Add([]byte("groups:\n- name: g\n  labels: {a: '{{ now }}'}\n  rules:\n  - alert: A\n    expr: sum by (x) (up{x=\"1\"}) > on (x) group_left (y) b\n    labels: {x: '{{ $value }}'}\n    annotations: {s: '{{ with query \"up\" }}{{ . | first | value }}{{ end }}'}\n"))
	f.Add([]byte("groups:\n- name: g\n  rules:\n  - record: r\n    expr: label_replace(absent(up{a=\"b\"}), \"c\", \"\", \"a\", \".*\")\n    labels: {c: d}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		gs, err := Parse("fuzz.yml", b)
		if err != nil {
			return
		}
		render := func(string, string, map[string]string, float64) error { return nil }
		for _, fd := range Lint(append(gs, gs...), LintOptions{Enabled: allLints(), Render: render}) {
			if fd.File != "fuzz.yml" || fd.Msg == "" || !slices.Contains(Lints, fd.Lint) {
				t.Fatalf("bad finding %+v", fd)
			}
		}
	})
}

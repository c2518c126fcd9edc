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

// TestLintLabelAbsence reads, for each expression shape, which labels its
// result can never carry (want: why) and which it may (want: "").
func TestLintLabelAbsence(t *testing.T) {
	tests := []struct {
		expr string
		want map[string]string
	}{
		// Selectors.
		{`up`, map[string]string{"instance": ""}},
		{`up{instance=""} == 0`, map[string]string{"instance": `the selector up{instance=""} matches only series without it`, "job": ""}},
		{`up{instance=~""}`, map[string]string{"instance": `the selector up{instance=~""} matches only series without it`}},
		{`up{instance="", instance="a"}`, map[string]string{"instance": ""}},
		{`up{instance!=""}`, map[string]string{"instance": ""}},
		// Aggregations.
		{`sum by (job) (up)`, map[string]string{"instance": "sum by (job) keeps only job", "job": ""}},
		{`sum(up)`, map[string]string{"job": "sum(…) aggregates every label away"}},
		{`sum by (job) (sum by (instance) (up))`, map[string]string{"job": "sum by (instance) keeps only instance", "instance": "sum by (job) keeps only job"}},
		{`sum without (instance) (up)`, map[string]string{"instance": "sum without (instance) drops it", "job": ""}},
		{`sum by (instance) (sum without (instance) (up))`, map[string]string{"instance": "sum without (instance) drops it"}},
		{`topk(3, sum by (job) (up))`, map[string]string{"instance": "sum by (job) keeps only job", "job": ""}},
		{`topk by (job) (3, up)`, map[string]string{"instance": ""}},
		{`count_values("version", build_info)`, map[string]string{"version": "", "job": "count_values(…) aggregates every label away"}},
		{`count_values by (job) ("version", build_info)`, map[string]string{"version": "", "job": "", "instance": "count_values by (job) keeps only job and its own label"}},
		{`count_values without (instance) ("version", sum by (instance, job) (build_info))`, map[string]string{"version": "", "job": "", "instance": "count_values without (instance) drops it", "pod": "sum by (instance, job) keeps only instance, job"}},
		// absent and functions.
		{`absent(up{job="node", instance=~".+"})`, map[string]string{"job": "", "instance": "absent(…) carries only the labels its selector matches with ="}},
		{`absent(up{job="a", job=~"a|b"})`, map[string]string{"job": ""}}, // Prometheus leaves it out; other engines may not
		{`absent((up{job="a"}))`, map[string]string{"job": "", "instance": "absent(…) carries only the labels its selector matches with ="}},
		{`absent(sum(up{job="a"}))`, map[string]string{"job": "absent(…) of anything but a selector carries no label"}},
		{`absent(up{job="a"} == 1)`, map[string]string{"job": "absent(…) of anything but a selector carries no label"}},
		{`absent_over_time(up{job="a"}[5m])`, map[string]string{"job": "", "instance": "absent_over_time(…) carries only the labels its selector matches with ="}},
		{`vector(1)`, map[string]string{"instance": "vector(…) returns one series without labels"}},
		{`day_of_week() == 1`, map[string]string{"instance": "day_of_week(…) returns one series without labels"}},
		{`scalar(up) > bool 1`, map[string]string{"instance": "a scalar has no labels"}},
		{`time() - process_start_time_seconds > 3600`, map[string]string{"instance": ""}},
		{`label_replace(sum by (job) (up), "instance", "$1", "job", "(.*)")`, map[string]string{"instance": "", "pod": "sum by (job) keeps only job"}},
		{`label_join(sum(up), "x", ",", "a")`, map[string]string{"x": "", "a": "sum(…) aggregates every label away"}},
		{`histogram_quantile(0.9, sum by (le, job) (rate(x_bucket[5m])))`, map[string]string{"job": "", "le": "histogram_quantile(…) drops le", "instance": "sum by (le, job) keeps only le, job"}},
		{`histogram_quantile(0.9, rate(x_bucket[5m]))`, map[string]string{"le": "", "instance": ""}},
		{`sort_desc(sum by (job) (up))`, map[string]string{"instance": "sum by (job) keeps only job"}},
		{`max_over_time(sum by (job) (up)[1h:5m])`, map[string]string{"instance": "sum by (job) keeps only job"}},
		{`-(sum by (job) (up)) < 1`, map[string]string{"instance": "sum by (job) keeps only job"}},
		{`1 < sum by (job) (up)`, map[string]string{"instance": "sum by (job) keeps only job"}},
		// One-to-one matching.
		{`a / on (service) b > 0.1`, map[string]string{"service": "", "instance": "on (service) keeps only service"}},
		{`a / on () b`, map[string]string{"instance": "on () keeps no label"}},
		{`sum by (job) (a) / on (job, instance) b`, map[string]string{"job": "", "instance": "sum by (job) keeps only job"}},
		{`a / on (instance) sum by (job) (b)`, map[string]string{"instance": "sum by (job) keeps only job", "job": "on (instance) keeps only instance"}},
		{`a / ignoring (code) b`, map[string]string{"code": "ignoring (code) drops it", "instance": ""}},
		{`sum by (job) (a) / sum by (job) (b)`, map[string]string{"instance": "sum by (job) keeps only job"}},
		{`a / b`, map[string]string{"instance": ""}},
		// Many-to-one matching.
		{`a * on (instance) group_left (team) b`, map[string]string{"team": "", "instance": "", "pod": ""}},
		{`a * on (instance) group_left (team) sum by (instance) (b)`, map[string]string{"team": "group_left (team) copies it from the right side, which lacks it: sum by (instance) keeps only instance", "pod": ""}},
		{`sum by (i) (a) * on (i) group_left (team) b`, map[string]string{"team": "", "pod": "sum by (i) keeps only i"}},
		{`sum by (i) (a) * on (i) group_right (team) b`, map[string]string{"team": "group_right (team) copies it from the left side, which lacks it: sum by (i) keeps only i", "pod": ""}},
		{`a * ignoring (x) group_left b`, map[string]string{"x": ""}},
		// Set operations.
		{`a or b`, map[string]string{"instance": ""}},
		{`sum by (job) (a) or sum by (instance) (b)`, map[string]string{"job": "", "instance": "", "pod": "neither side of or carries it: sum by (job) keeps only job; sum by (instance) keeps only instance"}},
		{`sum by (job) (a) or sum by (job) (b)`, map[string]string{"job": "", "instance": "neither side of or carries it: sum by (job) keeps only job"}},
		{`(count(up == 1) or vector(0)) < 1`, map[string]string{"instance": "neither side of or carries it: count(…) aggregates every label away; vector(…) returns one series without labels"}},
		{`sum by (job) (a) or b`, map[string]string{"instance": ""}},
		{`sum without (pod) (a) or sum without (pod) (b)`, map[string]string{"pod": "neither side of or carries it: sum without (pod) drops it", "instance": ""}},
		{`sum by (job) (a) and b`, map[string]string{"instance": "sum by (job) keeps only job"}},
		{`sum by (job) (a) unless on (job) b`, map[string]string{"instance": "sum by (job) keeps only job"}},
		{`a and sum(b)`, map[string]string{"instance": ""}},
	}
	p := parser.NewParser(parser.Options{})
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			e, err := p.ParseExpr(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			s := resultLabels(e)
			got := map[string]string{}
			for k := range tc.want {
				got[k], _ = s.absence(k)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("absent labels (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("fill", func(t *testing.T) {
		// fill() lets unmatched series of either side through: nothing is
		// known.
		e, err := parser.NewParser(parser.Options{EnableBinopFillModifiers: true}).ParseExpr(`sum by (job) (a) + on (job) fill(0) sum by (job) (b)`)
		if err != nil {
			t.Fatal(err)
		}
		if why, absent := resultLabels(e).absence("instance"); absent {
			t.Errorf("instance absent (%s)", why)
		}
	})
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

// TestLintPrintedRefs checks which label reads of a template reach its
// output.
func TestLintPrintedRefs(t *testing.T) {
	tests := []struct {
		text    string
		printed []string
	}{
		{`{{ $labels.a }}`, []string{"a"}},
		{`{{ .Labels.a }} {{ $.Labels.b }} {{ index $labels "c" }} {{ index .Labels "d" }}`, []string{"a", "b", "c", "d"}},
		{`{{ $labels.a | reReplaceAll ":.*" "" }}`, []string{"a"}},
		{`{{ printf "%s/%s" $labels.a $labels.b }}`, []string{"a", "b"}},
		{`{{ humanize $labels.a }}`, []string{"a"}},
		{`{{ toUpper (printf "%s" $labels.a) }}`, []string{"a"}},
		{`{{ $labels }}`, nil},
		// Tested before printed, or not printed.
		{`{{ if $labels.a }}{{ $labels.a }}{{ end }}`, nil},
		{`{{ if $labels.a }}{{ $labels.b }}{{ end }}`, []string{"b"}},
		{`{{ if eq $labels.a "x" }}{{ $labels.a }}{{ else }}{{ $labels.a }}{{ end }}`, nil},
		{`{{ if $labels.a }}x{{ end }}{{ $labels.a }}`, []string{"a"}},
		{`{{ with $labels.a }}{{ . }}{{ end }}`, nil},
		{`{{ or $labels.a "x" }}`, nil},
		{`{{ $labels.a | or "x" }}`, nil},
		{`{{ and $labels.a $labels.b }}`, nil},
		{`{{ eq $labels.a "x" }} {{ len $labels.a }} {{ $labels.a | eq "x" }} {{ not $labels.a }}`, nil},
		// Through variables.
		{`{{ $h := $labels.a }}{{ $h }}`, []string{"a"}},
		{`{{ $h := $labels.a }}{{ $h | toUpper }}`, []string{"a"}},
		{`{{ $h := $labels.a }}{{ if $h }}{{ $h }}{{ end }}`, nil},
		{`{{ $h := $labels.a }}fixed`, nil},
		{`{{ $h := $labels.a }}{{ if true }}{{ $h := "x" }}{{ $h }}{{ end }}{{ $h }}`, nil}, // shadowed: forgotten
		{`{{ $h := "x" }}{{ if true }}{{ $h := $labels.a }}{{ end }}{{ $h }}`, nil},
		// Not the alert's labels.
		{`{{ range query "up" }}{{ .Labels.instance }}{{ end }}`, nil},
		{`{{ range $k, $v := $labels }}{{ $v }}{{ end }}`, nil},
		{`{{ template "x" $labels.a }}`, nil},
		{`{{ $labels.a`, nil}, // does not parse: nothing known
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			if got := inspectTemplate(tc.text).printedRefs; !slices.Equal(got, tc.printed) {
				t.Errorf("printed refs %q, want %q", got, tc.printed)
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
  - alert: Either
    expr: sum by (job) (a) > 1 or sum by (pod) (b) > 1
    annotations: {s: '{{ $labels.pod }} {{ $labels.job }} {{ $labels.instance }}'}
  - alert: Dropped
    expr: max without (pod) (up{job="node"}) == 0
    annotations: {s: '{{ $labels.pod }} {{ $labels.instance }}'}
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
		// Labels one side of or may carry are given; dropped ones are not.
		"Either":  {{"job": "1m", "pod": "1m"}, {"job": "1", "pod": "1"}},
		"Dropped": {{"job": "node", "instance": "1m"}, {"job": "node", "instance": "1"}},
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("sample $labels (-want +got):\n%s", diff)
	}
	// template-render reports every text; missing-label repeats none.
	if len(got) != 4 || !strings.Contains(got[0].Msg, `$labels={instance="1", job="node", pod="1"}`) {
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
	only := map[string]bool{LintTemplateRender: true}
	if got := Lint(gs, LintOptions{Enabled: only, Render: render}); len(got) != 0 || calls != 8 {
		t.Errorf("findings %v after %d renders", got, calls)
	}
}

func TestLintMissingLabel(t *testing.T) {
	gs := mustParse(t, "m.yml", `groups:
- name: g
  labels: {team: db}
  rules:
  - alert: A
    expr: sum by (job) (up) == 0
    labels: {host: '{{ $labels.instance }}', severity: page}
    annotations:
      a: '{{ $labels.instance | humanize }} {{ $labels.team }}'
      b: '{{ $labels.instance }} {{ index $labels "service.name" }} {{ $labels.job }}'
      c: '{{ $labels.severity }}'
  - record: r
    expr: sum by (job) (up)
    labels: {host: '{{ $labels.instance }}'}
`)
	// humanize fails on "": template-render reports annotation a, and
	// missing-label leaves it out.
	render := func(_, text string, series map[string]string, _ float64) error {
		if strings.Contains(text, "humanize") && series["instance"] == "" {
			return errors.New("humanize: empty")
		}
		return nil
	}
	var lines []string
	for _, f := range Lint(gs, LintOptions{Enabled: allLints(), Render: render}) {
		lines = append(lines, f.String())
	}
	want := []string{
		`m.yml:5: group "g", rule 1, "A": annotation "a" does not render with $labels={job="1"} $value=1.5: humanize: empty (the expression's result has no label "instance", "team") [template-render]`,
		`m.yml:5: group "g", rule 1, "A": $labels.instance is always empty in label "host" and annotation "b": the expression's result never carries label "instance" (sum by (job) keeps only job) [missing-label]`,
		`m.yml:5: group "g", rule 1, "A": $labels.severity is always empty in annotation "c": the expression's result never carries label "severity" (sum by (job) keeps only job); $labels holds the result series' labels, not the rule's label "severity": write its value instead [missing-label]`,
		`m.yml:5: group "g", rule 1, "A": index $labels "service.name" is always empty in annotation "b": the expression's result never carries label "service.name" (sum by (job) keeps only job) [missing-label]`,
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}

	t.Run("without template-render", func(t *testing.T) {
		got := Lint(gs, LintOptions{Enabled: map[string]bool{LintMissingLabel: true}, Render: render})
		if len(got) != 4 || !strings.Contains(got[0].Msg, `$labels.instance is always empty in label "host" and annotations "a" and "b"`) ||
			!strings.Contains(got[2].Msg, `$labels.team is always empty in annotation "a"`) || !strings.Contains(got[2].Msg, `not the rule's group label "team"`) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		for _, f := range Lint(gs, LintOptions{Enabled: map[string]bool{LintTemplateRender: true}, Render: render}) {
			if f.Lint == LintMissingLabel {
				t.Errorf("missing-label ran: %v", f.String())
			}
		}
	})
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
	f.Add([]byte("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: (count(up) or vector(0)) * on () group_left (x) sum without (y) (b)\n    annotations: {s: '{{ $h := $labels.x }}{{ if $labels.y }}{{ $h }}{{ end }}{{ index $labels \"z\" }}'}\n"))
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

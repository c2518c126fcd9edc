package templates

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/promql"
	promtemplate "github.com/prometheus/prometheus/template"

	"github.com/alertd/alertd/eval/datasource"
)

const testName = "__alert_TestAlert"

// fakeQueries answers template queries from a fixed table.
func fakeQueries(ctx context.Context, q string, _ time.Time) (datasource.Vector, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch q {
	case "up":
		return datasource.Vector{
			{Metric: labels.FromStrings("__name__", "up", "instance", "c:9100", "job", "node"), Value: 1},
			{Metric: labels.FromStrings("__name__", "up", "instance", "a:9100", "job", "node"), Value: 0},
			{Metric: labels.FromStrings("__name__", "up", "instance", "b:9100", "job", "node", "__value__", "x"), Value: 1},
		}, nil
	case "scalar":
		return datasource.Vector{{Metric: labels.EmptyLabels(), Value: 1234567.891}}, nil
	case "empty":
		return datasource.Vector{}, nil
	}
	return nil, fmt.Errorf("unknown query %q", q)
}

func testEnv(ctx context.Context) *Env {
	return &Env{
		Ctx:         ctx,
		TS:          time.Date(2024, 1, 2, 3, 4, 5, 678901234, time.UTC),
		Query:       fakeQueries,
		ExternalURL: "https://prom.example.com/prometheus",
	}
}

func testData(value float64) *Data {
	return &Data{
		Labels: labels.FromStrings(
			"__name__", "node_filesystem_avail_bytes",
			"instance", "h1.example.com:9100",
			"ip", "10.0.0.1:9100",
			"job", "node-exporter",
			"num", "1234.5",
			"path", "/var/lib/a b",
			"uni", "straße ǆemo ﬁle",
		),
		ExternalLabels: labels.FromStrings("cluster", "eu1", "region", "west"),
		ExternalURL:    "https://prom.example.com/prometheus",
		Value:          value,
	}
}

// prometheusExpand expands text with Prometheus's own template package, as
// rules.AlertingRule.Eval does.
func prometheusExpand(t testing.TB, text string, env *Env, d *Data) (string, error) {
	t.Helper()
	u, err := url.Parse(env.ExternalURL)
	if err != nil {
		t.Fatal(err)
	}
	query := func(ctx context.Context, q string, ts time.Time) (promql.Vector, error) {
		v, err := env.Query(ctx, q, ts)
		if err != nil {
			return nil, err
		}
		res := make(promql.Vector, 0, len(v))
		for _, s := range v {
			res = append(res, promql.Sample{Metric: s.Metric, F: s.Value, T: timestamp.FromTime(ts)})
		}
		return res, nil
	}
	data := promtemplate.AlertTemplateData(d.Labels.Map(), d.ExternalLabels.Map(), d.ExternalURL, promql.Sample{F: d.Value})
	e := promtemplate.NewTemplateExpander(env.Ctx, Prefix+text, testName, data,
		model.Time(timestamp.FromTime(env.TS)), query, u, nil)
	return e.Expand()
}

type result struct {
	Out string
	Err string
}

func toResult(out string, err error) result {
	if err != nil {
		return result{Err: err.Error()}
	}
	return result{Out: out}
}

// expandAll runs text through Prometheus, Execute and the text/template
// path, and fails unless all three agree. It returns the template, nil
// after a compile error.
func expandAll(t *testing.T, text string, env *Env, d *Data) *Template {
	t.Helper()
	want := toResult(prometheusExpand(t, text, env, d))
	tmpl, err := Compile(testName, text)
	if err != nil {
		if diff := cmp.Diff(want, result{Err: err.Error()}); diff != "" {
			t.Fatalf("Compile(%q) (-prometheus +ours):\n%s", text, diff)
		}
		return nil
	}
	const junk = "prefix:"
	got, err := tmpl.Execute([]byte(junk), env, d)
	if err != nil && string(got) != junk {
		t.Errorf("Execute(%q) changed dst on error: %q", text, got)
	}
	if diff := cmp.Diff(want, toResult(strings.TrimPrefix(string(got), junk), err)); diff != "" {
		t.Errorf("Execute(%q) (-prometheus +ours):\n%s", text, diff)
	}
	slow, err := tmpl.executeSlow(nil, env, d)
	if diff := cmp.Diff(want, toResult(string(slow), err)); diff != "" {
		t.Errorf("executeSlow(%q) (-prometheus +ours):\n%s", text, diff)
	}
	if tmpl.fast != nil {
		fast, ok := tmpl.fast.execute(nil, d)
		if ok && want.Err != "" {
			t.Errorf("fast path of %q succeeded with %q where Prometheus fails: %s", text, fast, want.Err)
		}
		if !ok && want.Err == "" {
			t.Errorf("fast path of %q failed where Prometheus succeeds", text)
		}
	}
	return tmpl
}

func TestExecuteMatchesPrometheus(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		value float64
		fast  bool
		// want, if set, pins Prometheus's output too.
		want string
	}{
		{name: "empty", text: "", fast: true},
		{name: "constant", text: "Disk is almost full.", fast: true, want: "Disk is almost full."},
		{name: "constant with braces", text: "a } b { c }}", fast: true},
		{name: "labels", text: "{{ $labels.instance }} of job {{ $labels.job }} is down", fast: true,
			want: "h1.example.com:9100 of job node-exporter is down"},
		{name: "dot labels", text: "{{ .Labels.instance }}/{{ .Labels.job }}", fast: true},
		{name: "root labels", text: "{{ $.Labels.job }} {{ $.Value }} {{ $.ExternalLabels.cluster }} {{ $.ExternalURL }}", value: 3, fast: true},
		{name: "missing label", text: "[{{ $labels.nope }}][{{ .Labels.nope }}]", fast: true, want: "[][]"},
		{name: "metric name", text: "{{ $labels.__name__ }}", fast: true},
		{name: "external labels", text: "{{ $externalLabels.cluster }} {{ .ExternalLabels.region }} [{{ $externalLabels.nope }}]", fast: true},
		{name: "external url var", text: "{{ $externalURL }} {{ .ExternalURL }}", fast: true},
		{name: "value", text: "{{ $value }}", value: 1234567.891, fast: true, want: "1.234567891e+06"},
		{name: "dot value", text: "{{ .Value }}", value: -0.5, fast: true},
		{name: "humanize", text: "{{ $value | humanize }}", value: 1234567.891, fast: true, want: "1.235M"},
		{name: "humanize call", text: "{{ humanize $value }}", value: 0.000123, fast: true},
		{name: "humanize dot value", text: "{{ .Value | humanize }}", value: 42, fast: true},
		{name: "humanize1024", text: "{{ $value | humanize1024 }}", value: 1234567.891, fast: true, want: "1.177Mi"},
		{name: "humanizeDuration", text: "{{ $value | humanizeDuration }}", value: 3725.5, fast: true, want: "1h 2m 5s"},
		{name: "humanizeDuration small", text: "{{ humanizeDuration $value }}", value: 0.0123, fast: true, want: "12.3ms"},
		{name: "humanizePercentage", text: "{{ $value | humanizePercentage }}", value: 0.12345, fast: true, want: "12.35%"},
		{name: "humanizeTimestamp", text: "{{ $value | humanizeTimestamp }}", value: 1700000000, fast: true,
			want: "2023-11-14 22:13:20 +0000 UTC"},
		{name: "humanizeTimestamp overflow", text: "{{ $value | humanizeTimestamp }}", value: 1e20, fast: true},
		{name: "humanize numeric label", text: "{{ $labels.num | humanize }} {{ humanize1024 .Labels.num }}", fast: true},
		{name: "humanize non-numeric label", text: "{{ $labels.job | humanize }}", fast: true},
		{name: "humanize missing label", text: "{{ $labels.nope | humanizeDuration }}", fast: true},
		{name: "humanize constant", text: `{{ humanize "12345" }} {{ "0.5" | humanizePercentage }}`, fast: true},
		{name: "humanize twice", text: "{{ $value | humanize | humanize }}", value: 1234567, fast: true},
		{name: "humanize then toUpper", text: "{{ $value | humanize | toUpper }}", value: 0.00123, fast: true},
		{name: "toUpper toLower", text: "{{ $labels.job | toUpper }} {{ toLower .ExternalLabels.cluster }} {{ $labels.uni | toUpper }} {{ $labels.uni | toLower }}", fast: true},
		{name: "title", text: "{{ $labels.job | title }} {{ title $labels.uni }} {{ \"hello wORLD o'neil 1st\" | title }}", fast: true},
		{name: "toUpper of value", text: "{{ $value | toUpper }}", value: 1, fast: false},
		{name: "stripPort", text: "{{ $labels.instance | stripPort }} {{ stripPort $labels.job }} {{ \"[::1]:80\" | stripPort }}", fast: true},
		{name: "stripDomain", text: "{{ $labels.instance | stripDomain }} {{ $labels.ip | stripDomain }} {{ stripDomain \"[::1]:80\" }} {{ stripDomain \"a.b\" }}", fast: true,
			want: "h1:9100 10.0.0.1:9100 [::1]:80 a"},
		{name: "urlQueryEscape", text: "{{ $labels.path | urlQueryEscape }}", fast: true},
		{name: "graphLink tableLink", text: `{{ graphLink "rate(x[5m]) > 0" }} {{ $labels.job | tableLink }}`, fast: true},
		{name: "reReplaceAll", text: `{{ reReplaceAll ":.*" "" $labels.instance }}`, fast: true, want: "h1.example.com"},
		{name: "reReplaceAll piped", text: `{{ $labels.instance | reReplaceAll "^([^.]+)\\..*(:\\d+)$" "$1$2" }}`, fast: true, want: "h1:9100"},
		{name: "reReplaceAll bad regex", text: `{{ reReplaceAll "(" "" $labels.instance }}`, fast: false},
		{name: "reReplaceAll of value", text: `{{ $value | reReplaceAll "1" "2" }}`, fast: false},
		{name: "printf float", text: `{{ printf "%.2f" $value }}`, value: 3.14159, fast: true, want: "3.14"},
		{name: "printf piped", text: `{{ $value | printf "%.2f" }}`, value: 2.5, fast: true},
		{name: "printf mixed", text: `{{ printf "%s is at %.1f%% (%v, %g, %e, %E, %G, %F, %.0f, %.f)" $labels.instance $value $value $value $value $value $value $value $value $value }}`,
			value: 98.7654, fast: true},
		{name: "printf flags", text: `{{ printf "%5.2f|%-8s|%q|%x|%+v" $value $labels.job $labels.job $value $value }}`, value: 1.5, fast: true},
		{name: "printf bad verb", text: `{{ printf "%d %s" $value $value }}`, value: 1.5, fast: true},
		{name: "printf missing and extra", text: `{{ printf "%s %s" $labels.job }}|{{ printf "x" $value }}|{{ printf "%" }}|{{ printf "%.2" $value }}`, fast: true},
		{name: "printf nested", text: `{{ printf "%s: %s" ($labels.job | toUpper) (humanize $value) }}`, value: 2048, fast: true},
		{name: "printf number constant", text: `{{ printf "%d" 5 }}`, fast: false},
		{name: "printf of printf", text: `{{ $value | printf "%.1f" | printf "[%s]" }}`, value: 7.25, fast: true},
		{name: "comment", text: "a{{/* comment */}}b", fast: true, want: "ab"},
		{name: "trim markers", text: "a  {{- $labels.job -}}  b\n{{- $value }}", value: 1, fast: true},
		{name: "string constant", text: `{{ "x" }}{{ "\u00e9" }}`, fast: true},
		{name: "print labels map", text: "{{ $labels }}", fast: false},
		{name: "print data", text: "{{ . }}", value: 1, fast: false},
		{name: "print external labels", text: "{{ $externalLabels }} {{ .ExternalLabels }}", fast: false},
		{name: "range labels", text: "{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}", fast: false},
		{name: "if", text: "{{ if gt $value 1.0 }}high{{ else }}low{{ end }}", value: 2, fast: false},
		{name: "index", text: `{{ index $labels "job" }} {{ len $labels }}`, fast: false},
		{name: "redeclare labels", text: `{{ $labels := "x" }}{{ $labels }}`, fast: false},
		{name: "assign value", text: `{{ $value = 3 }}{{ $value }}`, fast: false},
		{name: "query first value humanize", text: `{{ with query "scalar" }}{{ . | first | value | humanize }}{{ end }}`, fast: false, want: "1.235M"},
		{name: "range query", text: `{{ range query "up" }}{{ .Labels.instance }}={{ .Value }} {{ end }}`, fast: false},
		{name: "sortByLabel", text: `{{ range sortByLabel "instance" (query "up") }}{{ .Labels.instance }} {{ end }}`, fast: false},
		{name: "label strvalue", text: `{{ with query "up" }}{{ with first . }}{{ label "instance" . }}|{{ strvalue . }}{{ end }}{{ end }}`, fast: false},
		{name: "first on empty", text: `{{ query "empty" | first }}`, fast: false},
		{name: "query error", text: `{{ query "nope" }}`, fast: false},
		{name: "query field error", text: `{{ with query "up" }}{{ .Value }}{{ end }}`, fast: false},
		{name: "first of value", text: `{{ $value | first }}`, fast: false},
		{name: "sample field error", text: `{{ with query "up" }}{{ (first .).Nope }}{{ end }}`, fast: false},
		{name: "args", text: `{{ define "x" }}{{ .arg0 }}-{{ .arg1 }}{{ end }}{{ template "x" args 1 "a" }}`, fast: false},
		{name: "safeHtml", text: `{{ "<b>" | safeHtml }} {{ $labels.job | safeHtml }}`, fast: false},
		{name: "match", text: `{{ if match "^h1" $labels.instance }}yes{{ end }}{{ match "x" "y" }}`, fast: false},
		{name: "toTime toDuration", text: `{{ $value | toTime }} {{ $value | toDuration }} {{ "90" | toDuration }}`, value: 1700000000.5, fast: false},
		{name: "toTime NaN", text: `{{ $value | toTime }}`, value: math.NaN(), fast: false},
		{name: "parseDuration", text: `{{ parseDuration "1h30m" }} {{ parseDuration "-5m" }}`, fast: false, want: "5400 -300"},
		{name: "parseDuration error", text: `{{ parseDuration "x" }}`, fast: false},
		{name: "now", text: `{{ now }} {{ now | humanizeTimestamp }}`, fast: false},
		{name: "pathPrefix externalURL", text: `{{ pathPrefix }} {{ externalURL }}`, fast: false},
		{name: "missing data field", text: `{{ .Nope }}`, fast: false},
		{name: "wrong arg count", text: `{{ humanize }}`, fast: false},
		{name: "wrong arg count piped", text: `{{ $value | humanize $value }}`, fast: false},
		{name: "non-function piped", text: `{{ $value | $labels.job }}`, fast: false},
		{name: "label field of label", text: `{{ $labels.job.x }}`, fast: false},
		{name: "labels with argument", text: `{{ $labels.job 1 }}`, fast: false},
		{name: "value field", text: `{{ $value.x }}`, fast: false},
		{name: "undefined function", text: `{{ nope }}`},
		{name: "unclosed action", text: `{{ $labels.job `},
		{name: "unexpected end", text: `{{ end }}`},
		{name: "undefined variable", text: `{{ $nope }}`},
		{name: "define redefines", text: `{{ define "__alert_TestAlert" }}x{{ end }}y`, fast: false},
		{name: "html funcs", text: `{{ html "<a>" }} {{ js "'" }} {{ urlquery "a b" }} {{ print 1 2 }} {{ println "x" }}`, fast: false},
	}
	env := testEnv(t.Context())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testData(tt.value)
			tmpl := expandAll(t, tt.text, env, d)
			if tmpl == nil {
				return
			}
			if got := tmpl.isFast(); got != tt.fast {
				t.Errorf("isFast() = %v, want %v", got, tt.fast)
			}
			if tt.want != "" {
				got, err := tmpl.Execute(nil, env, d)
				if err != nil || string(got) != tt.want {
					t.Errorf("Execute() = %q, %v; want %q", got, err, tt.want)
				}
			}
		})
	}
}

// valueTemplates are fast templates of $value, run over valueCases.
var valueTemplates = []string{
	"{{ $value }}",
	"{{ $value | humanize }}",
	"{{ $value | humanize1024 }}",
	"{{ $value | humanizeDuration }}",
	"{{ $value | humanizePercentage }}",
	"{{ $value | humanizeTimestamp }}",
	`{{ printf "%.2f|%v|%g|%.3e|%.0f|%G" $value $value $value $value $value $value }}`,
	`{{ printf "%s" (humanize $value) }}`,
}

func valueCases() []float64 {
	return []float64{
		0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1),
		1e-7, 1234567.891, 1, -1, 42, -42, 1000, 999.99995, 1023, 1024, 1025, -3.5,
		0.12345, 0.001, 1e21, 1e20, -1e-300, 5e-324, math.MaxFloat64, -math.MaxFloat64,
		60, 3600, 86400, 86400*3 + 3725.5, -(86400*2 + 3600*3 + 60*4 + 5), 899.99,
		1700000000, 1435065584.128, -1.5, -0.0005, 9223372036, 9223372037, 1 << 53, 1 << 63,
	}
}

func TestValueFormatsMatchPrometheus(t *testing.T) {
	env := testEnv(t.Context())
	for _, text := range valueTemplates {
		for _, v := range valueCases() {
			t.Run(fmt.Sprintf("%s/%v", text, v), func(t *testing.T) {
				tmpl := expandAll(t, text, env, testData(v))
				if tmpl == nil || !tmpl.isFast() {
					t.Errorf("%q is not on the fast path", text)
				}
			})
		}
	}
}

func TestParseCheckMatchesPrometheus(t *testing.T) {
	tests := []struct {
		name string
		text string
	}{
		{name: "valid", text: "{{ $labels.job }}"},
		{name: "unclosed", text: "{{ $labels.job "},
		{name: "undefined function", text: "{{ nope 1 }}"},
		{name: "unclosed if", text: "{{ if $value }}"},
		{name: "bad column", text: "x\n  {{ . | }}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := promtemplate.NewTemplateExpander(context.Background(), Prefix+tt.text, testName,
				nil, 0, nil, nil, nil)
			want := fmt.Sprint(e.ParseTest())
			got := fmt.Sprint(ParseCheck(testName, tt.text))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ParseCheck(%q) (-prometheus +ours):\n%s", tt.text, diff)
			}
		})
	}
}

func TestConstant(t *testing.T) {
	tests := []struct {
		name string
		text string
		want bool
	}{
		{name: "empty", text: "", want: true},
		{name: "text", text: "Instance is down", want: true},
		{name: "braces", text: "a } { }} b", want: true},
		{name: "action", text: "{{ $labels.job }}", want: false},
		{name: "comment", text: "a{{/* x */}}b", want: false},
		{name: "trim", text: "a {{- /* x */}}", want: false},
		{name: "slow", text: "{{ if true }}x{{ end }}", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Compile(testName, tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if got := tmpl.Constant(); got != tt.want {
				t.Errorf("Constant() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestQueryRunsAtEvaluationTime(t *testing.T) {
	type ctxKey struct{}
	ctx := context.WithValue(t.Context(), ctxKey{}, "eval")
	env := testEnv(ctx)
	var gotTS time.Time
	var gotCtxValue any
	env.Query = func(ctx context.Context, q string, ts time.Time) (datasource.Vector, error) {
		gotTS, gotCtxValue = ts, ctx.Value(ctxKey{})
		return fakeQueries(ctx, q, ts)
	}
	tmpl, err := Compile(testName, `{{ query "scalar" | first | value }} {{ now }}`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Execute(nil, env, testData(1))
	if err != nil {
		t.Fatal(err)
	}
	if want := "1.234567891e+06 1.704164645678e+09"; string(got) != want {
		t.Errorf("Execute() = %q, want %q", got, want)
	}
	// Prometheus runs template queries at the millisecond timestamp.
	if want := time.UnixMilli(env.TS.UnixMilli()); !gotTS.Equal(want) {
		t.Errorf("query ran at %v, want %v", gotTS, want)
	}
	if gotCtxValue != "eval" {
		t.Errorf("query context value = %v, want the Env's context", gotCtxValue)
	}
}

func TestNilQueryAndEnv(t *testing.T) {
	tmpl, err := Compile(testName, `{{ query "up" }}`)
	if err != nil {
		t.Fatal(err)
	}
	for name, env := range map[string]*Env{"nil env": nil, "nil query": {}} {
		t.Run(name, func(t *testing.T) {
			_, err := tmpl.Execute(nil, env, nil)
			want := `error executing template __alert_TestAlert: template: __alert_TestAlert:1:115: executing "__alert_TestAlert" at <query "up">: error calling query: no query function configured`
			if err == nil || err.Error() != want {
				t.Errorf("Execute() error = %v, want %s", err, want)
			}
		})
	}
	tmpl, err = Compile(testName, `{{ $labels.job }}{{ $value }}{{ now }}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmpl.Execute(nil, nil, nil); err != nil {
		t.Errorf("Execute(nil, nil, nil) error = %v", err)
	}
}

func TestExpandWritesErrorText(t *testing.T) {
	tmpl, err := Compile(testName, `{{ query "empty" | first }}`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Expand(testEnv(t.Context()), testData(1))
	if err == nil {
		t.Fatal("Expand() error = nil")
	}
	want := `<error expanding template: error executing template __alert_TestAlert: template: __alert_TestAlert:1:131: executing "__alert_TestAlert" at <first>: error calling first: first() called on vector with no elements>`
	if got != want {
		t.Errorf("Expand() = %q, want %q", got, want)
	}
}

// TestConcurrentEnv checks that concurrent executions of one template see
// their own Env, on both the env-dependent and the plain slow path.
func TestConcurrentEnv(t *testing.T) {
	envTmpl, err := Compile(testName, `{{ now }} {{ pathPrefix }} {{ range query "up" }}{{ .Value }}{{ end }} {{ title $labels.job }}`)
	if err != nil {
		t.Fatal(err)
	}
	plainTmpl, err := Compile(testName, `{{ range $k, $v := $labels }}{{ $k }}{{ end }} {{ title $labels.job }} {{ $value }}`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Go(func() {
			env := testEnv(t.Context())
			env.TS = time.Unix(int64(1000+i), 0)
			env.ExternalURL = fmt.Sprintf("http://x/p%d", i)
			data := testData(float64(i))
			wantEnv := fmt.Sprintf("%d /p%d 101 Node-Exporter", 1000+i, i)
			wantPlain := fmt.Sprintf("__name__instanceipjobnumpathuni Node-Exporter %d", i)
			for range 50 {
				got, err := envTmpl.Execute(nil, env, data)
				if err != nil || string(got) != wantEnv {
					errs <- fmt.Errorf("env template: got %q, %w; want %q", got, err, wantEnv)
					return
				}
				got, err = plainTmpl.Execute(nil, env, data)
				if err != nil || string(got) != wantPlain {
					errs <- fmt.Errorf("plain template: got %q, %w; want %q", got, err, wantPlain)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestExecuteFastPathDoesNotAllocate(t *testing.T) {
	tests := []struct {
		name string
		text string
	}{
		{name: "constant", text: "Instance is down"},
		{name: "labels", text: "{{ $labels.instance }} of job {{ .Labels.job }} ({{ $externalLabels.cluster }}, {{ $externalURL }})"},
		{name: "value", text: "value is {{ $value }}"},
		{name: "humanize", text: "{{ $value | humanize }} {{ $value | humanize1024 }} {{ humanizePercentage $value }}"},
		{name: "humanizeDuration", text: "{{ $value | humanizeDuration }}"},
		{name: "humanizeTimestamp", text: "{{ $value | humanizeTimestamp }}"},
		{name: "humanize label", text: "{{ $labels.num | humanize }}"},
		{name: "toUpper ascii", text: "{{ $labels.job | toUpper }} {{ $labels.job | toLower }}"},
		{name: "printf", text: `{{ printf "%s is %.2f%% full" $labels.instance $value }}`},
	}
	d := testData(86400*3 + 3725.5)
	env := testEnv(t.Context())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Compile(testName, tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if !tmpl.isFast() {
				t.Fatal("not on the fast path")
			}
			buf := make([]byte, 0, 512)
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := tmpl.Execute(buf[:0], env, d); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("Execute allocates %v times, want 0", allocs)
			}
		})
	}
}

func TestPrintfMatchesFmt(t *testing.T) {
	formats := []string{
		"%s", "%v", "%.2f", "%f", "%F", "%.0f", "%.f", "%e", "%E", "%.3e", "%g", "%G", "%.3g", "%.0g",
		"%v%%", "%%%v", "a%sb%.1fc", "%.10f", "%.123f", "%d", "%5.1f", "%-s", "%", "%.", "%.1", "%x", "%q",
		"%v %v", "%!", "%[1]v", "%*d", "%.2v", "%.2s", "é%sé", "%é",
	}
	args := []struct {
		name string
		vals []value
	}{
		{name: "string", vals: []value{{s: "abc"}}},
		{name: "float", vals: []value{{f: 1234.5678, isFloat: true}}},
		{name: "NaN", vals: []value{{f: math.NaN(), isFloat: true}}},
		{name: "+Inf", vals: []value{{f: math.Inf(1), isFloat: true}}},
		{name: "-Inf", vals: []value{{f: math.Inf(-1), isFloat: true}}},
		{name: "-0", vals: []value{{f: math.Copysign(0, -1), isFloat: true}}},
		{name: "tiny", vals: []value{{f: 5e-324, isFloat: true}}},
		{name: "string and float", vals: []value{{s: "x"}, {f: -2.5, isFloat: true}}},
		{name: "none", vals: nil},
	}
	for _, format := range formats {
		for _, a := range args {
			t.Run(format+"/"+a.name, func(t *testing.T) {
				kinds := make([]kind, len(a.vals))
				anys := make([]any, len(a.vals))
				for i, v := range a.vals {
					if v.isFloat {
						kinds[i], anys[i] = kindFloat, v.f
					} else {
						kinds[i], anys[i] = kindString, v.s
					}
				}
				f := compilePrintf(format, kinds)
				got := string(f.append(nil, a.vals))
				if want := fmt.Sprintf(format, anys...); got != want {
					t.Errorf("got %q, want %q (specialised: %v)", got, want, f.pieces != nil)
				}
			})
		}
	}
}

// TestFunctionPanicBecomesError checks the panic of reReplaceAll on a bad
// pattern turns into the execution error Prometheus reports.
func TestFunctionPanicBecomesError(t *testing.T) {
	tmpl, err := Compile(testName, `{{ reReplaceAll "(" "" "x" }}`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tmpl.Execute(nil, testEnv(t.Context()), testData(0))
	want := "error executing template __alert_TestAlert: template: __alert_TestAlert:1:115: executing \"__alert_TestAlert\" at <reReplaceAll \"(\" \"\" \"x\">: error calling reReplaceAll: regexp: Compile(`(`): error parsing regexp: missing closing ): `(`"
	if err == nil || err.Error() != want {
		t.Errorf("Execute() error = %v, want %s", err, want)
	}
}

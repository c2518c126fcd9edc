package unittest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertd/alertd/internal/golden"
	"github.com/google/go-cmp/cmp"
)

// run runs Run on files and returns the exit code and what it wrote.
func run(t *testing.T, o Options, files ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	o.Stdout, o.Stderr = &out, &errOut
	code = Run(t.Context(), o, files...)
	return code, out.String(), errOut.String()
}

// TestRunGolden pins the output, promtool's wording plus alertd's diffs,
// of files that pass and fail in every way.
func TestRunGolden(t *testing.T) {
	files := []string{
		"testdata/promtool/01_docs_example.yml",
		"testdata/promtool/02_wrong_labels.yml",
		"testdata/promtool/04_wrong_samples.yml",
		"testdata/promtool/17_rule_error.yml",
		"testdata/promtool/18_missing_alertname.yml",
		"testdata/promtool/19_broken_rule_file.yml",
		"testdata/promtool/20_unknown_field.yml",
		"testdata/promtool/21_bad_series.yml",
		"testdata/promtool/22_globs.yml",
		"testdata/promtool/25_lifecycle.yml",
		"testdata/alertd/pending.yml",
		"testdata/alertd/histograms.yml",
		"testdata/does-not-exist.yml",
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, stdout, stderr := run(t, Options{}, f)
			got := "exit " + strconv.Itoa(code) + "\n-- stdout --\n" + stdout + "-- stderr --\n" + stderr
			golden.Check(t, filepath.Join("testdata", "golden", strings.TrimSuffix(filepath.Base(f), ".yml")+".golden"), got)
		})
	}
}

// TestRunJUnit pins the JUnit XML of a run, as promtool's --junit writes
// it: a suite per file, a case per test group, a failure per error, an
// error for a file that could not be tested.
func TestRunJUnit(t *testing.T) {
	var junit bytes.Buffer
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	code, _, _ := run(t, Options{JUnit: &junit, Now: now},
		"testdata/promtool/05_stale.yml",
		"testdata/promtool/13_multi_groups.yml",
		"testdata/promtool/20_unknown_field.yml")
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	golden.Check(t, "testdata/golden/junit.xml", junit.String())

	// It is what promtool's junitxml declares.
	var doc struct {
		Suites []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Errors   int    `xml:"errors,attr"`
			Cases    []struct {
				Name     string   `xml:"name,attr"`
				Failures []string `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(junit.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	type suite struct {
		name                  string
		tests, failures, errs int
		failedCases, allCases string
	}
	var got []suite
	for _, s := range doc.Suites {
		var failed, all []string
		for _, c := range s.Cases {
			all = append(all, c.Name)
			if len(c.Failures) > 0 {
				failed = append(failed, c.Name)
			}
		}
		got = append(got, suite{s.Name, s.Tests, s.Failures, s.Errors, strings.Join(failed, ";"), strings.Join(all, ";")})
	}
	want := []suite{
		{"testdata/promtool/05_stale.yml", 2, 0, 0, "", "stale ends alerts;gap keeps the last value"},
		{"testdata/promtool/13_multi_groups.yml", 6, 2, 0, "both missing, one expected;unnamed#4", "api missing;both missing;both missing, one expected;unnamed#3;unnamed#4;db down later"},
		{"testdata/promtool/20_unknown_field.yml", 1, 0, 1, "", "unknown"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(suite{})); diff != "" {
		t.Errorf("suites (-want +got):\n%s", diff)
	}
}

// TestRunSelect selects test groups by name, as promtool's --run.
func TestRunSelect(t *testing.T) {
	tests := []struct {
		patterns []string
		want     []string
		code     int
	}{
		{nil, []string{"api missing", "both missing", "both missing, one expected", "unnamed#3", "unnamed#4", "db down later"}, 1},
		{[]string{"missing$"}, []string{"api missing", "both missing"}, 0},
		{[]string{"^api", "later"}, []string{"api missing", "db down later"}, 0},
		{[]string{"one expected"}, []string{"both missing, one expected"}, 1},
		// Unnamed groups have the name "".
		{[]string{"^$"}, []string{"unnamed#3", "unnamed#4"}, 1},
		{[]string{"nothing matches this"}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.patterns, "|"), func(t *testing.T) {
			re, err := RunRegexp(tt.patterns)
			if err != nil {
				t.Fatal(err)
			}
			res := RunFile(t.Context(), "testdata/promtool/13_multi_groups.yml", Options{Run: re})
			var names []string
			for _, g := range res.Groups {
				names = append(names, g.Name)
			}
			if diff := cmp.Diff(tt.want, names); diff != "" {
				t.Errorf("groups run (-want +got):\n%s", diff)
			}
			if code, _, _ := run(t, Options{Run: re}, "testdata/promtool/13_multi_groups.yml"); code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
		})
	}
	if _, err := RunRegexp([]string{"("}); err == nil || !strings.Contains(err.Error(), "--run") {
		t.Errorf("bad pattern: error %v", err)
	}
}

// groupErrors returns the errors of each group of a file, by group name.
func groupErrors(t *testing.T, file string, o Options) map[string][]string {
	t.Helper()
	res := RunFile(t.Context(), file, o)
	if res.Err != nil {
		t.Fatalf("%s: %v", file, res.Err)
	}
	out := map[string][]string{}
	for _, g := range res.Groups {
		out[g.Name] = []string{}
		for _, e := range g.Errors {
			out[g.Name] = append(out[g.Name], e.Error())
		}
	}
	return out
}

// wantErrors checks that each group failed with errors containing the
// given substrings, one error per list entry, and that the others passed.
func wantErrors(t *testing.T, got map[string][]string, want map[string][][]string) {
	t.Helper()
	for name, errs := range got {
		w := want[name]
		if len(errs) != len(w) {
			t.Errorf("group %q: %d errors, want %d:\n%s", name, len(errs), len(w), strings.Join(errs, "\n"))
			continue
		}
		for i, subs := range w {
			for _, s := range subs {
				if !strings.Contains(errs[i], s) {
					t.Errorf("group %q, error %d does not contain %q:\n%s", name, i, s, errs[i])
				}
			}
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("group %q did not run", name)
		}
	}
}

func TestPendingAlerts(t *testing.T) {
	wantErrors(t, groupErrors(t, "testdata/alertd/pending.yml", Options{}), map[string][][]string{
		"pending then firing": nil,
		"wrong pending": {{
			"alertname: InstanceDown, time: 6m, pending alerts:",
			`- {alertname="InstanceDown", instance="a", job="api", severity="page"}`, "(is firing)",
		}},
	})
}

func TestHistograms(t *testing.T) {
	wantErrors(t, groupErrors(t, "testdata/alertd/histograms.yml", Options{}), map[string][][]string{
		"histograms": nil,
		"histogram-valued alert": {{
			"rule: HistogramValued, time: 0s, err: native histogram results are not supported (1 series with a histogram sample",
		}},
	})
}

// TestPrometheus3 checks what alertd shares with promtool 3 and not with
// promtool 2: left-open windows, and the default test group interval.
func TestPrometheus3(t *testing.T) {
	wantErrors(t, groupErrors(t, "testdata/alertd/prometheus3.yml", Options{}), map[string][][]string{
		"left-open windows":        nil,
		"stale after five minutes": nil,
		"start_timestamp":          nil,
	})
}

// routerFunc is a Router.
type routerFunc func(labels, annotations map[string]string) ([]Delivery, error)

func (f routerFunc) Route(l, a map[string]string) ([]Delivery, error) { return f(l, a) }

// fakeRouter routes as testdata/alertd/alertd.yml says: pages to pager,
// pages and warnings to team-slack, the rest to default, and renders a
// PagerDuty summary and a Slack title and text.
func fakeRouter(l, a map[string]string) ([]Delivery, error) {
	var out []Delivery
	if l["severity"] == "page" {
		out = append(out, Delivery{Receiver: "pager", Integration: "pagerduty", Fields: map[string]string{"summary": a["summary"]}})
	}
	if l["severity"] == "page" || l["severity"] == "warning" {
		out = append(out, Delivery{Receiver: "team-slack", Integration: "slack", Fields: map[string]string{
			"title": "[FIRING] " + l["alertname"],
			"text":  a["summary"] + " (region " + l["region"] + ")",
		}})
	}
	if len(out) == 0 {
		out = append(out, Delivery{Receiver: "default"})
	}
	return out, nil
}

func TestNotifications(t *testing.T) {
	var configs []string
	o := Options{NewRouter: func(path string) (Router, error) {
		configs = append(configs, path)
		if _, err := os.Stat(path); err != nil {
			return nil, err
		}
		return routerFunc(fakeRouter), nil
	}}
	wantErrors(t, groupErrors(t, "testdata/alertd/notifications.yml", o), map[string][][]string{
		"routed": nil,
		"misrouted": {
			{
				`alertname: InstanceDown, time: 5m, notification for {alertname="InstanceDown", instance="a", job="api", severity="page"}:`,
				`receivers: exp ["team-slack"], got ["pager", "team-slack"]`,
				"slack title (receiver \"team-slack\"):\n            exp: \"InstanceDown\"\n            got: \"[FIRING] InstanceDown\"",
				`email subject: exp "down", got no email notification`,
			},
			{
				`notification for {alertname="InstanceDown", instance="b", job="api", severity="page"}:`,
				`no firing alert has these labels; firing: [{alertname="InstanceDown", instance="a", job="api", severity="page"}]`,
			},
		},
	})
	if want := []string{filepath.Join("testdata", "alertd", "alertd.yml")}; !cmp.Equal(configs, want) {
		t.Errorf("routers built for %q, want %q (once per file, relative to it)", configs, want)
	}
}

func TestNotificationsRouterErrors(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want []string
	}{
		{"no router", Options{}, []string{"testdata/alertd/notifications.yml:5: config_file testdata/alertd/alertd.yml:", "not available"}},
		{"bad config", Options{NewRouter: func(string) (Router, error) { return nil, errors.New("unknown key opsgenie_configs") }},
			[]string{"config_file testdata/alertd/alertd.yml: unknown key opsgenie_configs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := RunFile(t.Context(), "testdata/alertd/notifications.yml", tt.o)
			if res.Err == nil || len(res.Groups) != 0 {
				t.Fatalf("error %v, groups %v; want a file error", res.Err, res.Groups)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Err.Error(), w) {
					t.Errorf("error %q does not contain %q", res.Err, w)
				}
			}
		})
	}
	route := routerFunc(func(map[string]string, map[string]string) ([]Delivery, error) {
		return nil, errors.New("template failed")
	})
	res := RunFile(t.Context(), "testdata/alertd/notifications.yml", Options{NewRouter: func(string) (Router, error) { return route, nil }})
	if errs := res.Errors(); len(errs) == 0 || !strings.Contains(errs[0].Error(), "route: template failed") {
		t.Errorf("errors %v, want the router's error", errs)
	}
}

func TestRunFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		file string
		want string
	}{
		{"missing", filepath.Join(dir, "missing.yml"), "no such file or directory"},
		{"bad glob", write("glob.yml", "rule_files: ['[']\n"), `glob.yml:1: rule_files: pattern "` + dir + `/[": syntax error in pattern`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := RunFile(t.Context(), tt.file, Options{})
			if res.Err == nil || !strings.Contains(res.Err.Error(), tt.want) {
				t.Errorf("error %v, want %q", res.Err, tt.want)
			}
			if !res.Failed() {
				t.Error("not failed")
			}
		})
	}
	// No test group runs: the rule files are not even loaded, as in
	// promtool.
	res := RunFile(t.Context(), write("none.yml", "rule_files: [../does/not/parse.yml]\ntests: []\n"), Options{})
	if res.Failed() {
		t.Errorf("a file without tests failed: %v", res.Errors())
	}
}

func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res := RunFile(ctx, "testdata/promtool/01_docs_example.yml", Options{})
	if errs := res.Errors(); len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("errors %v, want context canceled", errs)
	}
}

// TestPromtoolConformance runs the unit-test files of promtool's own tests
// (cmd/promtool/testdata of the Prometheus module alertd builds with) and
// expects the exit codes promtool's TestRulesUnitTest and
// TestRulesUnitTestRun expect with the settings promtool's command line
// uses (@ and negative offsets on, no feature flags).
func TestPromtoolConformance(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "go", "list", "-m", "-f", "{{.Dir}}", "github.com/prometheus/prometheus").Output()
	if err != nil {
		t.Fatalf("find the Prometheus module: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "cmd", "promtool", "testdata")
	tests := []struct {
		file string
		run  []string
		want int
	}{
		{file: "unittest.yml", want: 0},
		{file: "long-period.yml", want: 0},
		{file: "bad-input-series.yml", want: 1},
		{file: "bad-promql.yml", want: 1},
		{file: "bad-rules-syntax-test.yml", want: 1},
		{file: "bad-rules-error-test.yml", want: 1},
		{file: "failing.yml", want: 1},
		{file: "at-modifier-test.yml", want: 0},
		{file: "negative-offset-test.yml", want: 0},
		{file: "experimental-functions-test.yml", want: 1},
		{file: "no-test-group-interval.yml", want: 0},
		{file: "start-time-test.yml", want: 0},
		{file: "rules_run.yml", want: 1},
		{file: "rules_run.yml", run: []string{"correct", "wrong"}, want: 1},
		{file: "rules_run.yml", run: []string{"correct"}, want: 0},
		{file: "rules_run.yml", run: []string{"wrong"}, want: 1},
		{file: "rules_run_no_fuzzy.yml", want: 1},
		{file: "rules_run_fuzzy.yml", run: []string{"correct"}, want: 0},
		{file: "rules_run_fuzzy.yml", run: []string{"wrong"}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+strings.Join(tt.run, "|"), func(t *testing.T) {
			re, err := RunRegexp(tt.run)
			if err != nil {
				t.Fatal(err)
			}
			if code, _, stderr := run(t, Options{Run: re}, filepath.Join(dir, tt.file)); code != tt.want {
				t.Errorf("exit code %d, want %d; output:\n%s", code, tt.want, stderr)
			}
		})
	}
}

// TestOutputNamesFile checks promtool's frame: the file, then SUCCESS on
// stdout or FAILED and the errors on stderr.
func TestOutputNamesFile(t *testing.T) {
	code, stdout, stderr := run(t, Options{}, "testdata/promtool/05_stale.yml", "testdata/promtool/06_stale_fail.yml")
	if code != 1 {
		t.Errorf("exit code %d", code)
	}
	wantOut := "Processing test file: testdata/promtool/05_stale.yml\n  SUCCESS\n\nProcessing test file: testdata/promtool/06_stale_fail.yml\n\n"
	if stdout != wantOut {
		t.Errorf("stdout %q, want %q", stdout, wantOut)
	}
	if !regexp.MustCompile(`^  FAILED:\n    name: expects the alert after stale,\n    alertname: JobAbsent, time: 2m, `).MatchString(stderr) {
		t.Errorf("stderr:\n%s", stderr)
	}
}

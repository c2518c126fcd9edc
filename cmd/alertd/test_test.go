package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testRulesCorpus holds promtool test files (see rules/unittest).
const testRulesCorpus = "../../rules/unittest/testdata/promtool/"

func runTestRules(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTestRules(t *testing.T) {
	pass := testRulesCorpus + "01_docs_example.yml"
	fail := testRulesCorpus + "02_wrong_labels.yml"
	multi := testRulesCorpus + "13_multi_groups.yml"
	unwritable := filepath.Join(t.TempDir(), "no", "such", "dir", "junit.xml")
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string
		stderr     []string
		notStderr  []string
		junitSuite int // test suites in the --junit file; 0: no file
	}{
		{name: "passes", args: []string{"test", "rules", pass}, code: 0,
			stdout: []string{"Processing test file: " + pass + "\n  SUCCESS\n"}},
		{name: "fails", args: []string{"test", "rules", pass, fail}, code: 1,
			stdout: []string{"Processing test file: " + fail},
			stderr: []string{"  FAILED:\n    name: wrong job,\n    alertname: InstanceDown, time: 6m, ", "diff (-exp +got):"}},
		{name: "--run selects groups", args: []string{"test", "rules", "--run", "^api", "--run", "later", multi}, code: 0},
		{name: "--run selecting a failing group", args: []string{"test", "rules", "--run=one expected", multi}, code: 1,
			stderr: []string{"name: both missing, one expected,"}, notStderr: []string{"unnamed#"}},
		{name: "bad --run", args: []string{"test", "rules", "--run", "(", pass}, code: 2,
			stderr: []string{"alertd: error: --run: error parsing regexp"}},
		{name: "missing file", args: []string{"test", "rules", "missing.yml"}, code: 1,
			stderr: []string{"open missing.yml: no such file or directory"}},
		{name: "no file", args: []string{"test", "rules"}, code: 2, stderr: []string{"required argument 'test-rule-file' not provided"}},
		{name: "--junit before rules", args: []string{"test", "--junit", "JUNIT", "rules", pass, fail}, code: 1, junitSuite: 2},
		{name: "--junit after rules", args: []string{"test", "rules", pass, "--junit=JUNIT"}, code: 0, junitSuite: 1},
		{name: "--junit unwritable", args: []string{"test", "rules", "--junit", unwritable, pass}, code: 1,
			stderr: []string{"alertd: error: --junit: open " + unwritable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			junit := filepath.Join(t.TempDir(), "junit.xml")
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "JUNIT", junit)
			}
			code, stdout, stderr := runTestRules(t, args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout does not contain %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
			for _, w := range tt.notStderr {
				if strings.Contains(stderr, w) {
					t.Errorf("stderr contains %q:\n%s", w, stderr)
				}
			}
			if tt.junitSuite == 0 {
				return
			}
			b, err := os.ReadFile(junit)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Suites []struct {
					Name string `xml:"name,attr"`
				} `xml:"testsuite"`
			}
			if err := xml.Unmarshal(b, &doc); err != nil {
				t.Fatalf("junit: %v\n%s", err, b)
			}
			if len(doc.Suites) != tt.junitSuite || doc.Suites[0].Name != pass {
				t.Errorf("junit suites %+v, want %d, the first %s", doc.Suites, tt.junitSuite, pass)
			}
		})
	}
}

// TestTestRulesRouteAssertions: exp_notifications checked with alertd's own
// routing and templates (app.Previewer) against the config_file: the
// right receivers and the rendered Slack title and text, email subject
// and PagerDuty summary pass; a wrong route and title fail, each shown.
func TestTestRulesRouteAssertions(t *testing.T) {
	code, stdout, stderr := runTestRules(t, "test", "rules", "testdata/testrules/notifications.yml")
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"name: misrouted,",
		`receivers: exp ["team"], got ["pager", "team"]`,
		`exp: "FIRING: InstanceDown"`,
		`got: "FIRING: InstanceDown ()"`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "name: routed,") {
		t.Errorf("test group routed failed:\n%s", stderr)
	}
	if strings.Contains(stdout+stderr, "not-a-real-key") {
		t.Errorf("the PagerDuty routing key is shown:\n%s\n%s", stdout, stderr)
	}
}

func TestTestRulesHelp(t *testing.T) {
	code, stdout, _ := runTestRules(t, "test", "rules", "--help")
	if code != 0 || !strings.Contains(stdout, "--run=RUN") || !strings.Contains(stdout, "--junit=JUNIT") {
		t.Errorf("exit code %d, help:\n%s", code, stdout)
	}
}

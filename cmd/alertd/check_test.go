package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/alertd/alertd/eval/templates"
	"github.com/alertd/alertd/internal/golden"
	"github.com/alertd/alertd/internal/testenv"
)

// checkDir holds the check corpus: rules/ cases (a file, or a directory
// whose *.yml are checked together) and config/ cases, each with its
// expected output in a .golden file next to it. ALERTD_UPDATE_GOLDEN=1
// rewrites the golden files.
const checkDir = "../../testdata/check"

type checkCase struct {
	name  string   // e.g. rules/bad-yaml
	kind  string   // "rules" or "config"
	files []string // relative to checkDir
	args  []string // from a leading "# args:" line, or an args file
}

func (c checkCase) golden() string { return c.name + ".golden" }

// checkCases lists the corpus, relative to checkDir (the test's working
// directory).
func checkCases(t *testing.T) []checkCase {
	t.Helper()
	var cases []checkCase
	for _, kind := range []string{"rules", "config"} {
		entries, err := os.ReadDir(kind)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			p := filepath.Join(kind, e.Name())
			switch {
			case e.IsDir() && kind == "rules":
				files, err := filepath.Glob(filepath.Join(p, "*.yml"))
				if err != nil || len(files) == 0 {
					t.Fatalf("case %s: no *.yml files (%v)", p, err)
				}
				c := checkCase{name: p, kind: kind, files: files}
				if b, err := os.ReadFile(filepath.Join(p, "args")); err == nil {
					c.args = strings.Fields(string(b))
				}
				cases = append(cases, c)
			case !e.IsDir() && strings.HasSuffix(e.Name(), ".yml"):
				c := checkCase{name: strings.TrimSuffix(p, ".yml"), kind: kind, files: []string{p}}
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if first, _, _ := strings.Cut(string(b), "\n"); strings.HasPrefix(first, "# args:") {
					c.args = strings.Fields(strings.TrimPrefix(first, "# args:"))
				}
				cases = append(cases, c)
			}
		}
	}
	if len(cases) < 20 {
		t.Fatalf("found %d check cases in %s, want at least 20", len(cases), checkDir)
	}
	return cases
}

// runCheck runs alertd in process and returns its exit code and output.
func runCheck(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// checkOutput is the golden text of one case: the command, its exit code,
// its text output (stdout and stderr apart, as promtool splits them) and
// its JSON output.
func checkOutput(t *testing.T, c checkCase) string {
	t.Helper()
	args := append(append([]string{"check", c.kind}, c.args...), c.files...)
	code, stdout, stderr := runCheck(t, args...)
	jcode, jout, jerr := runCheck(t, append(slices.Clone(args), "--output=json")...)
	if jcode != code {
		t.Errorf("exit code %d with --output=json, %d without", jcode, code)
	}
	if jerr != "" {
		t.Errorf("--output=json wrote to stderr: %q", jerr)
	}
	var rep checkReport
	if err := json.Unmarshal([]byte(jout), &rep); err != nil {
		t.Errorf("--output=json: %v", err)
	} else if rep.ExitCode != code {
		t.Errorf("JSON exit_code %d, exit code %d", rep.ExitCode, code)
	}
	var b strings.Builder
	b.WriteString("$ alertd " + strings.Join(args, " ") + "\n")
	b.WriteString("exit " + strconv.Itoa(code) + "\n")
	b.WriteString("-- stdout --\n" + stdout)
	b.WriteString("-- stderr --\n" + stderr)
	b.WriteString("-- json (--output=json) --\n" + jout)
	return b.String()
}

// TestCheckGolden checks every file of the corpus and compares the output
// and exit code with its golden file.
func TestCheckGolden(t *testing.T) {
	t.Chdir(checkDir)
	cases := checkCases(t)
	goldens, err := filepath.Glob("*/*.golden")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range goldens {
		if !slices.ContainsFunc(cases, func(c checkCase) bool { return c.golden() == g }) {
			t.Errorf("golden file %s has no case", g)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			golden.Check(t, c.golden(), checkOutput(t, c))
		})
	}
}

// promtoolDiffers lists the rules cases whose exit code differs from
// promtool 2.42's, and why (docs/check.md, "Differences from promtool").
var promtoolDiffers = map[string]string{
	"rules/duplicate-across":   "alertd looks for duplicates across all the files it is given, promtool within each file",
	"rules/multiple-documents": "alertd rejects a second YAML document, which Prometheus ignores",
	"rules/group-labels":       "group labels are Prometheus 3's schema, which promtool 2.42 rejects",
	"rules/utf8-names":         "UTF-8 label names are Prometheus 3's, which promtool 2.42 rejects",
	"rules/holt-winters":       "holt_winters is gone from Prometheus 3's PromQL, which alertd parses",
}

// TestCheckRulesMatchesPromtool runs every rules case through the real
// promtool and through alertd with the lint promtool has (duplicate-rules,
// fatal), and compares exit codes.
func TestCheckRulesMatchesPromtool(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	t.Chdir(checkDir)
	for _, c := range checkCases(t) {
		if c.kind != "rules" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			lint := []string{"--lint=duplicate-rules", "--lint-fatal"}
			code, stdout, stderr := runCheck(t, append(append([]string{"check", "rules"}, lint...), c.files...)...)
			pcode, pout := runPromtool(t, promtool, append(append([]string{"check", "rules"}, lint...), c.files...)...)
			why, differs := promtoolDiffers[c.name]
			switch {
			case differs && code == pcode:
				t.Errorf("exit code %d, as promtool's; remove the case from promtoolDiffers (%s)", code, why)
			case !differs && code != pcode:
				t.Errorf("exit code %d, promtool's %d\nalertd:\n%s%s\npromtool:\n%s", code, pcode, stdout, stderr, pout)
			}
		})
	}
}

// runPromtool runs promtool and returns its exit code and output.
func runPromtool(t *testing.T, promtool string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), promtool, args...)
	out, err := cmd.CombinedOutput()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatalf("run promtool: %v", err)
	}
	return 0, string(out)
}

// TestCheckCorpus checks the 112 rule files of awesome-prometheus-alerts:
// each gets promtool's exit code (0), and the findings of all of them
// checked together, with every lint, equal the golden file (docs/check.md
// discusses them).
func TestCheckCorpus(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	t.Chdir(filepath.Join(checkDir, "..", "corpus", "awesome-prometheus-alerts"))
	files, err := filepath.Glob("*.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 112 {
		t.Fatalf("found %d corpus files, want 112", len(files))
	}
	for _, f := range files {
		code, stdout, stderr := runCheck(t, "check", "rules", f)
		pcode, pout := runPromtool(t, promtool, "check", "rules", f)
		if code != pcode {
			t.Errorf("%s: exit code %d, promtool's %d\nalertd:\n%s%s\npromtool:\n%s", f, code, pcode, stdout, stderr, pout)
		}
	}
	code, stdout, stderr := runCheck(t, append([]string{"check", "rules", "--lint=all"}, files...)...)
	if code != 0 {
		t.Errorf("all files together: exit code %d", code)
	}
	if n := strings.Count(stdout, "  SUCCESS: "); n != 112 {
		t.Errorf("%d files succeeded, want 112", n)
	}
	var b strings.Builder
	b.WriteString("$ alertd check rules --lint=all awesome-prometheus-alerts/*.yml\n")
	b.WriteString("-- stderr (the lint findings) --\n" + stderr)
	golden.Check(t, filepath.Join("..", "..", "check", "corpus.golden"), b.String())
}

// TestCheckMissingLabelPromtool shows through promtool's rule unit tests
// what the rules of rules/missing-label.yml render in Prometheus: the
// labels missing-label reports print as "", the others as their values.
// Every rule it reports must be among those shown.
func TestCheckMissingLabelPromtool(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	t.Chdir(checkDir)
	const test = "promtool/missing-label.test.yml"
	if code, out := runPromtool(t, promtool, "test", "rules", test); code != 0 {
		t.Fatalf("promtool test rules %s: exit code %d\n%s", test, code, out)
	}
	src, err := os.ReadFile(test)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := runCheck(t, "check", "rules", "--lint=all", "--output=json", "rules/missing-label.yml")
	var rep checkReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 0 || len(rep.Files) != 1 {
		t.Fatalf("exit code %d, %v: %s", code, err, stdout)
	}
	n := 0
	for _, f := range rep.Files[0].Findings {
		if f.Lint != "missing-label" {
			continue
		}
		n++
		if !strings.Contains(string(src), "alertname: "+f.Rule+"\n") {
			t.Errorf("%s does not show what %s renders (%s)", test, f.Rule, f.Message)
		}
	}
	if n == 0 {
		t.Error("no missing-label findings")
	}
}

func TestCheckUsage(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	writeFile(t, good, "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n")
	churn := filepath.Join(dir, "churn.yml")
	writeFile(t, churn, "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    labels: {v: '{{ $value }}'}\n")
	missing := filepath.Join(dir, "missing.yml")
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStderr string
	}{
		{"no files", []string{"check", "rules"}, 2, "required argument 'rule-files' not provided"},
		{"unknown lint", []string{"check", "rules", "--lint=typos", good}, 2, `unknown lint "typos" (valid: all, none, duplicate-rules, template-render, label-churn, label-override, missing-label)`},
		{"routing lint on rules", []string{"check", "rules", "--lint=unused-receiver", good}, 2, `lint "unused-receiver" applies to check config only`},
		{"bad output", []string{"check", "rules", "--output=yaml", good}, 2, "enum value must be one of text,json"},
		{"missing file", []string{"check", "rules", good, missing}, 1, missing + ": open " + missing + ": no such file or directory"},
		{"missing config", []string{"check", "config", missing}, 1, missing + ": load config: open " + missing},
		{"fatal", []string{"check", "rules", "--lint-fatal", churn}, 3, "[label-churn]"},
		{"not fatal", []string{"check", "rules", churn}, 0, "[label-churn]"},
		{"other lint", []string{"check", "rules", "--lint=duplicate-rules", "--lint-fatal", churn}, 0, ""},
		{"none wins", []string{"check", "rules", "--lint=all, none", "--lint-fatal", churn}, 0, ""},
		{"config lints", []string{"check", "config", "--lint=unused-receiver,label-churn", missing}, 1, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCheck(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.wantStderr)
			}
		})
	}
}

func TestUserColumn(t *testing.T) {
	const name = "__alert_A"
	prefixed := "error executing template __alert_A: template: __alert_A:1:" + strconv.Itoa(len(templates.Prefix)+17) + `: executing "__alert_A" at <humanize>: boom`
	want := "error executing template __alert_A: template: __alert_A:1:17: executing \"__alert_A\" at <humanize>: boom"
	if got := userColumn(prefixed, name); got != want {
		t.Errorf("userColumn:\n got %q\nwant %q", got, want)
	}
	for _, s := range []string{"no position here", "template: __alert_A:2:5: on a later line", "template: __alert_A:1:x: junk"} {
		if got := userColumn(s, name); got != s {
			t.Errorf("userColumn(%q) = %q, want it unchanged", s, got)
		}
	}
}

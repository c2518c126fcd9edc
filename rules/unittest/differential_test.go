package unittest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/alertd/alertd/internal/testenv"
)

// The differential corpus: promtool test files with their rule files, using
// only what the promtool of Debian's prometheus package (2.42) understands,
// and avoiding what Prometheus 2 and 3 evaluate differently (samples exactly
// at the start of a range or lookback window, test groups without interval:
// see docs/unittest.md).
const corpusDir = "testdata/promtool"

func corpusFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 15 {
		t.Fatalf("the corpus has %d test files, want at least 15", len(files))
	}
	return files
}

// failureKeyRE finds what a failure is about in promtool's output (and in
// alertd's, which keeps its words): an alert test, a PromQL test or a rule
// that failed to evaluate, each with its time.
var failureKeyRE = regexp.MustCompile(`(?m)^\s*(alertname: \S+, time: [^,]+|expr: ".*", time: [^,]+|rule: \S+, time: [^,]+)`)

func failureKeys(output string) []string {
	var keys []string
	for _, m := range failureKeyRE.FindAllStringSubmatch(output, -1) {
		keys = append(keys, m[1])
	}
	slices.Sort(keys)
	return keys
}

// runPromtool runs promtool test rules and returns its exit code and
// output.
func runPromtool(t *testing.T, promtool string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), promtool, append([]string{"test", "rules"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	}
	t.Fatalf("run promtool: %v", err)
	return -1, ""
}

// splitFile writes a copy of the test file with only the test groups keep
// selects (by index), rule_files made absolute, into dir.
func splitFile(t *testing.T, file, dir, name string, keep func(i int, group *yaml.Node) bool) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	doc := root.Content[0]
	base, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i].Value, doc.Content[i+1]
		switch k {
		case "rule_files":
			for _, f := range v.Content {
				if !filepath.IsAbs(f.Value) {
					f.Value = filepath.Join(base, f.Value)
				}
			}
		case "tests":
			var kept []*yaml.Node
			for j, g := range v.Content {
				if keep(j, g) {
					kept = append(kept, g)
				}
			}
			v.Content = kept
		}
	}
	out, err := yaml.Marshal(&root)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func groupName(g *yaml.Node) string {
	for i := 0; i+1 < len(g.Content); i += 2 {
		if g.Content[i].Value == "name" {
			return g.Content[i+1].Value
		}
	}
	return ""
}

func countGroups(t *testing.T, file string) int {
	t.Helper()
	n := 0
	splitFile(t, file, t.TempDir(), "count.yml", func(int, *yaml.Node) bool { n++; return false })
	return n
}

// TestDifferentialPromtool runs every file of the corpus through the real
// promtool and through alertd and expects the same exit code, the same
// failed alert tests, PromQL tests and rule evaluations (by name and time),
// and the same failed test groups (each group run alone by promtool).
func TestDifferentialPromtool(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	var passing, failing int
	for _, file := range corpusFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ptCode, ptOut := runPromtool(t, promtool, file)
			var adOut bytes.Buffer
			adCode := Run(t.Context(), Options{Stdout: &adOut, Stderr: &adOut}, file)
			if ptCode != adCode {
				t.Errorf("exit code: promtool %d, alertd %d\npromtool:\n%s\nalertd:\n%s", ptCode, adCode, ptOut, adOut.String())
			}
			if ptCode == 0 {
				passing++
			} else {
				failing++
			}
			if diff := cmp.Diff(failureKeys(ptOut), failureKeys(adOut.String())); diff != "" {
				t.Errorf("failures differ (-promtool +alertd):\n%s\npromtool:\n%s\nalertd:\n%s", diff, ptOut, adOut.String())
			}

			res := RunFile(t.Context(), file, Options{})
			n := countGroups(t, file)
			if res.Err == nil && len(res.Groups) != n {
				t.Fatalf("alertd ran %d groups of %d", len(res.Groups), n)
			}
			dir := t.TempDir()
			for i := range n {
				single := splitFile(t, file, dir, "group.yml", func(j int, _ *yaml.Node) bool { return j == i })
				code, out := runPromtool(t, promtool, single)
				adFailed := res.Err != nil || len(res.Groups[i].Errors) > 0
				if (code != 0) != adFailed {
					t.Errorf("test group %d: promtool exit code %d, alertd failed: %v\npromtool:\n%s\nalertd: %v", i, code, adFailed, out, res.Errors())
				}
			}
		})
	}
	if passing < 5 || failing < 5 {
		t.Errorf("the corpus has %d passing and %d failing files, want at least 5 of each", passing, failing)
	}
}

// TestDifferentialRun checks --run against promtool 2.42, which has no
// --run: alertd with --run on a file fails as promtool does on the file
// cut down to the matching groups.
func TestDifferentialRun(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	file := filepath.Join(corpusDir, "13_multi_groups.yml")
	for _, patterns := range [][]string{{"missing"}, {"^both"}, {"^$"}, {"later", "^api"}, {"none"}} {
		t.Run(strings.Join(patterns, "|"), func(t *testing.T) {
			re, err := RunRegexp(patterns)
			if err != nil {
				t.Fatal(err)
			}
			var adOut bytes.Buffer
			adCode := Run(t.Context(), Options{Run: re, Stdout: &adOut, Stderr: &adOut}, file)
			cut := splitFile(t, file, t.TempDir(), "cut.yml", func(_ int, g *yaml.Node) bool { return re.MatchString(groupName(g)) })
			ptCode, ptOut := runPromtool(t, promtool, cut)
			if ptCode != adCode {
				t.Errorf("exit code: promtool %d, alertd %d", ptCode, adCode)
			}
			if diff := cmp.Diff(failureKeys(ptOut), failureKeys(adOut.String())); diff != "" {
				t.Errorf("failures differ (-promtool +alertd):\n%s", diff)
			}
		})
	}
}

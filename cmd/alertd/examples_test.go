package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertd/alertd/internal/testenv"
)

// The examples directory: what a new user copies first, so every file in
// it must load, pass its tests and render.
const examplesDir = "../../examples"

func exampleFiles(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(examplesDir, pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s in %s (%v)", pattern, examplesDir, err)
	}
	return files
}

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestExamplesCheck runs alertd check config and check rules on the
// examples, lint findings included: a new user's first command must come
// out clean.
func TestExamplesCheck(t *testing.T) {
	if code, out, errs := runMain(t, "check", "config", "--lint-fatal", filepath.Join(examplesDir, "alertd.yml")); code != 0 {
		t.Errorf("alertd check config --lint-fatal examples/alertd.yml: exit %d\n%s%s", code, out, errs)
	}
	args := append([]string{"check", "rules", "--lint-fatal"}, exampleFiles(t, "rules/*.yml")...)
	if code, out, errs := runMain(t, args...); code != 0 {
		t.Errorf("alertd check rules --lint-fatal examples/rules/*.yml: exit %d\n%s%s", code, out, errs)
	}
}

// TestExamplesUnitTests runs the promtool-format test files of examples/
// with alertd test rules and with the real promtool 2.42, which must both
// pass them: the examples use nothing newer than Prometheus 2.42.
func TestExamplesUnitTests(t *testing.T) {
	tests := exampleFiles(t, "tests/*.yml")
	if code, out, errs := runMain(t, append([]string{"test", "rules"}, tests...)...); code != 0 {
		t.Errorf("alertd test rules examples/tests/*.yml: exit %d\n%s%s", code, out, errs)
	}
	promtool := testenv.Binary(t, "promtool")
	for _, args := range [][]string{
		append([]string{"check", "rules"}, exampleFiles(t, "rules/*.yml")...),
		append([]string{"test", "rules"}, tests...),
	} {
		out, err := exec.CommandContext(t.Context(), promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestExamplesDryRun dry-runs examples/alertd.yml against a datasource on
// which every rule's condition holds, so that every rule fires and every
// receiver renders its messages with examples/templates: a template that
// fails or names a template that does not exist fails the test.
func TestExamplesDryRun(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"rules", "templates"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range exampleFiles(t, sub+"/*") {
			copyFile(t, f, filepath.Join(dir, sub, filepath.Base(f)))
		}
	}
	ds := alwaysDatasource(t)
	cfg, err := os.ReadFile(filepath.Join(examplesDir, "alertd.yml"))
	if err != nil {
		t.Fatal(err)
	}
	const exampleURL = "url: http://prometheus.example.org:9090"
	if !bytes.Contains(cfg, []byte(exampleURL)) {
		t.Fatalf("examples/alertd.yml no longer has %q", exampleURL)
	}
	cfg = bytes.Replace(cfg, []byte(exampleURL), []byte("url: "+ds.URL), 1)
	// The secret files the example reads, with stand-ins.
	secrets := filepath.Join(dir, "secrets")
	if err := os.MkdirAll(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, m := range secretFile.FindAllSubmatch(cfg, -1) {
		content := "not-a-real-secret"
		if strings.HasSuffix(string(m[1]), "-url") {
			content = "https://hooks.example.invalid/" + string(m[1])
		}
		if err := os.WriteFile(filepath.Join(secrets, string(m[1])), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg = bytes.ReplaceAll(cfg, []byte("/etc/alertd/"), []byte(secrets+"/"))
	cfgPath := filepath.Join(dir, "alertd.yml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}

	if os.Getenv("ALERTD_SHOW_DRYRUN") != "" {
		_, text, _ := runMain(t, "dry-run", "--config.file="+cfgPath)
		t.Log(text)
	}
	code, out, errs := runMain(t, "dry-run", "--config.file="+cfgPath, "--output=json")
	if code != 0 {
		t.Fatalf("alertd dry-run on examples/alertd.yml: exit %d\n%s%s", code, out, errs)
	}
	var res struct {
		Notifications []struct {
			Receiver string `json:"receiver"`
			Messages []struct {
				Integration string            `json:"integration"`
				Error       string            `json:"error"`
				Fields      map[string]string `json:"fields"`
			} `json:"messages"`
		} `json:"notifications"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("dry-run JSON: %v\n%s", err, out)
	}
	receivers := map[string]bool{}
	for _, n := range res.Notifications {
		receivers[n.Receiver] = true
		for _, m := range n.Messages {
			if m.Error != "" {
				t.Errorf("receiver %s, %s: %s", n.Receiver, m.Integration, m.Error)
			}
			for _, f := range []string{"subject", "text", "title"} {
				if v, ok := m.Fields[f]; ok && strings.TrimSpace(v) == "" {
					t.Errorf("receiver %s, %s: %s is empty", n.Receiver, m.Integration, f)
				}
			}
		}
	}
	for _, r := range []string{"team-ops", "team-db", "pagerduty-oncall"} {
		if !receivers[r] {
			t.Errorf("no notification for receiver %s; the dry run:\n%s", r, out)
		}
	}
	for _, want := range []string{"[FIRING:", "AlertdDown"} {
		if !strings.Contains(out, want) {
			t.Errorf("the dry run's messages lack %q:\n%s", want, out)
		}
	}
}

var secretFile = regexp.MustCompile(`/etc/alertd/([a-z0-9-]+)`)

// alwaysDatasource is a Prometheus query API on which every expression
// returns the same two series with value 1, at every time asked for: every
// alerting rule fires, and their labels take every route of the example.
func alwaysDatasource(t *testing.T) *httptest.Server {
	t.Helper()
	series := func(extra ...string) map[string]any {
		m := map[string]any{"job": "alertd", "instance": "alertd-1:9095", "rule_group": "example", "integration": "slack"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	metrics := []map[string]any{series(), series("instance", "alertd-2:9095", "team", "db")}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var data any
		switch r.URL.Path {
		case "/api/v1/query":
			ts := parseTime(r.Form.Get("time"), float64(time.Now().UnixMilli())/1000)
			var result []any
			for _, m := range metrics {
				result = append(result, map[string]any{"metric": m, "value": []any{ts, "1"}})
			}
			data = map[string]any{"resultType": "vector", "result": result}
		case "/api/v1/query_range":
			start, end := parseTime(r.Form.Get("start"), 0), parseTime(r.Form.Get("end"), 0)
			step, err := strconv.ParseFloat(r.Form.Get("step"), 64)
			if err != nil || step <= 0 || end < start || (end-start)/step > 11000 {
				http.Error(w, fmt.Sprintf("bad range %v %v %v", start, end, step), http.StatusBadRequest)
				return
			}
			var values []any
			for ts := start; ts <= end; ts += step {
				values = append(values, []any{ts, "1"})
			}
			var result []any
			for _, m := range metrics {
				result = append(result, map[string]any{"metric": m, "values": values})
			}
			data = map[string]any{"resultType": "matrix", "result": result}
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": data})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// parseTime reads a Prometheus API time (Unix seconds) or returns def.
func parseTime(s string, def float64) float64 {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return def
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

const gettingStarted = "../../docs/getting-started.md"

var docFile = regexp.MustCompile("(?s)<!-- file: ([a-z0-9_/.-]+) -->\n```yaml\n(.*?)```\n")

// TestGettingStarted writes the files of docs/getting-started.md and runs
// the commands the page runs on them, so that a newcomer's first rule, test
// and configuration work as written: check rules, test rules (alertd's, and
// promtool's for the file it says promtool runs), check config, and a dry
// run against a datasource on which the rule fires.
func TestGettingStarted(t *testing.T) {
	b, err := os.ReadFile(gettingStarted)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{}
	for _, m := range docFile.FindAllStringSubmatch(string(b), -1) {
		path := filepath.Join(dir, filepath.FromSlash(m[1]))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		content := m[2]
		if m[1] == "first/alertd.yml" {
			// The secret file it names, and the stand-in datasource.
			hook := filepath.Join(dir, "slack-webhook-url")
			if err := os.WriteFile(hook, []byte("https://hooks.example.invalid/slack"), 0o600); err != nil {
				t.Fatal(err)
			}
			content = strings.ReplaceAll(content, "/etc/alertd/slack-webhook-url", hook)
			content = strings.ReplaceAll(content, "http://localhost:9090", alwaysDatasource(t).URL)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		files[m[1]] = path
	}
	for _, want := range []string{"first/rules.yml", "first/rules_test.yml", "first/alertd.yml", "first/routes_test.yml"} {
		if files[want] == "" {
			t.Fatalf("%s has no block for %s (marked <!-- file: %s -->)", gettingStarted, want, want)
		}
	}
	for _, args := range [][]string{
		{"check", "rules", "--lint-fatal", files["first/rules.yml"]},
		{"test", "rules", files["first/rules_test.yml"], files["first/routes_test.yml"]},
		{"check", "config", "--lint-fatal", files["first/alertd.yml"]},
		{"dry-run", "--config.file=" + files["first/alertd.yml"]},
	} {
		if code, out, errs := runMain(t, args...); code != 0 {
			t.Errorf("alertd %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
		}
	}
	out, err := exec.CommandContext(t.Context(), testenv.Binary(t, "promtool"), "test", "rules", files["first/rules_test.yml"]).CombinedOutput()
	if err != nil {
		t.Errorf("promtool test rules first/rules_test.yml: %v\n%s", err, out)
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alertd/alertd/internal/testenv"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeConfig writes alertd.yml with the rule file rules.yml into a new
// directory and returns the paths of both.
func writeConfig(t *testing.T, config, ruleFile string) (cfgPath, rulesPath string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath = filepath.Join(dir, "alertd.yml")
	rulesPath = filepath.Join(dir, "rules.yml")
	writeFile(t, cfgPath, config)
	writeFile(t, rulesPath, ruleFile)
	return cfgPath, rulesPath
}

// goodConfig points at a datasource nobody queries in these tests: the
// first evaluation is up to one interval away.
const goodConfig = `global:
  evaluation_interval: 1m
datasource:
  url: http://127.0.0.1:9
rule_files: [rules.yml]
`

const goodRules = `groups:
- name: node
  rules:
  - alert: InstanceDown
    expr: up == 0
    for: 5m
`

func runArgs(cfgPath, listen string) []string {
	return []string{
		"run",
		"--config.file=" + cfgPath,
		"--storage.path=" + filepath.Join(filepath.Dir(cfgPath), "data"),
		"--web.listen-address=" + listen,
	}
}

// TestRunRefusesBadRuleFiles checks that a bad rule file stops alertd from
// starting, with exit code 1 and an error naming the file, the line and,
// where there is one, the group and rule.
func TestRunRefusesBadRuleFiles(t *testing.T) {
	tests := []struct {
		name  string
		rules string
		line  int      // the line stderr must name
		want  []string // further substrings of stderr
	}{
		{
			name: "yaml syntax error",
			rules: `groups:
- name: node
  rules:
  - alert: InstanceDown
    expr: up == 0
    labels: @team
`,
			line: 6,
			want: []string{"cannot start any token"},
		},
		{
			name: "bad promql",
			rules: `groups:
- name: node
  rules:
  - alert: InstanceDown
    expr: up == 0
  - alert: HighLoad
    expr: sum(rate(node_load1[5m]) > 1
`,
			line: 7,
			want: []string{`group "node"`, `"HighLoad"`, "could not parse expression"},
		},
		{
			name: "bad template",
			rules: `groups:
- name: node
  rules:
  - alert: InstanceDown
    expr: up == 0
  - alert: HighLoad
    expr: node_load1 > 1
    annotations:
      summary: "high load on {{ $labels.instance"
`,
			line: 6,
			want: []string{`group "node"`, `"HighLoad"`, `annotation "summary"`, "unclosed action"},
		},
		{
			name: "duplicate group name",
			rules: `groups:
- name: node
  rules:
  - alert: InstanceDown
    expr: up == 0
- name: disk
  rules: []
- name: node
  rules:
  - alert: Other
    expr: up == 0
`,
			line: 8,
			want: []string{`group "node" is repeated`},
		},
		{
			name: "unknown field in a rule",
			rules: `groups:
- name: node
  rules:
  - alert: InstanceDown
    expr: up == 0
    severity: page
`,
			line: 6,
			want: []string{"severity"},
		},
		{
			name: "bad duration",
			rules: `groups:
- name: node
  rules:
  - alert: InstanceDown
    expr: up == 0
    for: 1.5m
`,
			line: 6,
			want: []string{`"1.5m"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfgPath, rulesPath := writeConfig(t, goodConfig, tc.rules)
			var stdout, stderr testenv.SyncBuffer
			code := Main(t.Context(), runArgs(cfgPath, "127.0.0.1:0"), &stdout, &stderr)
			if code != 1 {
				t.Fatalf("exit code %d, want 1\nstderr:\n%s", code, stderr.String())
			}
			got := stderr.String()
			wantAll := append([]string{fmt.Sprintf("%s:%d:", rulesPath, tc.line)}, tc.want...)
			for _, w := range wantAll {
				if !strings.Contains(got, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, got)
				}
			}
			if strings.Contains(got, "alertd started") {
				t.Errorf("alertd started with a bad rule file:\n%s", got)
			}
		})
	}
}

// TestRunRefusesUnknownConfigKey checks that a typo in alertd.yml is not
// ignored: alertd refuses to start and names the key and its line.
func TestRunRefusesUnknownConfigKey(t *testing.T) {
	cfgPath, _ := writeConfig(t, `global:
  evaluation_interval: 1m
datasource:
  url: http://127.0.0.1:9
  timeot: 10s
rule_files: [rules.yml]
`, goodRules)
	var stdout, stderr testenv.SyncBuffer
	code := Main(t.Context(), runArgs(cfgPath, "127.0.0.1:0"), &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit code %d, want 1\nstderr:\n%s", code, stderr.String())
	}
	for _, w := range []string{cfgPath + ":5:", `"timeot"`, "datasource"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr does not contain %q:\n%s", w, stderr.String())
		}
	}
}

// freeAddr returns a local address nothing listens on (for a moment).
func freeAddr(t *testing.T) string {
	t.Helper()
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(port)
}

// emptyDatasource is a Prometheus API that answers every query with an
// empty vector, so that the daemon is healthy throughout.
func emptyDatasource(t *testing.T) *httptest.Server {
	t.Helper()
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	}))
	t.Cleanup(prom.Close)
	return prom
}

// startMain runs Main with args in a goroutine. Its exit code arrives on
// done; cancel stops it as SIGTERM would.
func startMain(t *testing.T, args []string) (done <-chan int, stderr *testenv.SyncBuffer, cancel context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	var stdout testenv.SyncBuffer
	stderr = &testenv.SyncBuffer{}
	codes := make(chan int, 1)
	go func() { codes <- Main(ctx, args, &stdout, stderr) }()
	return codes, stderr, cancel
}

// TestRunStartsAndStops runs the daemon on a good configuration until it
// is ready, then cancels it, as SIGINT or SIGTERM would, and expects exit
// code 0.
func TestRunStartsAndStops(t *testing.T) {
	prom := emptyDatasource(t)
	cfgPath, _ := writeConfig(t, `global:
  evaluation_interval: 1m
datasource:
  url: `+prom.URL+`
rule_files: [rules.yml]
`, goodRules)
	addr := freeAddr(t)

	done, stderr, cancel := startMain(t, runArgs(cfgPath, addr))

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get("http://" + addr + "/-/ready")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case code := <-done:
			t.Fatalf("alertd exited with %d before it was ready\nstderr:\n%s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertd not ready within 10s (last error %v)\nstderr:\n%s", err, stderr.String())
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d, want 0\nstderr:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("alertd did not stop within 20s\nstderr:\n%s", stderr.String())
	}
	if _, err := client.Get("http://" + addr + "/-/ready"); err == nil {
		t.Error("alertd still serves after it returned")
	}
	if !strings.Contains(stderr.String(), "alertd started") {
		t.Errorf("no start log line:\n%s", stderr.String())
	}
}

// TestRunReloadsOnSIGHUP changes the rule file, sends the process SIGHUP
// and expects the new rule; file watching is off, so only the signal can
// have reloaded it.
func TestRunReloadsOnSIGHUP(t *testing.T) {
	prom := emptyDatasource(t)
	cfgPath, rulesPath := writeConfig(t, `datasource:
  url: `+prom.URL+`
rule_files: [rules.yml]
`, goodRules)
	addr := freeAddr(t)
	done, stderr, cancel := startMain(t, append(runArgs(cfgPath, addr), "--config.auto-reload-interval=0"))
	client := &http.Client{Timeout: 2 * time.Second}
	rulesBody := func() string {
		resp, err := client.Get("http://" + addr + "/api/v1/rules")
		if err != nil {
			return ""
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			select {
			case code := <-done:
				t.Fatalf("alertd exited with %d\nstderr:\n%s", code, stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s within 10s\nstderr:\n%s", what, stderr.String())
			}
		}
	}
	waitFor("start", func() bool { return strings.Contains(rulesBody(), "InstanceDown") })

	writeFile(t, rulesPath, goodRules+`  - alert: AddedBySIGHUP
    expr: up == 2
`)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("reload on SIGHUP", func() bool { return strings.Contains(rulesBody(), "AddedBySIGHUP") })

	// A bad file on SIGHUP keeps the running rules.
	writeFile(t, rulesPath, "groups:\n- name: node\n  rules:\n  - alert: X\n    expr: up ==\n")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("failed reload logged", func() bool { return strings.Contains(stderr.String(), "reload failed") })
	if body := rulesBody(); !strings.Contains(body, "AddedBySIGHUP") {
		t.Errorf("running rules replaced by a bad file: %s", body)
	}
	if !strings.Contains(stderr.String(), "rules.yml:5:") {
		t.Errorf("the failed reload does not name rules.yml:5:\n%s", stderr.String())
	}
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("alertd did not stop")
	}
}

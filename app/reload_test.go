package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// logRecorder is a slog.Handler that keeps the messages, so tests can see
// what the daemon did (e.g. that the watcher ran a reload).
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Message)
	return nil
}

func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

func (h *logRecorder) count(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.msgs {
		if m == msg {
			n++
		}
	}
	return n
}

// The log messages of App the tests look for.
const (
	logWatchReload = "configuration or rule files changed, reloading"
	logReloadFail  = "reload failed, the running configuration is kept"
)

// fakePrometheus answers every instant query with what its current
// answer function returns for the query.
type fakePrometheus struct {
	*httptest.Server
	answer atomic.Pointer[func(query string) (status int, body string)]
}

func newFakePrometheus(t *testing.T, answer func(query string) (int, string)) *fakePrometheus {
	t.Helper()
	p := &fakePrometheus{}
	p.set(answer)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		status, body := (*p.answer.Load())(r.Form.Get("query"))
		if status == http.StatusOK {
			w.Header().Set("Content-Type", "application/json")
		} else {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *fakePrometheus) set(answer func(query string) (int, string)) { p.answer.Store(&answer) }

// instanceDown answers up == 0 with one series and everything else with
// an empty vector.
func instanceDown(query string) (int, string) {
	if query == "up == 0" {
		return http.StatusOK, downVectorJSON
	}
	return http.StatusOK, `{"status":"success","data":{"resultType":"vector","result":[]}}`
}

const downVectorJSON = `{"status":"success","data":{"resultType":"vector","result":[` +
	`{"metric":{"__name__":"up","instance":"a:9100","job":"node"},"value":[1700000000,"0"]}]}}`

// writeAtomic replaces path, so the watcher never reads half a file.
func writeAtomic(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// testDaemon is a running App with its files.
type testDaemon struct {
	app       *App
	base      string // http://host:port
	dir       string
	rulesFile string
	logs      *logRecorder
}

// startDaemon writes alertd.yml (evaluation every second, the given
// datasource, rule file rules.yml) and the rule file, and runs an App on
// a free port until the test ends.
func startDaemon(t *testing.T, datasourceURL, rules string, watch time.Duration) *testDaemon {
	t.Helper()
	d := &testDaemon{dir: t.TempDir(), logs: &logRecorder{}}
	cfg := filepath.Join(d.dir, "alertd.yml")
	d.rulesFile = filepath.Join(d.dir, "rules.yml")
	writeAtomic(t, cfg, fmt.Sprintf(`global:
  evaluation_interval: 1s
datasource:
  url: %s
  timeout: 2s
rule_files: [rules.yml]
`, datasourceURL))
	writeAtomic(t, d.rulesFile, rules)
	a, err := New(Options{
		ConfigFile:    cfg,
		StoragePath:   filepath.Join(d.dir, "data"),
		ListenAddress: "127.0.0.1:0",
		ExternalURL:   "http://alertd.test:9095",
		WatchInterval: watch,
		Logger:        slog.New(d.logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	d.app = a
	d.base = runForTest(t, a)
	return d
}

var testHTTP = &http.Client{Timeout: 5 * time.Second}

// request sends a request and returns the status code and the body.
func request(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

type ruleJSON struct {
	Name           string    `json:"name"`
	Health         string    `json:"health"`
	LastError      string    `json:"lastError"`
	State          string    `json:"state"`
	LastEvaluation time.Time `json:"lastEvaluation"`
}

type groupJSON struct {
	Name           string     `json:"name"`
	File           string     `json:"file"`
	Rules          []ruleJSON `json:"rules"`
	LastEvaluation time.Time  `json:"lastEvaluation"`
}

// rules returns /api/v1/rules.
func (d *testDaemon) rules(t *testing.T) []groupJSON {
	t.Helper()
	code, body := request(t, http.MethodGet, d.base+"/api/v1/rules")
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/rules: %d %s", code, body)
	}
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			Groups []groupJSON `json:"groups"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil || resp.Status != "success" {
		t.Fatalf("GET /api/v1/rules: %v: %s", err, body)
	}
	return resp.Data.Groups
}

// ruleNames lists "group/rule" for every rule.
func ruleNames(gs []groupJSON) []string {
	var out []string
	for _, g := range gs {
		for _, r := range g.Rules {
			out = append(out, g.Name+"/"+r.Name)
		}
	}
	return out
}

// metric returns the value of an unlabelled series of /metrics.
func (d *testDaemon) metric(t *testing.T, name string) string {
	t.Helper()
	code, body := request(t, http.MethodGet, d.base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return v
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return ""
}

// eventually calls check every 20ms until it returns nil, and fails the
// test with its last error if that takes longer than timeout.
func eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %v", timeout, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// evaluatedAfter checks that every rule was evaluated successfully after
// since.
func evaluatedAfter(gs []groupJSON, since time.Time) error {
	if len(gs) == 0 {
		return fmt.Errorf("no groups")
	}
	for _, g := range gs {
		for _, r := range g.Rules {
			if !r.LastEvaluation.After(since) || r.Health != "ok" {
				return fmt.Errorf("rule %s/%s: health %q (%s), last evaluation %v, want after %v",
					g.Name, r.Name, r.Health, r.LastError, r.LastEvaluation, since)
			}
		}
	}
	return nil
}

func lastEvaluation(gs []groupJSON) time.Time {
	var last time.Time
	for _, g := range gs {
		if g.LastEvaluation.After(last) {
			last = g.LastEvaluation
		}
	}
	return last
}

const reloadRules = `groups:
- name: node
  rules:
  - alert: InstanceDown
    expr: up == 0
  - alert: HighLoad
    expr: node_load1 > 10
`

// TestReloadKeepsRunningConfig checks that a bad rule file, whether found
// by POST /-/reload or by the file watcher, keeps the running rules (as
// Prometheus keeps its previous rule set), and that a good one replaces
// them.
func TestReloadKeepsRunningConfig(t *testing.T) {
	prom := newFakePrometheus(t, instanceDown)
	d := startDaemon(t, prom.URL, reloadRules, 50*time.Millisecond)
	eventually(t, 10*time.Second, func() error { return evaluatedAfter(d.rules(t), time.Time{}) })
	wantNames := []string{"node/InstanceDown", "node/HighLoad"}
	if diff := cmp.Diff(wantNames, ruleNames(d.rules(t))); diff != "" {
		t.Fatalf("rules (-want +got):\n%s", diff)
	}

	bad := []struct {
		name  string
		rules string
		line  string   // ":LINE:" after the file name in the error
		want  []string // further substrings of the error
	}{
		{
			name: "bad promql",
			rules: `groups:
- name: node
  rules:
  - alert: InstanceDown
    expr: up == 0
  - alert: HighLoad
    expr: node_load1 >
`,
			line: ":7:",
			want: []string{`group "node"`, `"HighLoad"`, "could not parse expression"},
		},
		{
			name: "duplicate group",
			rules: `groups:
- name: node
  rules:
  - alert: InstanceDown
    expr: up == 0
- name: node
  rules:
  - alert: HighLoad
    expr: node_load1 > 10
`,
			line: ":6:",
			want: []string{`group "node" is repeated in the same file`},
		},
		{
			name: "bad template",
			rules: `groups:
- name: node
  rules:
  - alert: InstanceDown
    expr: up == 0
    annotations:
      summary: "{{ $labels.instance is down"
  - alert: HighLoad
    expr: node_load1 > 10
`,
			line: ":4:",
			want: []string{`group "node"`, `"InstanceDown"`, `annotation "summary"`},
		},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			watched, failed := d.logs.count(logWatchReload), d.logs.count(logReloadFail)
			writeAtomic(t, d.rulesFile, tc.rules)

			// The watcher finds the change and fails to load it.
			eventually(t, 5*time.Second, func() error {
				if d.logs.count(logWatchReload) == watched || d.logs.count(logReloadFail) == failed {
					return fmt.Errorf("the watcher has not tried the bad file")
				}
				return nil
			})
			if got := d.metric(t, "alertd_config_last_reload_successful"); got != "0" {
				t.Errorf("alertd_config_last_reload_successful %s after the watcher's reload, want 0", got)
			}
			gs := d.rules(t)
			if diff := cmp.Diff(wantNames, ruleNames(gs)); diff != "" {
				t.Fatalf("rules after the watcher's reload (-want +got):\n%s", diff)
			}

			// POST /-/reload fails the same way, with file:line.
			code, body := request(t, http.MethodPost, d.base+"/-/reload")
			if code != http.StatusInternalServerError {
				t.Errorf("POST /-/reload: %d, want 500", code)
			}
			for _, w := range append([]string{d.rulesFile + tc.line}, tc.want...) {
				if !strings.Contains(body, w) {
					t.Errorf("POST /-/reload body does not contain %q:\n%s", w, body)
				}
			}
			if got := d.metric(t, "alertd_config_last_reload_successful"); got != "0" {
				t.Errorf("alertd_config_last_reload_successful %s, want 0", got)
			}

			// The old rules are still listed and still evaluated.
			since := lastEvaluation(gs)
			eventually(t, 5*time.Second, func() error {
				gs = d.rules(t)
				if diff := cmp.Diff(wantNames, ruleNames(gs)); diff != "" {
					t.Fatalf("rules after the failed reload (-want +got):\n%s", diff)
				}
				return evaluatedAfter(gs, since)
			})
			// Meanwhile (≥ 1 evaluation interval, 20 watch intervals) the
			// watcher did not retry the same bad files.
			if n := d.logs.count(logWatchReload); n != watched+1 {
				t.Errorf("the watcher reloaded the same bad files %d times, want once", n-watched)
			}
		})
	}

	// A good, changed file replaces the rules.
	writeAtomic(t, d.rulesFile, reloadRules+`  - alert: DiskFull
    expr: node_filesystem_avail_bytes == 0
`)
	code, body := request(t, http.MethodPost, d.base+"/-/reload")
	if code != http.StatusOK {
		t.Fatalf("POST /-/reload: %d %s", code, body)
	}
	wantNames = append(wantNames, "node/DiskFull")
	if diff := cmp.Diff(wantNames, ruleNames(d.rules(t))); diff != "" {
		t.Errorf("rules after the good reload (-want +got):\n%s", diff)
	}
	if got := d.metric(t, "alertd_config_last_reload_successful"); got != "1" {
		t.Errorf("alertd_config_last_reload_successful %s, want 1", got)
	}
}

// TestWatcherReloadsChangedRuleFile checks that a changed rule file is
// loaded without a reload request, and that the alerts of unchanged rules
// keep their state.
func TestWatcherReloadsChangedRuleFile(t *testing.T) {
	prom := newFakePrometheus(t, instanceDown)
	d := startDaemon(t, prom.URL, reloadRules, 50*time.Millisecond)
	eventually(t, 10*time.Second, func() error { return evaluatedAfter(d.rules(t), time.Time{}) })
	code, body := request(t, http.MethodGet, d.base+"/api/v1/alerts")
	if code != http.StatusOK || !strings.Contains(body, `"InstanceDown"`) {
		t.Fatalf("GET /api/v1/alerts: %d %s, want InstanceDown firing", code, body)
	}
	activeAt := func() time.Time {
		var resp struct {
			Data struct {
				Alerts []struct {
					ActiveAt time.Time `json:"activeAt"`
				} `json:"alerts"`
			} `json:"data"`
		}
		_, body := request(t, http.MethodGet, d.base+"/api/v1/alerts")
		if err := json.Unmarshal([]byte(body), &resp); err != nil || len(resp.Data.Alerts) != 1 {
			t.Fatalf("alerts: %v %s", err, body)
		}
		return resp.Data.Alerts[0].ActiveAt
	}
	before := activeAt()

	// The changed expression of HighLoad changes the group; InstanceDown
	// keeps its alert.
	writeAtomic(t, d.rulesFile, strings.Replace(reloadRules, "node_load1 > 10", "node_load1 > 20", 1)+`  - alert: DiskFull
    expr: node_filesystem_avail_bytes == 0
`)
	eventually(t, 5*time.Second, func() error {
		names := ruleNames(d.rules(t))
		if !slices.Contains(names, "node/DiskFull") {
			return fmt.Errorf("rules %v", names)
		}
		return nil
	})
	if got := d.metric(t, "alertd_config_last_reload_successful"); got != "1" {
		t.Errorf("alertd_config_last_reload_successful %s, want 1", got)
	}
	if got := activeAt(); !got.Equal(before) {
		t.Errorf("InstanceDown active since %v after the reload, want %v", got, before)
	}
}

// TestReloadReturnsError checks App.Reload, which SIGHUP calls: a bad file
// is an error naming file and line, and the running rules stay.
func TestReloadReturnsError(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertd.yml")
	rulesFile := filepath.Join(dir, "rules.yml")
	writeAtomic(t, cfg, "datasource:\n  url: http://127.0.0.1:9\nrule_files: [rules.yml]\n")
	writeAtomic(t, rulesFile, reloadRules)
	a, err := New(Options{ConfigFile: cfg, ListenAddress: "127.0.0.1:0", WatchInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	groups := a.manager.Groups()

	writeAtomic(t, rulesFile, strings.Replace(reloadRules, "up == 0", "up ==", 1))
	err = a.Reload()
	if err == nil {
		t.Fatal("Reload of a bad file: no error")
	}
	if want := rulesFile + ":5:"; !strings.Contains(err.Error(), want) {
		t.Errorf("Reload error %q does not name %s", err, want)
	}
	if got := a.manager.Groups(); !slices.Equal(got, groups) {
		t.Errorf("groups after the failed reload: %v, want the old %v", got, groups)
	}

	writeAtomic(t, rulesFile, reloadRules)
	if err := a.Reload(); err != nil {
		t.Fatalf("Reload of the good file again: %v", err)
	}
	if got := a.manager.Groups(); !slices.Equal(got, groups) {
		t.Errorf("the unchanged group was replaced by the reload")
	}
}

// TestReloadBadTemplateKeepsReceivers breaks a file of templates: the
// reload fails naming it and the running receivers stay; the watcher
// counts template files among the files it watches.
func TestReloadBadTemplateKeepsReceivers(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertd.yml")
	tmplFile := filepath.Join(dir, "my.tmpl")
	writeAtomic(t, cfg, `templates: ['*.tmpl']
route: {receiver: ops}
receivers:
- name: ops
  pagerduty_configs: [{routing_key: k0000000000000000000000000000001, description: '{{ template "my.summary" . }}'}]
`)
	writeAtomic(t, tmplFile, `{{ define "my.summary" }}{{ .Status }}{{ end }}`)
	a, err := New(Options{ConfigFile: cfg, ListenAddress: "127.0.0.1:0", WatchInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if got := watched(cfg, a.cfg.Load(), nil); !slices.Contains(got, tmplFile) {
		t.Errorf("watched files %v lack the template file", got)
	}
	running := a.am.Load()

	writeAtomic(t, tmplFile, `{{ define "my.summary" }}{{ .Status {{ end }}`)
	err = a.Reload()
	if err == nil || !strings.Contains(err.Error(), "my.tmpl") {
		t.Fatalf("Reload with a bad template: %v, want an error naming my.tmpl", err)
	}
	if a.am.Load() != running {
		t.Error("the failed reload replaced the running receivers")
	}

	writeAtomic(t, tmplFile, `{{ define "my.summary" }}{{ .Status }}!{{ end }}`)
	if err := a.Reload(); err != nil {
		t.Fatalf("Reload of the fixed template: %v", err)
	}
	if a.am.Load() == running {
		t.Error("the reload kept the old receivers")
	}
}

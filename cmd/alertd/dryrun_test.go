package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"

	"github.com/alertd/alertd/app"
	"github.com/alertd/alertd/internal/golden"
	"github.com/alertd/alertd/internal/testenv"
)

// dryRunAt is the evaluation time of the dry-run tests; the data given to
// Prometheus ends there.
var dryRunAt = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// dryRunData is the history Prometheus holds, one sample every 15s over
// the half hour before dryRunAt, by series: the value at a time given as
// its offset before dryRunAt.
var dryRunData = map[string]func(before time.Duration) float64{
	// Down for 10m: longer than the rule's for (5m), so firing.
	`dry_up{instance="a",job="dry"}`: func(d time.Duration) float64 { return b2f(d > 10*time.Minute) },
	// Down for 2m: shorter than for, so pending.
	`dry_up{instance="b",job="dry"}`: func(d time.Duration) float64 { return b2f(d > 2*time.Minute) },
	`dry_up{instance="c",job="dry"}`: func(time.Duration) float64 { return 1 },
	// Inhibited by instance a being down.
	`dry_disk_used_percent{instance="a",job="dry"}`: func(time.Duration) float64 { return 95 },
	// Above 0 from 10m to 2m before: fired, then kept firing by
	// keep_firing_for.
	`dry_flap{instance="f",job="dry"}`:  func(d time.Duration) float64 { return b2f(d <= 10*time.Minute && d > 2*time.Minute) },
	`dry_queue{instance="s",job="dry"}`: func(time.Duration) float64 { return 7 },
	`dry_batch{instance="n",job="dry"}`: func(time.Duration) float64 { return 1 },
	// Two series whose on() join fails.
	`dry_shard{shard="1"}`: func(time.Duration) float64 { return 1 },
	`dry_shard{shard="2"}`: func(time.Duration) float64 { return 1 },
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

const dryRunRules = `groups:
- name: availability
  interval: 1m
  rules:
  - alert: DryInstanceDown
    expr: dry_up == 0
    for: 5m
    labels: {severity: page}
    annotations:
      summary: '{{ $labels.instance }} of {{ $labels.job }} is down'
      description: 'value {{ $value }} in {{ $externalLabels.region }}, see {{ $externalURL }}'
  - alert: DryDiskFull
    expr: dry_disk_used_percent > 90
    labels: {severity: warning}
    annotations: {summary: 'disk {{ $value }}% full on {{ $labels.instance }}'}
  - alert: DryFlapping
    expr: dry_flap > 0
    for: 3m
    keep_firing_for: 5m
  - alert: DryBrokenJoin
    expr: dry_shard * on() dry_shard
    for: 1m
- name: queues
  interval: 30s
  rules:
  - alert: DryQueueStuck
    expr: dry_queue > 5
    labels: {team: ops}
  - alert: DryNightlyBatch
    expr: dry_batch > 0
    labels: {team: night}
  - alert: DryBrokenNow
    expr: dry_shard * on() dry_shard
`

// dryRunConfig routes pages to PagerDuty and email, then Slack; the
// night team's route is muted on New Year's Day. Every receiver is one of
// the test's counting servers.
func dryRunConfig(prom, sink, smtp string) string {
	return fmt.Sprintf(`global:
  external_url: http://alertd.example.org:9095
  external_labels: {region: eu-1}
  smtp_smarthost: %[3]s
  smtp_from: alertd@example.org
datasource: {url: %[1]s}
rule_files: [rules.yml]
route:
  receiver: team-webhook
  group_by: [alertname]
  routes:
  - matchers: [severity="page"]
    receiver: pager
    continue: true
  - matchers: [severity="page"]
    receiver: slack-ops
  - matchers: [team="night"]
    receiver: team-webhook
    mute_time_intervals: [newyear]
time_intervals:
- name: newyear
  time_intervals: [{months: [january], days_of_month: ["1"]}]
inhibit_rules:
- source_matchers: [severity="page"]
  target_matchers: [severity="warning"]
  equal: [instance]
receivers:
- name: pager
  pagerduty_configs:
  - routing_key: dry0run0routing0key0000000000001
    url: %[2]s/v2/enqueue
    description: '{{ .CommonLabels.alertname }}: {{ range .Alerts }}{{ .Labels.instance }} {{ end }}'
  email_configs:
  - to: oncall@example.org
    headers: {Subject: 'PAGE {{ .CommonLabels.alertname }} ({{ len .Alerts }})'}
    html: '<p>{{ .CommonAnnotations.summary }}</p>'
    text: '{{ range .Alerts }}{{ .Annotations.summary }}{{ "\n" }}{{ end }}'
- name: slack-ops
  slack_configs:
  - api_url: %[2]s/services/T0/B0/secret
    channel: '#ops'
    title: '{{ .CommonLabels.alertname }} in {{ .CommonLabels.region }}'
    text: '{{ range .Alerts }}{{ .Annotations.summary }} {{ end }}'
- name: team-webhook
  webhook_configs: [{url: %[2]s/hook}]
`, prom, sink, smtp)
}

// dryRunSilencesJSON is what a running alertd answers on GET
// /api/v2/silences: one silence active at dryRunAt, one expired.
const dryRunSilencesJSON = `[
 {"id": "5c0ffee0-0000-4000-8000-000000000001", "status": {"state": "active"}, "updatedAt": "2023-12-31T00:00:00.000Z",
  "comment": "queue migration", "createdBy": "ops", "startsAt": "2023-12-31T00:00:00.000Z", "endsAt": "2024-01-02T00:00:00.000Z",
  "matchers": [{"name": "alertname", "value": "DryQueue.*", "isRegex": true, "isEqual": true}, {"name": "team", "value": "dev", "isRegex": false, "isEqual": false}]},
 {"id": "5c0ffee0-0000-4000-8000-000000000002", "status": {"state": "expired"}, "updatedAt": "2023-12-02T00:00:00.000Z",
  "comment": "old", "createdBy": "ops", "startsAt": "2023-12-01T00:00:00.000Z", "endsAt": "2023-12-02T00:00:00.000Z",
  "matchers": [{"name": "alertname", "value": "DryInstanceDown", "isRegex": false, "isEqual": true}]}
]`

// startDryRunPrometheus writes dryRunData as OpenMetrics, turns it into
// TSDB blocks with promtool and starts a real Prometheus on them.
func startDryRunPrometheus(t *testing.T) *testenv.Prometheus {
	t.Helper()
	promtool := testenv.Binary(t, "promtool")
	dir := t.TempDir()
	// OpenMetrics: the series of a metric family together, after its
	// one TYPE line.
	var om bytes.Buffer
	family := ""
	for _, series := range slices.Sorted(maps.Keys(dryRunData)) {
		if name, _, _ := strings.Cut(series, "{"); name != family {
			family = name
			fmt.Fprintf(&om, "# TYPE %s gauge\n", name)
		}
		for d := 30 * time.Minute; d >= 0; d -= 15 * time.Second {
			fmt.Fprintf(&om, "%s %g %d\n", series, dryRunData[series](d), dryRunAt.Add(-d).Unix())
		}
	}
	om.WriteString("# EOF\n")
	omFile := filepath.Join(dir, "data.om")
	writeFile(t, omFile, om.String())
	out, err := exec.CommandContext(t.Context(), promtool, "tsdb", "create-blocks-from", "openmetrics", omFile, filepath.Join(dir, "data")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	return testenv.StartPrometheus(t, testenv.PrometheusOptions{Dir: dir})
}

// countingServer counts the requests it gets: receivers that must get
// none.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// countingListener counts the connections made to it: an SMTP server that
// must get none.
func countingListener(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			_ = c.Close()
		}
	}()
	return ln.Addr().String(), &n
}

// dryRunNormalise removes what changes from run to run: an email's
// Message-Id (time, random number, host name) and MIME boundary.
func dryRunNormalise(s string) string {
	s = regexp.MustCompile(`Message-Id: <[^>]*>`).ReplaceAllString(s, "Message-Id: <ID>")
	return regexp.MustCompile(`\b[0-9a-f]{60}\b`).ReplaceAllString(s, "BOUNDARY")
}

// TestDryRunAgainstPrometheus dry-runs rules against a real Prometheus
// holding a known history, with silences from a fake alertd, and compares
// the text and JSON outputs with golden files: a rule whose condition has
// held longer than its for fires, one held shorter is pending, another
// keeps firing by keep_firing_for; an alert is inhibited by another of
// the run, one silenced, one muted by a time interval; two rules whose
// query fails (through the range query and the instant query) make the
// exit code 1. No receiver gets a request.
func TestDryRunAgainstPrometheus(t *testing.T) {
	prom := startDryRunPrometheus(t)
	sink, sinkRequests := countingServer(t)
	smtpAddr, smtpConns := countingListener(t)
	var silenceRequests atomic.Int64
	alertd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v2/silences" {
			http.NotFound(w, r)
			return
		}
		silenceRequests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, dryRunSilencesJSON)
	}))
	t.Cleanup(alertd.Close)
	cfgPath, _ := writeConfig(t, dryRunConfig(prom.URL, sink.URL, smtpAddr), dryRunRules)

	run := func(args ...string) (code int, stdout, stderr string) {
		t.Helper()
		var out, errb bytes.Buffer
		args = append([]string{"dry-run", "--config.file=" + cfgPath, "--at=" + dryRunAt.Format(time.RFC3339), "--alertd.url=" + alertd.URL}, args...)
		code = Main(t.Context(), args, &out, &errb)
		return code, out.String(), errb.String()
	}

	code, text, stderr := run()
	if code != 1 || stderr != "" {
		t.Errorf("text: exit code %d, want 1 (two rules fail); stderr:\n%s", code, stderr)
	}
	golden.Check(t, filepath.Join("testdata", "dryrun", "text.golden"), dryRunNormalise(text))
	for _, want := range []string{
		"rule DryBrokenJoin (rules.yml, group availability)",
		"rule DryBrokenNow (rules.yml, group queues)",
		"  ERROR: range query failed: execution (HTTP 422): found duplicate series",
		"  ERROR: query failed: execution (HTTP 422): found duplicate series",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q", want)
		}
	}

	code, js, stderr := run("--output=json")
	if code != 1 || stderr != "" {
		t.Errorf("json: exit code %d, want 1; stderr:\n%s", code, stderr)
	}
	golden.Check(t, filepath.Join("testdata", "dryrun", "json.golden"), dryRunNormalise(js))
	var rep app.DryRunReport
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatalf("json output: %v", err)
	}
	type alertState struct{ Rule, Instance, State, Since, KeepFiringSince string }
	var states []alertState
	for _, r := range rep.Rules {
		for _, a := range r.Alerts {
			s := alertState{r.Name, a.Labels["instance"], a.State, a.Since.Format(time.TimeOnly), ""}
			if a.KeepFiringSince != nil {
				s.KeepFiringSince = a.KeepFiringSince.Format(time.TimeOnly)
			}
			states = append(states, s)
		}
	}
	wantStates := []alertState{
		{"DryInstanceDown", "a", "firing", "11:55:00", ""}, // the window's start: for 5m, every 1m
		{"DryInstanceDown", "b", "pending", "11:58:00", ""},
		{"DryDiskFull", "a", "firing", "12:00:00", ""},
		{"DryFlapping", "f", "firing", "11:52:00", "11:58:00"},
		{"DryQueueStuck", "s", "firing", "12:00:00", ""},
		{"DryNightlyBatch", "n", "firing", "12:00:00", ""},
	}
	if diff := cmp.Diff(wantStates, states); diff != "" {
		t.Errorf("alert states (-want +got):\n%s", diff)
	}
	if rep.FailedRules != 2 {
		t.Errorf("failedRules %d, want 2", rep.FailedRules)
	}
	if strings.Contains(js, "dry0run0routing0key") || strings.Contains(text, "dry0run0routing0key") || strings.Contains(js, "/services/T0/B0/secret") {
		t.Error("a secret is in the output")
	}

	// Only the rules selected, all good: exit code 0.
	code, text, stderr = run("--rule=^DryInstance")
	if code != 0 || stderr != "" || !strings.Contains(text, "rule DryInstanceDown") || strings.Contains(text, "rule DryDiskFull") {
		t.Errorf("--rule: exit code %d, stderr %q, output:\n%s", code, stderr, text)
	}
	// Without the page alert, nothing inhibits the disk alert.
	code, text, _ = run("--rule=Disk")
	if code != 0 || strings.Contains(text, "inhibited") || !strings.Contains(text, "(sent)") {
		t.Errorf("--rule=Disk: exit code %d, output:\n%s", code, text)
	}

	if n := silenceRequests.Load(); n != 4 {
		t.Errorf("%d requests for silences, want one per run", n)
	}
	if n, c := sinkRequests.Load(), smtpConns.Load(); n != 0 || c != 0 {
		t.Errorf("receivers got %d requests and %d SMTP connections, want none", n, c)
	}
}

// emptyPrometheus answers every instant and range query with no series.
func emptyPrometheus(t *testing.T) *httptest.Server {
	t.Helper()
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		typ := "vector"
		if r.URL.Path == "/api/v1/query_range" {
			typ = "matrix"
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"`+typ+`","result":[]}}`)
	}))
	t.Cleanup(prom.Close)
	return prom
}

func TestDryRunUsage(t *testing.T) {
	prom := emptyPrometheus(t)
	cfgPath, _ := writeConfig(t, "datasource: {url: "+prom.URL+"}\nrule_files: [rules.yml]\n", goodRules)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad time", []string{"--at=yesterday"}, 1, `--at "yesterday": not an RFC 3339 time`},
		{"bad regexp", []string{"--rule=("}, 1, "--rule: error parsing regexp"},
		{"bad alertd url", []string{"--alertd.url=ftp://x"}, 1, "--alertd.url: not an http or https URL"},
		{"alertd down", []string{"--alertd.url=http://" + freeAddr(t)}, 1, "get silences from http://127.0.0.1:"},
		{"bad output", []string{"--output=yaml"}, 2, "enum value must be one of text,json"},
		{"missing config", []string{"--config.file=" + filepath.Join(t.TempDir(), "nope.yml")}, 1, "nope.yml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"dry-run"}, tc.args...)
			if !strings.HasPrefix(tc.args[0], "--config.file=") {
				args = append(args, "--config.file="+cfgPath)
			}
			if code := Main(t.Context(), args, &out, &errb); code != tc.code || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit code %d, stderr %q; want %d and %q", code, errb.String(), tc.code, tc.want)
			}
		})
	}
	// An empty datasource: the rule has no alert, and nothing failed.
	var out, errb bytes.Buffer
	if code := Main(t.Context(), []string{"dry-run", "--config.file=" + cfgPath}, &out, &errb); code != 0 || !strings.Contains(out.String(), "  no alerts\n") {
		t.Errorf("exit code %d, stderr %q, output:\n%s", code, errb.String(), out.String())
	}
}

// TestDryRunSilencesFromRunningAlertd reads the silences of a running
// alertd as dry-run does, through its API.
func TestDryRunSilencesFromRunningAlertd(t *testing.T) {
	prom := emptyDatasource(t)
	cfgPath, _ := writeConfig(t, "datasource: {url: "+prom.URL+"}\nrule_files: [rules.yml]\n", goodRules)
	addr := freeAddr(t)
	done, stderr, cancel := startMain(t, runArgs(cfgPath, addr))
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("alertd did not stop within 20s")
		}
	}()
	base := "http://" + addr
	body := fmt.Sprintf(`{"matchers": [{"name": "alertname", "value": "Dry.*", "isRegex": true, "isEqual": true},
  {"name": "team", "value": "dev", "isRegex": false, "isEqual": false}],
 "startsAt": %q, "endsAt": %q, "createdBy": "test", "comment": "dry run"}`,
		time.Now().UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	var id string
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for id == "" {
		resp, err := client.Post(base+"/api/v2/silences", "application/json", strings.NewReader(body))
		if err == nil {
			var r struct {
				SilenceID string `json:"silenceID"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&r)
			_ = resp.Body.Close()
			id = r.SilenceID
		}
		if id == "" && time.Now().After(deadline) {
			t.Fatalf("cannot create a silence within 10s (last error %v)\nstderr:\n%s", err, stderr.String())
		}
		if id == "" {
			time.Sleep(50 * time.Millisecond)
		}
	}
	sils, err := dryRunSilences(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	if len(sils) != 1 || sils[0].ID != id || sils[0].Comment != "dry run" || sils[0].CreatedBy != "test" {
		t.Fatalf("silences: %+v, want the one created, %s", sils, id)
	}
	var ms []string
	for _, m := range sils[0].Matchers {
		ms = append(ms, m.String())
	}
	if want := []string{`alertname=~"Dry.*"`, `team!="dev"`}; !cmp.Equal(ms, want) {
		t.Errorf("matchers %q, want %q", ms, want)
	}
	if m := sils[0].Matchers[0]; m.Type != amlabels.MatchRegexp || !m.Matches("DryX") || m.Matches("WetX") {
		t.Errorf("the regexp matcher does not match as it should: %+v", m)
	}
}

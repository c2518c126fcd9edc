package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/alertd/alertd/bench/internal/daemon"
	"github.com/alertd/alertd/bench/internal/proc"
	"github.com/alertd/alertd/bench/internal/ruleload"
	"github.com/alertd/alertd/internal/testenv"
)

const (
	// scrapeTimeout bounds the wait for a Prometheus to have scraped a
	// load's every series.
	scrapeTimeout = 2 * time.Minute
	// apiTimeout bounds one API call; listing 100,000 alerts takes
	// Alertmanager seconds.
	apiTimeout = 2 * time.Minute
	// nullRoute is the routing of the eval scenario: every alert goes to a
	// receiver without integrations, for alertd as for the Alertmanager
	// that vmalert and Prometheus notify.
	nullRoute = `route:
  receiver: "null"
  group_by: [alertname]
receivers:
  - name: "null"
`
)

// runEval runs one evaluation scenario in dir: one Prometheus scrapes a
// target this process serves, and the systems are measured one after the
// other.
func runEval(ctx context.Context, h *harness, dir string, spec evalSpec) (*evalResult, error) {
	l := spec.Load
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	rulesFile := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rulesFile, []byte(l.RuleFile()), 0o600); err != nil {
		return nil, err
	}
	target, err := serveStatic(l.Exposition())
	if err != nil {
		return nil, err
	}
	defer func() { _ = target.Close() }()
	promBin, err := testenv.FindBinary("prometheus")
	if err != nil {
		return nil, err
	}
	h.logf("eval: %d rules × %d series: starting the queried Prometheus", l.Rules, l.Series)
	ds, err := testenv.RunPrometheus(ctx, promBin, testenv.PrometheusOptions{
		ScrapeTargets:  []string{target.Addr},
		ScrapeInterval: spec.Scrape,
		Dir:            filepath.Join(dir, "datasource"),
		Stdout:         io.Discard,
	})
	if err != nil {
		return nil, fmt.Errorf("start the queried prometheus: %w", err)
	}
	defer func() { _ = ds.Stop() }()
	dsPid, err := proc.ChildWithArg(promBin, "--config.file="+ds.ConfigFile)
	if err != nil {
		return nil, err
	}
	if err := waitSeries(ctx, ds, l); err != nil {
		return nil, fmt.Errorf("queried prometheus: %w", err)
	}

	e := &evalResult{evalSpec: spec}
	env := evalEnv{h: h, dir: dir, spec: spec, rulesFile: rulesFile, promURL: ds.URL, dsPid: dsPid, target: target.Addr}
	h.logf("eval: %d rules: alertd", l.Rules)
	e.Alertd = measureEval(ctx, "alertd", env.runAlertd)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	h.logf("eval: %d rules: vmalert", l.Rules)
	e.VMAlert = measureEval(ctx, "vmalert", env.runVMAlert)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	h.logf("eval: %d rules: Prometheus with and without the rules", l.Rules)
	e.Prometheus = measureEval(ctx, "Prometheus's rule manager (with the rules − without)", env.runPrometheus)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return e, nil
}

// staticTarget serves fixed bytes at /metrics.
type staticTarget struct {
	Addr string // host:port
	srv  *http.Server
}

func serveStatic(body []byte) (*staticTarget, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(body)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &staticTarget{Addr: ln.Addr().String(), srv: srv}, nil
}

// Close stops the server.
func (t *staticTarget) Close() error { return t.srv.Close() }

// waitSeries waits until p has every series of l, and no others.
func waitSeries(ctx context.Context, p *testenv.Prometheus, l ruleload.Load) error {
	ctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
	defer cancel()
	return p.WaitForScrape(ctx, fmt.Sprintf("count(bench_metric) == %d", l.Alerts()))
}

// evalEnv is one evaluation scenario and what its systems share.
type evalEnv struct {
	h         *harness
	dir       string
	spec      evalSpec
	rulesFile string
	promURL   string // the queried Prometheus
	dsPid     int    // its process
	target    string // the scrape target, host:port
}

func newEvalRow(system string) evalRow {
	return evalRow{System: system, CPU: math.NaN(), PeakRSS: math.NaN(), DatasourceCPU: math.NaN()}
}

// measureEval returns the row of system as run fills it, with the failure
// run returns.
func measureEval(ctx context.Context, system string, run func(context.Context, *evalRow) error) evalRow {
	row := newEvalRow(system)
	if err := run(ctx, &row); err != nil {
		row.Failure = err.Error()
	}
	return row
}

// runAlertd measures alertd evaluating the rules and routing the alerts to
// a receiver without integrations: what it does in place of vmalert or
// Prometheus plus an Alertmanager.
func (e evalEnv) runAlertd(ctx context.Context, row *evalRow) error {
	dir := filepath.Join(e.dir, "alertd")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg := filepath.Join(dir, "alertd.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "global: {evaluation_interval: %s}\ndatasource: {url: %s}\nrule_files: [%q]\n%s",
		e.spec.Load.Interval, e.promURL, e.rulesFile, nullRoute), 0o600); err != nil {
		return err
	}
	port, err := testenv.FreePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	d, err := daemon.Start(ctx, "alertd", nil, e.h.alertd, "run", "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port), "--log.level=warn")
	if err != nil {
		return err
	}
	defer func() { _ = d.Stop() }()
	if err := d.WaitReady(ctx, base+"/-/ready"); err != nil {
		return err
	}
	if err := warm(ctx, e.spec.Warmup, d.Exited()); err != nil {
		return d.WithOutput(err)
	}
	client := &http.Client{Timeout: apiTimeout}
	parse := groupMetricsParser("alertd")
	s := startSampler(ctx, client, base+"/metrics", parse, e.spec.Load.Interval/2)
	start := time.Now()
	u, err := proc.Measure(ctx, e.spec.Window, d.Pid(), e.dsPid)
	samples, serr := s.stop(ctx, client, base+"/metrics", parse)
	if err != nil {
		return d.WithOutput(err)
	}
	if serr != nil {
		return serr
	}
	// Correctness first: every alert firing, no failed evaluation, and
	// every alert handed to alertd's Alertmanager half.
	last := samples[len(samples)-1]
	if last.Failures != 0 {
		return fmt.Errorf("%v rule evaluations failed (alertd_rule_evaluation_failures_total); output:\n%s", last.Failures, daemon.Tail(d.Output(), daemon.LogLines))
	}
	if int(last.Firing) != e.spec.Load.Alerts() {
		return fmt.Errorf("alertd_alerts{state=\"firing\"} is %v, want %d", last.Firing, e.spec.Load.Alerts())
	}
	if err := checkPromAlerts(ctx, client, base, e.spec.Load); err != nil {
		return fmt.Errorf("alertd: %w", err)
	}
	if err := checkAMAlerts(ctx, client, base, e.spec.Load); err != nil {
		return fmt.Errorf("alertd's alertmanager half: %w", err)
	}
	stats := summarize(samples, start)
	row.CPU, row.PeakRSS, row.DatasourceCPU, row.Stats = u[0].PerMinute(), u[0].PeakRSS, u[1].PerMinute(), &stats
	return nil
}

// runVMAlert measures vmalert evaluating the rules and sending the alerts to
// a real Alertmanager.
func (e evalEnv) runVMAlert(ctx context.Context, row *evalRow) error {
	am, amPid, err := startAlertmanager(ctx, filepath.Join(e.dir, "vmalert-alertmanager"), nullRoute)
	if err != nil {
		return err
	}
	defer func() { _ = am.Stop() }()
	vmBin, err := testenv.FindBinary("vmalert")
	if err != nil {
		return err
	}
	port, err := testenv.FreePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	d, err := daemon.Start(ctx, "vmalert", nil, vmBin, "-datasource.url="+e.promURL, "-rule="+e.rulesFile, "-notifier.url="+am.URL,
		"-evaluationInterval="+e.spec.Load.Interval.String(), "-httpListenAddr=127.0.0.1:"+strconv.Itoa(port), "-loggerLevel=ERROR")
	if err != nil {
		return err
	}
	defer func() { _ = d.Stop() }()
	if err := d.WaitReady(ctx, base+"/-/ready"); err != nil {
		return err
	}
	if err := warm(ctx, e.spec.Warmup, d.Exited()); err != nil {
		return d.WithOutput(err)
	}
	// Its /metrics before and after the window; vmalert's /api/v1/alerts
	// does not answer within minutes at 100,000 alerts, so the alerts are
	// checked by its per-rule firing gauges and in its Alertmanager.
	client := &http.Client{Timeout: apiTimeout}
	first, err := fetchGroupMetrics(ctx, client, base+"/metrics", parseVMAlertMetrics)
	if err != nil {
		return d.WithOutput(err)
	}
	u, err := proc.Measure(ctx, e.spec.Window, d.Pid(), e.dsPid, amPid)
	if err != nil {
		return d.WithOutput(err)
	}
	last, err := fetchGroupMetrics(ctx, client, base+"/metrics", parseVMAlertMetrics)
	if err != nil {
		return d.WithOutput(err)
	}
	if last.Failures != 0 {
		return d.WithOutput(fmt.Errorf("%v failed evaluations (vmalert_execution_errors_total + vmalert_alerting_rules_error)", last.Failures))
	}
	if err := e.spec.Load.CheckFiring(last.FiringByRule); err != nil {
		return fmt.Errorf("vmalert_alerts_firing: %w", err)
	}
	if err := checkAMAlerts(ctx, client, am.URL, e.spec.Load); err != nil {
		return fmt.Errorf("vmalert's alertmanager: %w", err)
	}
	stats := summarize([]groupMetrics{first, last}, time.Time{})
	row.CPU, row.PeakRSS, row.DatasourceCPU, row.Notifier, row.Stats = u[0].PerMinute(), u[0].PeakRSS, u[1].PerMinute(), &u[2], &stats
	return nil
}

// runPrometheus measures Prometheus's rule manager: a Prometheus with the
// rules, notifying a real Alertmanager, minus one without them, both
// scraping the same target over the same window.
func (e evalEnv) runPrometheus(ctx context.Context, row *evalRow) error {
	am, amPid, err := startAlertmanager(ctx, filepath.Join(e.dir, "prometheus-alertmanager"), nullRoute)
	if err != nil {
		return err
	}
	defer func() { _ = am.Stop() }()
	promBin, err := testenv.FindBinary("prometheus")
	if err != nil {
		return err
	}
	opts := func(dir string, rules []string) testenv.PrometheusOptions {
		return testenv.PrometheusOptions{
			ScrapeTargets:      []string{e.target},
			ScrapeInterval:     e.spec.Scrape,
			EvaluationInterval: e.spec.Load.Interval,
			RuleFiles:          rules,
			AlertmanagerURLs:   []string{am.URL},
			// The queue holds 10,000 alerts by default, fewer than the
			// scale load sends at once: it would drop some.
			ExtraArgs: []string{"--alertmanager.notification-queue-capacity=" + strconv.Itoa(max(10_000, 2*e.spec.Load.Alerts()))},
			Dir:       filepath.Join(e.dir, dir),
			Stdout:    io.Discard,
		}
	}
	with, err := testenv.RunPrometheus(ctx, promBin, opts("prometheus-with-rules", []string{e.rulesFile}))
	if err != nil {
		return fmt.Errorf("start prometheus with the rules: %w", err)
	}
	defer func() { _ = with.Stop() }()
	without, err := testenv.RunPrometheus(ctx, promBin, opts("prometheus-without-rules", nil))
	if err != nil {
		return fmt.Errorf("start prometheus without the rules: %w", err)
	}
	defer func() { _ = without.Stop() }()
	withPid, err := proc.ChildWithArg(promBin, "--config.file="+with.ConfigFile)
	if err != nil {
		return err
	}
	withoutPid, err := proc.ChildWithArg(promBin, "--config.file="+without.ConfigFile)
	if err != nil {
		return err
	}
	for _, p := range []*testenv.Prometheus{with, without} {
		if err := waitSeries(ctx, p, e.spec.Load); err != nil {
			return err
		}
	}
	if err := warm(ctx, e.spec.Warmup, nil); err != nil {
		return err
	}
	client := &http.Client{Timeout: apiTimeout}
	parse := groupMetricsParser("prometheus")
	s := startSampler(ctx, client, with.URL+"/metrics", parse, e.spec.Load.Interval/2)
	start := time.Now()
	u, err := proc.Measure(ctx, e.spec.Window, withPid, withoutPid, amPid)
	samples, serr := s.stop(ctx, client, with.URL+"/metrics", parse)
	if err != nil {
		return fmt.Errorf("%w; output of the one with the rules:\n%s", err, daemon.Tail(with.Output(), daemon.LogLines))
	}
	if serr != nil {
		return serr
	}
	if last := samples[len(samples)-1]; last.Failures != 0 {
		return fmt.Errorf("%v rule evaluations failed (prometheus_rule_evaluation_failures_total)", last.Failures)
	}
	if err := checkPromAlerts(ctx, client, with.URL, e.spec.Load); err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	if err := checkAMAlerts(ctx, client, am.URL, e.spec.Load); err != nil {
		return fmt.Errorf("prometheus's alertmanager: %w", err)
	}
	stats := summarize(samples, start)
	row.CPU = u[0].PerMinute() - u[1].PerMinute()
	row.PeakRSS = u[0].PeakRSS - u[1].PeakRSS
	row.Stats, row.Notifier = &stats, &u[2]
	row.Note = fmt.Sprintf("Prometheus's rule manager: the Prometheus with the rules used %s CPU-s per minute, %s MiB peak RSS; the one without, %s and %s MiB. Its queries run inside it: no queried Prometheus.",
		num(u[0].PerMinute()), num(u[0].PeakRSS), num(u[1].PerMinute()), num(u[1].PeakRSS))
	return nil
}

// startAlertmanager starts a real Alertmanager with the routing config in
// dir and finds its process.
func startAlertmanager(ctx context.Context, dir, config string) (*testenv.Alertmanager, int, error) {
	bin, err := testenv.FindBinary("prometheus-alertmanager")
	if err != nil {
		return nil, 0, err
	}
	am, err := testenv.RunAlertmanager(ctx, bin, testenv.AlertmanagerOptions{ConfigYAML: config, Dir: dir, Stdout: io.Discard})
	if err != nil {
		return nil, 0, fmt.Errorf("start alertmanager: %w", err)
	}
	pid, err := proc.ChildWithArg(bin, "--config.file="+am.ConfigFile)
	if err != nil {
		_ = am.Stop()
		return nil, 0, err
	}
	return am, pid, nil
}

// warm waits d, failing if the process whose exit closes exited (nil: not
// watched) exits or ctx ends.
func warm(ctx context.Context, d time.Duration, exited <-chan struct{}) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-exited:
		return errors.New("exited during the warm-up")
	case <-timer.C:
		return nil
	}
}

// checkPromAlerts checks the alerts of Prometheus's GET /api/v1/alerts
// (alertd, vmalert and Prometheus serve it).
func checkPromAlerts(ctx context.Context, client *http.Client, base string, l ruleload.Load) error {
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := getJSON(ctx, client, base+"/api/v1/alerts", &resp); err != nil {
		return err
	}
	alerts := make([]ruleload.Alert, len(resp.Data.Alerts))
	for i, a := range resp.Data.Alerts {
		alerts[i] = ruleload.Alert{Name: a.Labels["alertname"], Instance: a.Labels["instance"], State: a.State}
	}
	if err := l.Check(alerts, "firing"); err != nil {
		return fmt.Errorf("GET /api/v1/alerts: %w", err)
	}
	return nil
}

// checkAMAlerts checks the alerts of Alertmanager's GET /api/v2/alerts
// (alertd serves it too).
func checkAMAlerts(ctx context.Context, client *http.Client, base string, l ruleload.Load) error {
	var resp []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := getJSON(ctx, client, base+"/api/v2/alerts", &resp); err != nil {
		return err
	}
	alerts := make([]ruleload.Alert, len(resp))
	for i, a := range resp {
		alerts[i] = ruleload.Alert{Name: a.Labels["alertname"], Instance: a.Labels["instance"], State: a.Status.State}
	}
	if err := l.Check(alerts, "active"); err != nil {
		return fmt.Errorf("GET /api/v2/alerts: %w", err)
	}
	return nil
}

// getJSON decodes the answer of GET url into v.
func getJSON(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: decode: %w", url, err)
	}
	return nil
}

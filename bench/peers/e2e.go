package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alertd/alertd/bench/internal/alertload"
	"github.com/alertd/alertd/bench/internal/daemon"
	"github.com/alertd/alertd/internal/testenv"
)

// e2eOptions are the end-to-end scenario's settings, the same for both
// systems.
type e2eOptions struct {
	Repeats int
	// Scrape and Eval are the scrape and evaluation intervals; For, the
	// rule's for; GroupWait, the route's group_wait.
	Scrape, Eval, For, GroupWait time.Duration
	// Timeout bounds the wait for one repeat's notifications.
	Timeout time.Duration
}

const (
	e2eAlert    = "E2EValueHigh"
	e2eJob      = "e2e"
	e2eSeverity = "page"
)

// e2eInstance is the instance label of repeat k's series.
func e2eInstance(k int) string { return "e2e-" + strconv.Itoa(k) }

// e2eSeries is repeat k's series in PromQL notation.
func e2eSeries(k int) string {
	return fmt.Sprintf(`bench_e2e{job=%q,instance=%q}`, e2eJob, e2eInstance(k))
}

// e2eWant is the label set repeat k's notification must carry.
func e2eWant(k int) map[string]string {
	return map[string]string{"alertname": e2eAlert, "instance": e2eInstance(k), "job": e2eJob, "severity": e2eSeverity}
}

// e2eRules is the rule file: the same rule once per repeat, each in a
// group of its own selecting its repeat's series. A group's evaluation
// slot is a hash of its name and file, so each repeat falls at another
// point of the interval: the repeats sample the phase between scrape and
// evaluation, which in one group would be the same every time (and
// different for alertd and Prometheus when their hashes differ).
func e2eRules(o e2eOptions) string {
	var b strings.Builder
	b.WriteString("groups:\n")
	for k := range o.Repeats {
		fmt.Fprintf(&b, `- name: e2e-%d
  interval: %s
  rules:
  - alert: %s
    expr: bench_e2e{instance=%q} > 0
    for: %s
    labels: {severity: %s}
    annotations: {summary: "{{ $labels.instance }} is above zero"}
`, k, alertload.PromDuration(o.Eval), e2eAlert, e2eInstance(k), alertload.PromDuration(o.For), e2eSeverity)
	}
	return b.String()
}

func e2eRoute(o e2eOptions, url string) string {
	return alertload.WebhookRoute("alertname, instance", o.GroupWait, url)
}

// runE2E changes one series per repeat from 0 to 1 in a target that one
// Prometheus scrapes; that Prometheus evaluates the rule and notifies an
// Alertmanager, and alertd evaluates the same rule against it and
// delivers itself. Both send to one webhook receiver, which times the
// arrivals from the change.
func runE2E(ctx context.Context, h *harness, o e2eOptions) (*e2eResult, error) {
	res := &e2eResult{Options: o, Alertd: e2eRow{System: "alertd"}, Peer: e2eRow{System: "Prometheus + Alertmanager"}}
	fail := func(err error) (*e2eResult, error) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		res.Alertd.Failure, res.Peer.Failure = err.Error(), err.Error()
		return res, nil
	}
	dir := filepath.Join(h.dir, "e2e")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	target, err := testenv.NewTargetServer("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer func() { _ = target.Close() }()
	initial := map[string]float64{}
	for k := range o.Repeats {
		initial[e2eSeries(k)] = 0
	}
	target.SetMany(initial)

	sink := newE2ESink()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: sink, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	sinkURL := "http://" + ln.Addr().String()

	rules := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rules, []byte(e2eRules(o)), 0o600); err != nil {
		return nil, err
	}
	h.logf("e2e: starting Alertmanager, Prometheus and alertd")
	am, _, err := startAlertmanager(ctx, filepath.Join(dir, "alertmanager"), e2eRoute(o, sinkURL+"/am"))
	if err != nil {
		return fail(err)
	}
	defer func() { _ = am.Stop() }()
	promBin, err := testenv.FindBinary("prometheus")
	if err != nil {
		return nil, err
	}
	prom, err := testenv.RunPrometheus(ctx, promBin, testenv.PrometheusOptions{
		ScrapeTargets:      []string{target.HostPort},
		ScrapeInterval:     o.Scrape,
		EvaluationInterval: o.Eval,
		RuleFiles:          []string{rules},
		AlertmanagerURLs:   []string{am.URL},
		Dir:                filepath.Join(dir, "prometheus"),
		Stdout:             io.Discard,
	})
	if err != nil {
		return fail(fmt.Errorf("start prometheus: %w", err))
	}
	defer func() { _ = prom.Stop() }()

	cfg := filepath.Join(dir, "alertd.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "global: {evaluation_interval: %s}\ndatasource: {url: %s}\nrule_files: [%q]\n%s",
		alertload.PromDuration(o.Eval), prom.URL, rules, e2eRoute(o, sinkURL+"/alertd")), 0o600); err != nil {
		return nil, err
	}
	port, err := testenv.FreePort()
	if err != nil {
		return nil, err
	}
	d, err := daemon.Start(ctx, "alertd", nil, h.alertd, "run", "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "alertd-data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port), "--log.level=warn")
	if err != nil {
		return nil, err
	}
	defer func() { _ = d.Stop() }()
	if err := d.WaitReady(ctx, "http://127.0.0.1:"+strconv.Itoa(port)+"/-/ready"); err != nil {
		return fail(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, scrapeTimeout)
	err = prom.WaitForScrape(waitCtx, fmt.Sprintf("count(bench_e2e == 0) == %d", o.Repeats))
	cancel()
	if err != nil {
		return fail(err)
	}
	// Both have evaluated the rule on the scraped series before the
	// first change.
	if err := warm(ctx, 3*max(o.Eval, o.Scrape), d.Exited()); err != nil {
		return fail(fmt.Errorf("alertd: %w", d.WithOutput(err)))
	}

	for k := range o.Repeats {
		// Start each repeat at another point of the intervals.
		if err := warm(ctx, rand.N(max(o.Eval, o.Scrape)), d.Exited()); err != nil {
			return fail(fmt.Errorf("alertd: %w", d.WithOutput(err)))
		}
		h.logf("e2e: repeat %d of %d", k+1, o.Repeats)
		changed := time.Now()
		target.Set(e2eSeries(k), 1)
		arrived, err := sink.wait(ctx, e2eInstance(k), o.Timeout)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for _, row := range []*e2eRow{&res.Alertd, &res.Peer} {
			if row.Failure != "" {
				continue
			}
			at, ok := arrived[e2eSystem(row)]
			if !ok {
				row.Failure = fmt.Sprintf("repeat %d: no notification for %s within %s: %v", k+1, e2eInstance(k), o.Timeout, err)
				continue
			}
			row.Latencies = append(row.Latencies, at.Sub(changed))
		}
	}
	// Late duplicates or strays show within a group_wait and an
	// evaluation of the last repeat.
	if err := warm(ctx, o.GroupWait+2*o.Eval, nil); err != nil {
		return nil, err
	}
	for _, row := range []*e2eRow{&res.Alertd, &res.Peer} {
		if row.Failure != "" {
			continue
		}
		if err := sink.check(e2eSystem(row), o.Repeats); err != nil {
			row.Failure = err.Error()
			row.Latencies = nil
		}
	}
	if res.Alertd.Failure != "" {
		res.Alertd.Failure += "; alertd output:\n" + daemon.Tail(d.Output(), daemon.LogLines)
	}
	return res, nil
}

// e2eSystem is the sink path of a row's system.
func e2eSystem(row *e2eRow) string {
	if row.System == "alertd" {
		return "alertd"
	}
	return "am"
}

// e2eSink receives the webhooks of both systems (paths /alertd and /am)
// and keeps every alert it was sent.
type e2eSink struct {
	mu       sync.Mutex
	received []e2eNotification
	changed  chan struct{} // closed and replaced at every arrival
}

type e2eNotification struct {
	system string
	at     time.Time
	status string
	labels map[string]string
	alerts int // alerts in the message
}

func newE2ESink() *e2eSink { return &e2eSink{changed: make(chan struct{})} }

// ServeHTTP records a webhook message.
func (s *e2eSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	var msg struct {
		Alerts []struct {
			Status string            `json:"status"`
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&msg); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	system := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	for _, a := range msg.Alerts {
		s.received = append(s.received, e2eNotification{system: system, at: at, status: a.Status, labels: a.Labels, alerts: len(msg.Alerts)})
	}
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// arrivals returns, by system, when the first alert of instance arrived.
func (s *e2eSink) arrivals(instance string) (map[string]time.Time, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Time{}
	for _, n := range s.received {
		if n.labels["instance"] != instance {
			continue
		}
		if t, ok := out[n.system]; !ok || n.at.Before(t) {
			out[n.system] = n.at
		}
	}
	return out, s.changed
}

// wait returns when both systems have sent an alert of instance, or
// timeout has passed, with the arrivals so far.
func (s *e2eSink) wait(ctx context.Context, instance string, timeout time.Duration) (map[string]time.Time, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		got, changed := s.arrivals(instance)
		_, alertd := got["alertd"]
		if _, am := got["am"]; alertd && am {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return got, ctx.Err()
		case <-timer.C:
			return got, fmt.Errorf("arrived from %d of 2 systems", len(got))
		case <-changed:
		}
	}
}

// check returns an error unless system sent exactly one firing alert for
// each of the repeats, with exactly the expected labels, one alert per
// message.
func (s *e2eSink) check(system string, repeats int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]int{}
	for _, n := range s.received {
		if n.system != system {
			continue
		}
		k, err := strconv.Atoi(strings.TrimPrefix(n.labels["instance"], "e2e-"))
		if err != nil || k < 0 || k >= repeats {
			return fmt.Errorf("unexpected notification with labels %v", n.labels)
		}
		if !maps.Equal(n.labels, e2eWant(k)) {
			return fmt.Errorf("notification for %s has labels %v, want %v", e2eInstance(k), n.labels, e2eWant(k))
		}
		if n.status != "firing" || n.alerts != 1 {
			return fmt.Errorf("notification for %s: status %q, %d alerts in the message; want firing, 1", e2eInstance(k), n.status, n.alerts)
		}
		seen[e2eInstance(k)]++
	}
	for k := range repeats {
		if c := seen[e2eInstance(k)]; c != 1 {
			return fmt.Errorf("%d notifications for %s, want 1", c, e2eInstance(k))
		}
	}
	return nil
}

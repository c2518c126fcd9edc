package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// groupMetrics is what a rule evaluator's /metrics says about its rule
// groups. alertd and Prometheus name these metrics alike, with their own
// prefix: <prefix>_rule_group_last_duration_seconds{rule_group} and so on.
type groupMetrics struct {
	// LastDuration and LastEval are, by rule group, the duration of the
	// group's last evaluation and when it started (Unix seconds).
	LastDuration, LastEval map[string]float64
	// Sums over the groups of the counters.
	Iterations, Missed, Failures float64
	// Firing is alertd_alerts{state="firing"}; -1 if the metric is absent.
	Firing float64
	// vmalert's figures, which have no per-group last duration: firing
	// alerts by rule name (vmalert_alerts_firing), and its evaluation
	// summary summed over groups (vmalert_iteration_duration_seconds): sum
	// and count, and the largest quantile="1". FromSummaries says these
	// are the figures to use.
	FiringByRule                            map[string]float64
	DurationSum, DurationCount, DurationMax float64
	FromSummaries                           bool
}

// metricsParser reads one system's /metrics.
type metricsParser func(io.Reader) (groupMetrics, error)

// groupMetricsParser parses the metrics of alertd ("alertd") or
// Prometheus ("prometheus").
func groupMetricsParser(prefix string) metricsParser {
	return func(r io.Reader) (groupMetrics, error) { return parseGroupMetrics(r, prefix) }
}

// parseFamilies reads the text exposition format.
func parseFamilies(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return families, nil
}

// parseVMAlertMetrics reads vmalert's /metrics.
func parseVMAlertMetrics(r io.Reader) (groupMetrics, error) {
	families, err := parseFamilies(r)
	if err != nil {
		return groupMetrics{}, err
	}
	m := groupMetrics{FiringByRule: map[string]float64{}, Firing: 0, FromSummaries: true}
	sum := func(name string) float64 {
		var t float64
		for _, s := range metricsOf(families[name]) {
			t += value(s)
		}
		return t
	}
	for _, s := range metricsOf(families["vmalert_alerts_firing"]) {
		m.FiringByRule[label(s, "alertname")] += value(s)
		m.Firing += value(s)
	}
	m.Iterations = sum("vmalert_iteration_total")
	m.Missed = sum("vmalert_iteration_missed_total")
	m.Failures = sum("vmalert_execution_errors_total") + sum("vmalert_alerting_rules_error")
	m.DurationSum = sum("vmalert_iteration_duration_seconds_sum")
	m.DurationCount = sum("vmalert_iteration_duration_seconds_count")
	for _, s := range metricsOf(families["vmalert_iteration_duration_seconds"]) {
		if label(s, "quantile") == "1" {
			m.DurationMax = max(m.DurationMax, value(s))
		}
	}
	return m, nil
}

// parseGroupMetrics reads the metrics of alertd or Prometheus, whose names
// start with prefix.
func parseGroupMetrics(r io.Reader, prefix string) (groupMetrics, error) {
	families, err := parseFamilies(r)
	if err != nil {
		return groupMetrics{}, err
	}
	m := groupMetrics{LastDuration: map[string]float64{}, LastEval: map[string]float64{}, Firing: -1}
	byGroup := func(name string, into map[string]float64) {
		for _, s := range metricsOf(families[prefix+name]) {
			into[label(s, "rule_group")] = value(s)
		}
	}
	sum := func(name string) float64 {
		var t float64
		for _, s := range metricsOf(families[prefix+name]) {
			t += value(s)
		}
		return t
	}
	byGroup("_rule_group_last_duration_seconds", m.LastDuration)
	byGroup("_rule_group_last_evaluation_timestamp_seconds", m.LastEval)
	m.Iterations = sum("_rule_group_iterations_total")
	m.Missed = sum("_rule_group_iterations_missed_total")
	m.Failures = sum("_rule_evaluation_failures_total")
	for _, s := range metricsOf(families[prefix+"_alerts"]) {
		if label(s, "state") == "firing" {
			m.Firing = value(s)
		}
	}
	return m, nil
}

func metricsOf(f *dto.MetricFamily) []*dto.Metric {
	if f == nil {
		return nil
	}
	return f.GetMetric()
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// value is the value of a gauge, counter or untyped sample.
func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	return math.NaN()
}

// fetchGroupMetrics reads url (a /metrics endpoint).
func fetchGroupMetrics(ctx context.Context, client *http.Client, url string, parse metricsParser) (groupMetrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return groupMetrics{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return groupMetrics{}, fmt.Errorf("GET %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return groupMetrics{}, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	m, err := parse(resp.Body)
	if err != nil {
		return groupMetrics{}, fmt.Errorf("GET %s: %w", url, err)
	}
	return m, nil
}

// groupStats sums up a window of samples of groupMetrics.
type groupStats struct {
	// Groups is how many rule groups reported; Evaluations, how many
	// distinct group evaluations the samples saw.
	Groups, Evaluations int
	// Median and Max are of the duration of one group's evaluation. From
	// vmalert's summaries, Mean is set instead of Median, and Max is the
	// largest of the summaries' recent maxima.
	Median, Mean, Max time.Duration
	// Iterations and Missed are the growth of the counters over the
	// window.
	Iterations, Missed float64
}

// summarize computes the stats of samples taken in order over a window;
// only evaluations that started at or after from count.
func summarize(samples []groupMetrics, from time.Time) groupStats {
	if len(samples) == 0 {
		return groupStats{}
	}
	type eval struct {
		group string
		at    float64
	}
	seen := map[eval]float64{}
	groups := map[string]bool{}
	fromUnix := float64(from.UnixNano()) / 1e9
	for _, s := range samples {
		for g, at := range s.LastEval {
			groups[g] = true
			if at < fromUnix || at == 0 {
				continue
			}
			if d, ok := s.LastDuration[g]; ok {
				seen[eval{g, at}] = d
			}
		}
	}
	durations := make([]float64, 0, len(seen))
	for _, d := range seen {
		durations = append(durations, d)
	}
	slices.Sort(durations)
	first, last := samples[0], samples[len(samples)-1]
	if last.FromSummaries {
		st := groupStats{
			Evaluations: int(math.Round(last.DurationCount - first.DurationCount)),
			Iterations:  last.Iterations - first.Iterations,
			Missed:      last.Missed - first.Missed,
			Max:         seconds(last.DurationMax),
		}
		if st.Evaluations > 0 {
			st.Mean = seconds((last.DurationSum - first.DurationSum) / (last.DurationCount - first.DurationCount))
		}
		return st
	}
	st := groupStats{
		Groups:      len(groups),
		Evaluations: len(durations),
		Iterations:  last.Iterations - first.Iterations,
		Missed:      last.Missed - first.Missed,
	}
	if len(durations) > 0 {
		st.Median = seconds(median(durations))
		st.Max = seconds(durations[len(durations)-1])
	}
	return st
}

// median of sorted values.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// sampler reads a /metrics endpoint every interval in the background.
type sampler struct {
	mu      sync.Mutex
	samples []groupMetrics
	errs    int
	lastErr error
	cancel  context.CancelFunc
	done    chan struct{}
}

// startSampler takes a first sample at once, then one every interval
// until stop.
func startSampler(ctx context.Context, client *http.Client, url string, parse metricsParser, every time.Duration) *sampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &sampler{cancel: cancel, done: make(chan struct{})}
	take := func() {
		m, err := fetchGroupMetrics(ctx, client, url, parse)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			if ctx.Err() == nil {
				s.errs++
				s.lastErr = err
			}
			return
		}
		s.samples = append(s.samples, m)
	}
	take()
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				take()
			}
		}
	}()
	return s
}

// stop ends the sampling, takes a last sample and returns them all, with
// the last error if some samples could not be taken.
func (s *sampler) stop(ctx context.Context, client *http.Client, url string, parse metricsParser) ([]groupMetrics, error) {
	s.cancel()
	<-s.done
	m, err := fetchGroupMetrics(ctx, client, url, parse)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		return s.samples, err
	}
	s.samples = append(s.samples, m)
	if s.errs > 0 {
		return s.samples, fmt.Errorf("%d samples of %s failed, the last: %w", s.errs, url, s.lastErr)
	}
	return s.samples, nil
}

package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const alertdMetrics = `# HELP alertd_alerts The number of pending and firing alerts.
# TYPE alertd_alerts gauge
alertd_alerts{state="firing"} 10000
alertd_alerts{state="pending"} 0
# TYPE alertd_rule_evaluation_failures_total counter
alertd_rule_evaluation_failures_total{rule_group="rules.yml;bench-0"} 0
alertd_rule_evaluation_failures_total{rule_group="rules.yml;bench-1"} 2
# TYPE alertd_rule_group_iterations_missed_total counter
alertd_rule_group_iterations_missed_total{rule_group="rules.yml;bench-0"} 1
alertd_rule_group_iterations_missed_total{rule_group="rules.yml;bench-1"} 0
# TYPE alertd_rule_group_iterations_total counter
alertd_rule_group_iterations_total{rule_group="rules.yml;bench-0"} 12
alertd_rule_group_iterations_total{rule_group="rules.yml;bench-1"} 11
# TYPE alertd_rule_group_last_duration_seconds gauge
alertd_rule_group_last_duration_seconds{rule_group="rules.yml;bench-0"} 0.012
alertd_rule_group_last_duration_seconds{rule_group="rules.yml;bench-1"} 0.03
# TYPE alertd_rule_group_last_evaluation_timestamp_seconds gauge
alertd_rule_group_last_evaluation_timestamp_seconds{rule_group="rules.yml;bench-0"} 1000
alertd_rule_group_last_evaluation_timestamp_seconds{rule_group="rules.yml;bench-1"} 1001.5
# TYPE go_goroutines gauge
go_goroutines 42
`

func TestParseGroupMetrics(t *testing.T) {
	t.Run("alertd", func(t *testing.T) {
		got, err := parseGroupMetrics(strings.NewReader(alertdMetrics), "alertd")
		if err != nil {
			t.Fatal(err)
		}
		want := groupMetrics{
			LastDuration: map[string]float64{"rules.yml;bench-0": 0.012, "rules.yml;bench-1": 0.03},
			LastEval:     map[string]float64{"rules.yml;bench-0": 1000, "rules.yml;bench-1": 1001.5},
			Iterations:   23, Missed: 1, Failures: 2, Firing: 10000,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("prometheus prefix", func(t *testing.T) {
		text := strings.ReplaceAll(alertdMetrics, "alertd_rule", "prometheus_rule")
		got, err := parseGroupMetrics(strings.NewReader(text), "prometheus")
		if err != nil {
			t.Fatal(err)
		}
		if got.Iterations != 23 || got.Missed != 1 || len(got.LastDuration) != 2 || got.Firing != -1 {
			t.Errorf("got %+v, want 23 iterations, 1 missed, 2 groups, no firing gauge", got)
		}
	})
	t.Run("other prefix finds nothing", func(t *testing.T) {
		got, err := parseGroupMetrics(strings.NewReader(alertdMetrics), "vmalert")
		if err != nil {
			t.Fatal(err)
		}
		if len(got.LastDuration) != 0 || got.Iterations != 0 || got.Firing != -1 {
			t.Errorf("got %+v, want nothing", got)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		if _, err := parseGroupMetrics(strings.NewReader("alertd_alerts{state=\"firing\" 1\n"), "alertd"); err == nil {
			t.Error("no error")
		}
	})
}

// vmalertMetrics is vmalert 1.79's format: no TYPE lines, a space after
// the commas between labels.
const vmalertMetrics = `vmalert_alerting_rules_error{alertname="BenchAlert0", group="bench-0", id="1"} 0
vmalert_alerting_rules_error{alertname="BenchAlert1", group="bench-0", id="2"} 0
vmalert_alerts_firing{alertname="BenchAlert0", group="bench-0", id="1"} 50
vmalert_alerts_firing{alertname="BenchAlert1", group="bench-0", id="2"} 49
vmalert_alerts_pending{alertname="BenchAlert0", group="bench-0", id="1"} 0
vmalert_execution_errors_total 1
vmalert_iteration_duration_seconds{group="bench-0", file="/r.yml",quantile="0.5"} 0.004
vmalert_iteration_duration_seconds{group="bench-0", file="/r.yml",quantile="1"} 0.007
vmalert_iteration_duration_seconds{group="bench-1", file="/r.yml",quantile="1"} 0.009
vmalert_iteration_duration_seconds_sum{group="bench-0", file="/r.yml"} 0.02
vmalert_iteration_duration_seconds_count{group="bench-0", file="/r.yml"} 4
vmalert_iteration_duration_seconds_sum{group="bench-1", file="/r.yml"} 0.03
vmalert_iteration_duration_seconds_count{group="bench-1", file="/r.yml"} 6
vmalert_iteration_missed_total{group="bench-0", file="/r.yml"} 2
vmalert_iteration_total{group="bench-0", file="/r.yml"} 4
vmalert_iteration_total{group="bench-1", file="/r.yml"} 6
`

func TestParseVMAlertMetrics(t *testing.T) {
	got, err := parseVMAlertMetrics(strings.NewReader(vmalertMetrics))
	if err != nil {
		t.Fatal(err)
	}
	want := groupMetrics{
		FiringByRule: map[string]float64{"BenchAlert0": 50, "BenchAlert1": 49}, Firing: 99,
		Iterations: 10, Missed: 2, Failures: 1,
		DurationSum: 0.05, DurationCount: 10, DurationMax: 0.009, FromSummaries: true,
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	later := got
	later.DurationSum, later.DurationCount, later.Iterations, later.Missed = 0.11, 13, 13, 3
	st := summarize([]groupMetrics{got, later}, time.Time{})
	wantStats := groupStats{Evaluations: 3, Mean: 20 * time.Millisecond, Max: 9 * time.Millisecond, Iterations: 3, Missed: 1}
	if diff := cmp.Diff(wantStats, st, cmpopts.EquateApproxTime(time.Microsecond)); diff != "" {
		t.Errorf("summarize (-want +got):\n%s", diff)
	}
}

func TestSummarize(t *testing.T) {
	from := time.Unix(1000, 0)
	sample := func(iter, missed float64, evals map[string][2]float64) groupMetrics {
		m := groupMetrics{LastDuration: map[string]float64{}, LastEval: map[string]float64{}, Iterations: iter, Missed: missed}
		for g, e := range evals {
			m.LastEval[g], m.LastDuration[g] = e[0], e[1]
		}
		return m
	}
	samples := []groupMetrics{
		sample(10, 1, map[string][2]float64{"a": {995, 0.5}, "b": {1000, 0.010}}),    // a's evaluation is before the window
		sample(12, 1, map[string][2]float64{"a": {1005, 0.020}, "b": {1000, 0.010}}), // b seen again: one evaluation
		sample(14, 3, map[string][2]float64{"a": {1010, 0.040}, "b": {1010, 0.030}}),
	}
	got := summarize(samples, from)
	want := groupStats{Groups: 2, Evaluations: 4, Median: 25 * time.Millisecond, Max: 40 * time.Millisecond, Iterations: 4, Missed: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := summarize(nil, from); got != (groupStats{}) {
		t.Errorf("summarize(nil) = %+v, want zero", got)
	}
}

func TestSampler(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(alertdMetrics))
	}))
	defer srv.Close()
	client := srv.Client()
	parse := groupMetricsParser("alertd")
	s := startSampler(t.Context(), client, srv.URL, parse, time.Millisecond)
	samples, err := s.stop(t.Context(), client, srv.URL, parse)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < 2 || samples[len(samples)-1].Firing != 10000 {
		t.Errorf("%d samples, the last %+v; want the first and the last at least", len(samples), samples[len(samples)-1])
	}

	bad := httptest.NewServer(http.NotFoundHandler())
	defer bad.Close()
	s = startSampler(t.Context(), bad.Client(), bad.URL, parse, time.Hour)
	if _, err := s.stop(t.Context(), bad.Client(), bad.URL, parse); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("stop() = %v, want the 404", err)
	}
}

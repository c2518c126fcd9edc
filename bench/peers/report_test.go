package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alertd/alertd/bench/internal/alertload"
	"github.com/alertd/alertd/bench/internal/proc"
	"github.com/alertd/alertd/bench/internal/ruleload"
)

// sampleReport has every scenario, one system of each kind failing
// somewhere, so that the golden file shows figures, ratios and failures.
func sampleReport() *report {
	load := ruleload.Load{Rules: 200, Series: 50, Groups: 10, Interval: 5 * time.Second}
	nan := math.NaN()
	stats := &groupStats{Groups: 10, Evaluations: 120, Median: 12500 * time.Microsecond, Max: 31 * time.Millisecond, Iterations: 120, Missed: 0}
	opts := alertload.Options{Alerts: 100_000, Batch: 1000, Groups: 10_000, GroupWait: 10 * time.Second}
	return &report{
		Date: time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC),
		Machine: machine{
			CPUs: 2, CPUModel: "AMD EPYC 7B13", Kernel: "6.1.0", GoVersion: "go1.26.8", Load: "0.42", Commit: "0123456789ab",
			Peers: []peer{
				{Name: "Prometheus", Package: "prometheus", Version: "2.42.0+ds-5"},
				{Name: "Alertmanager", Package: "prometheus-alertmanager", Version: "0.25.0-1"},
				{Name: "vmalert", Package: "victoria-metrics", Version: "1.79.5+ds1-2"},
			},
		},
		Evals: []evalResult{
			{
				evalSpec: evalSpec{Load: load, Scrape: 5 * time.Second, Warmup: 20 * time.Second, Window: time.Minute},
				Alertd:   evalRow{System: "alertd", CPU: 1.5, PeakRSS: 43.6, Stats: stats, DatasourceCPU: 3.2},
				VMAlert: evalRow{System: "vmalert", CPU: 72, PeakRSS: 34.1, DatasourceCPU: 2.9, Notifier: &proc.Usage{CPU: 30, Elapsed: time.Minute, PeakRSS: 120},
					Stats: &groupStats{Evaluations: 118, Mean: 41 * time.Millisecond, Max: 95 * time.Millisecond, Iterations: 120, Missed: 2}},
				Prometheus: evalRow{System: "Prometheus's rule manager (with the rules − without)", CPU: 2.1, PeakRSS: 35, Stats: stats, DatasourceCPU: nan,
					Notifier: &proc.Usage{CPU: 0.5, Elapsed: time.Minute, PeakRSS: 60}, Note: "A note."},
			},
			{
				evalSpec: evalSpec{
					Load:   ruleload.Load{Rules: 2000, Series: 50, Groups: 100, Interval: time.Minute},
					Scrape: 15 * time.Second, Warmup: 70 * time.Second, Window: time.Minute,
				},
				Alertd:     evalRow{System: "alertd", CPU: 15, PeakRSS: 180, Stats: stats, DatasourceCPU: 30},
				VMAlert:    evalRow{System: "vmalert", Failure: "GET /api/v2/alerts: 99,000 alerts, want 100,000 active | more\nlines"},
				Prometheus: evalRow{System: "Prometheus's rule manager (with the rules − without)", CPU: 20, PeakRSS: 300, DatasourceCPU: nan},
			},
		},
		Notify: &notifyResult{
			Options: opts,
			Alertmanager: notifyRow{System: "Alertmanager", Result: &alertload.Result{
				Ingest: 2500 * time.Millisecond, Delivery: 2600 * time.Millisecond, PeakRSS: 370, CPU: 7.1, Delivered: 100_000, Distinct: 100_000, Requests: 10_000,
			}},
			Alertd: notifyRow{System: "alertd", Result: &alertload.Result{
				Ingest: 400 * time.Millisecond, Delivery: 1100 * time.Millisecond, PeakRSS: 92, CPU: 1.6, Delivered: 100_000, Distinct: 100_000, Requests: 10_000,
			}},
		},
		E2E: &e2eResult{
			Options: e2eOptions{Repeats: 3, Scrape: time.Second, Eval: time.Second, GroupWait: time.Second},
			Alertd:  e2eRow{System: "alertd", Latencies: []time.Duration{1500 * time.Millisecond, 2 * time.Second, 1200 * time.Millisecond}},
			Peer:    e2eRow{System: "Prometheus + Alertmanager", Latencies: []time.Duration{1700 * time.Millisecond, 2100 * time.Millisecond, 1600 * time.Millisecond}},
		},
	}
}

func TestMarkdownGolden(t *testing.T) {
	got := sampleReport().Markdown()
	golden := filepath.Join("testdata", "report.md")
	if os.Getenv("ALERTD_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (ALERTD_UPDATE_GOLDEN=1 go test ./bench/peers/ writes it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("markdown differs from %s (-want +got; ALERTD_UPDATE_GOLDEN=1 rewrites it):\n%s", golden, diff)
	}
}

func TestMarkdownFailures(t *testing.T) {
	r := sampleReport()
	if !r.Failed() {
		t.Error("Failed() = false with a failed vmalert row")
	}
	md := r.Markdown()
	for _, want := range []string{
		"| vmalert | FAILED: GET /api/v2/alerts: 99,000 alerts, want 100,000 active \\| more lines |",
		"| evaluation CPU, 2,000 rules × 50: alertd / vmalert | – | – | – | ≤ 0.2 | not measured (vmalert failed) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	r.Evals = r.Evals[:1]
	if r.Failed() {
		t.Error("Failed() = true without a failed row")
	}
}

func TestTargets(t *testing.T) {
	got := map[string]string{}
	for _, tg := range sampleReport().Targets() {
		got[tg.What] = tg.Status()
	}
	want := map[string]string{
		"evaluation CPU, 200 rules × 50: alertd / vmalert":                     "met",
		"evaluation CPU, 200 rules × 50: alertd / Prometheus's rule manager":   "met",
		"evaluation CPU, 2,000 rules × 50: alertd / vmalert":                   "not measured",
		"evaluation CPU, 2,000 rules × 50: alertd / Prometheus's rule manager": "met",
		"ingest throughput, 100,000 alerts: alertd / Alertmanager":             "met",
		"flush to last delivery: alertd / Alertmanager":                        "missed",
		"peak RSS at 100,000 alerts: alertd / Alertmanager":                    "met",
		"end-to-end latency (median): alertd / Prometheus + Alertmanager":      "met",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("target statuses (-want +got):\n%s", diff)
	}
}

func TestTargetStatus(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name      string
		tg        target
		wantRatio float64
		want      string
	}{
		{"at most, below", target{Alertd: 1, Peer: 10, AtMost: true, Bound: 0.2}, 0.1, "met"},
		{"at most, equal", target{Alertd: 2, Peer: 10, AtMost: true, Bound: 0.2}, 0.2, "met"},
		{"at most, above", target{Alertd: 3, Peer: 10, AtMost: true, Bound: 0.2}, 0.3, "missed"},
		{"at least, above", target{Alertd: 60, Peer: 10, Bound: 5}, 6, "met"},
		{"at least, below", target{Alertd: 40, Peer: 10, Bound: 5}, 4, "missed"},
		{"peer zero", target{Alertd: 1, Peer: 0, AtMost: true, Bound: 1}, nan, "not measured"},
		{"peer negative (noise in a difference)", target{Alertd: 1, Peer: -0.5, AtMost: true, Bound: 1}, nan, "not measured"},
		{"alertd NaN", target{Alertd: nan, Peer: 1, AtMost: true, Bound: 1}, nan, "not measured"},
		{"failure", target{Alertd: 1, Peer: 10, AtMost: true, Bound: 1, Failure: "boom"}, nan, "not measured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.tg.Ratio()
			if math.IsNaN(tc.wantRatio) != math.IsNaN(r) || !math.IsNaN(r) && math.Abs(r-tc.wantRatio) > 1e-9 {
				t.Errorf("Ratio() = %v, want %v", r, tc.wantRatio)
			}
			if got := tc.tg.Status(); got != tc.want {
				t.Errorf("Status() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestE2ERowStats(t *testing.T) {
	for _, tc := range []struct {
		name        string
		latencies   []time.Duration
		median, max time.Duration
	}{
		{"none", nil, 0, 0},
		{"odd", []time.Duration{3, 1, 2}, 2, 3},
		{"even", []time.Duration{4, 1, 3, 2}, 2, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e2eRow{Latencies: tc.latencies}
			if r.Median() != tc.median || r.Max() != tc.max {
				t.Errorf("median, max = %v, %v; want %v, %v", r.Median(), r.Max(), tc.median, tc.max)
			}
		})
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{num(math.NaN()), "–"},
		{num(0), "0"},
		{num(0.01234), "0.012"},
		{num(1.5), "1.50"},
		{num(43.56), "43.6"},
		{num(183893.4), "183,893"},
		{count(120), "120"},
		{ratio(0.02083), "0.021"},
		{ratio(12.345), "12.3"},
		{ratio(math.Inf(1)), "–"},
		{thousands(0), "0"},
		{thousands(999), "999"},
		{thousands(1000), "1,000"},
		{thousands(-1234567), "-1,234,567"},
		{cell("a | b\n  c"), `a \| b c`},
		{ms(12500 * time.Microsecond), "12.5"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if long := cell(strings.Repeat("x", 400)); len([]rune(long)) != 301 {
		t.Errorf("cell of 400 characters has %d, want 300 and an ellipsis", len([]rune(long)))
	}
}

package eval

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics is the manager's collector: per-group figures are read from the
// groups at scrape time, so removed groups disappear with them.
type metrics struct {
	m *Manager

	evalDuration prometheus.Summary

	lastDuration  *prometheus.Desc
	interval      *prometheus.Desc
	lastEvalTS    *prometheus.Desc
	rulesCount    *prometheus.Desc
	iterations    *prometheus.Desc
	missed        *prometheus.Desc
	evaluations   *prometheus.Desc
	failures      *prometheus.Desc
	alertsByState *prometheus.Desc
	rulesByHealth *prometheus.Desc
}

func newMetrics(m *Manager) *metrics {
	group := []string{"rule_group"}
	return &metrics{
		m: m,
		evalDuration: prometheus.NewSummary(prometheus.SummaryOpts{
			Name:       "alertd_rule_evaluation_duration_seconds",
			Help:       "The duration of one rule evaluation, query included.",
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001},
		}),
		lastDuration:  prometheus.NewDesc("alertd_rule_group_last_duration_seconds", "The duration of the last evaluation of the group.", group, nil),
		interval:      prometheus.NewDesc("alertd_rule_group_interval_seconds", "The interval of the group.", group, nil),
		lastEvalTS:    prometheus.NewDesc("alertd_rule_group_last_evaluation_timestamp_seconds", "The timestamp of the last evaluation of the group.", group, nil),
		rulesCount:    prometheus.NewDesc("alertd_rule_group_rules", "The number of rules of the group.", group, nil),
		iterations:    prometheus.NewDesc("alertd_rule_group_iterations_total", "The number of scheduled evaluations of the group, missed ones included.", group, nil),
		missed:        prometheus.NewDesc("alertd_rule_group_iterations_missed_total", "The number of evaluations of the group skipped because the previous one overran.", group, nil),
		evaluations:   prometheus.NewDesc("alertd_rule_evaluations_total", "The number of rule evaluations of the group.", group, nil),
		failures:      prometheus.NewDesc("alertd_rule_evaluation_failures_total", "The number of failed rule evaluations of the group.", group, nil),
		alertsByState: prometheus.NewDesc("alertd_alerts", "The number of pending and firing alerts.", []string{"state"}, nil),
		rulesByHealth: prometheus.NewDesc("alertd_rules", "The number of rules by health.", []string{"health"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *metrics) Describe(ch chan<- *prometheus.Desc) {
	c.evalDuration.Describe(ch)
	for _, d := range []*prometheus.Desc{c.lastDuration, c.interval, c.lastEvalTS, c.rulesCount, c.iterations, c.missed, c.evaluations, c.failures, c.alertsByState, c.rulesByHealth} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *metrics) Collect(ch chan<- prometheus.Metric) {
	c.evalDuration.Collect(ch)
	var pending, firing int
	health := map[Health]int{HealthGood: 0, HealthBad: 0, HealthUnknown: 0}
	for _, g := range c.m.Groups() {
		k := g.key()
		g.mu.Lock()
		last, dur := g.lastEvaluation, g.evalDuration
		g.mu.Unlock()
		lastTS := 0.0
		if !last.IsZero() {
			lastTS = float64(last.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(c.lastDuration, prometheus.GaugeValue, dur.Seconds(), k)
		ch <- prometheus.MustNewConstMetric(c.interval, prometheus.GaugeValue, g.interval.Seconds(), k)
		ch <- prometheus.MustNewConstMetric(c.lastEvalTS, prometheus.GaugeValue, lastTS, k)
		ch <- prometheus.MustNewConstMetric(c.rulesCount, prometheus.GaugeValue, float64(len(g.order)), k)
		ch <- prometheus.MustNewConstMetric(c.iterations, prometheus.CounterValue, float64(g.iterations.Load()), k)
		ch <- prometheus.MustNewConstMetric(c.missed, prometheus.CounterValue, float64(g.iterationsMissed.Load()), k)
		ch <- prometheus.MustNewConstMetric(c.evaluations, prometheus.CounterValue, float64(g.evaluations.Load()), k)
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(g.failures.Load()), k)
		for _, r := range g.alerting {
			r.mu.Lock()
			health[r.health]++
			for _, a := range r.active {
				switch a.State {
				case StatePending:
					pending++
				case StateFiring:
					firing++
				}
			}
			r.mu.Unlock()
		}
		health[HealthUnknown] += len(g.recording)
	}
	ch <- prometheus.MustNewConstMetric(c.alertsByState, prometheus.GaugeValue, float64(pending), "pending")
	ch <- prometheus.MustNewConstMetric(c.alertsByState, prometheus.GaugeValue, float64(firing), "firing")
	for h, n := range health {
		ch <- prometheus.MustNewConstMetric(c.rulesByHealth, prometheus.GaugeValue, float64(n), string(h))
	}
}

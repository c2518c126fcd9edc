package forward

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertd/alertd/internal/promreg"
)

const alertmanagerLabel = "alertmanager"

// metrics mirrors Prometheus's prometheus_notifications_* metrics. Series
// labelled by Alertmanager carry the target's API endpoint with any userinfo
// removed, e.g. http://am:9093/api/v2/alerts.
type metrics struct {
	sent          *prometheus.CounterVec
	errors        *prometheus.CounterVec
	latency       *prometheus.SummaryVec
	dropped       prometheus.Counter
	queueLength   prometheus.Gauge
	queueCapacity prometheus.Gauge
	discovered    prometheus.Gauge
}

func newMetrics(r prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertd_notifications_sent_total",
			Help: "Total number of alerts accepted by an Alertmanager.",
		}, []string{alertmanagerLabel}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertd_notifications_errors_total",
			Help: "Total number of alerts an Alertmanager did not accept (network error, timeout or non-2xx status).",
		}, []string{alertmanagerLabel}),
		latency: prometheus.NewSummaryVec(prometheus.SummaryOpts{
			Name:       "alertd_notifications_latency_seconds",
			Help:       "Latency quantiles of successful alert batch posts to an Alertmanager.",
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001},
		}, []string{alertmanagerLabel}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "alertd_notifications_dropped_total",
			Help: "Total number of alerts dropped: queue overflow, no Alertmanager accepted the batch, or not drained at shutdown.",
		}),
		queueLength: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "alertd_notifications_queue_length",
			Help: "The number of alerts waiting in the queue.",
		}),
		queueCapacity: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "alertd_notifications_queue_capacity",
			Help: "The capacity of the alert queue.",
		}),
		discovered: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "alertd_notifications_alertmanagers_discovered",
			Help: "The number of Alertmanagers alerts are forwarded to.",
		}),
	}
	if r == nil {
		return m, nil
	}
	var err error
	if m.sent, err = promreg.Register(r, m.sent); err != nil {
		return nil, err
	}
	if m.errors, err = promreg.Register(r, m.errors); err != nil {
		return nil, err
	}
	if m.latency, err = promreg.Register(r, m.latency); err != nil {
		return nil, err
	}
	if m.dropped, err = promreg.Register(r, m.dropped); err != nil {
		return nil, err
	}
	if m.queueLength, err = promreg.Register(r, m.queueLength); err != nil {
		return nil, err
	}
	if m.queueCapacity, err = promreg.Register(r, m.queueCapacity); err != nil {
		return nil, err
	}
	if m.discovered, err = promreg.Register(r, m.discovered); err != nil {
		return nil, err
	}
	return m, nil
}

// deleteTarget removes the series of an Alertmanager no longer configured.
func (m *metrics) deleteTarget(name string) {
	m.sent.DeleteLabelValues(name)
	m.errors.DeleteLabelValues(name)
	m.latency.DeleteLabelValues(name)
}

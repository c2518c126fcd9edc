package notify

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertd/alertd/internal/promreg"
)

// Suppression reasons: the reason label of
// alertd_notifications_suppressed_total, Alertmanager's values.
const (
	suppressedInhibition         = "inhibition"
	suppressedSilence            = "silence"
	suppressedActiveTimeInterval = "active_time_interval"
	suppressedMuteTimeInterval   = "mute_time_interval"
)

// metrics mirrors Alertmanager's alertmanager_notification* metrics.
type metrics struct {
	notifications  *prometheus.CounterVec   // {integration}
	failed         *prometheus.CounterVec   // {integration, reason}
	requests       *prometheus.CounterVec   // {integration}
	requestsFailed *prometheus.CounterVec   // {integration}
	suppressed     *prometheus.CounterVec   // {reason}
	latency        *prometheus.HistogramVec // {integration}
}

func newMetrics(r prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertd_notifications_total",
			Help: "The total number of attempted notifications: flushes that the notification log let through to an integration.",
		}, []string{"integration"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertd_notifications_failed_total",
			Help: "The total number of failed notifications, after their retries.",
		}, []string{"integration", "reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertd_notification_requests_total",
			Help: "The total number of attempted notification requests, retries included.",
		}, []string{"integration"}),
		requestsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertd_notification_requests_failed_total",
			Help: "The total number of failed notification requests, retries included.",
		}, []string{"integration"}),
		suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertd_notifications_suppressed_total",
			Help: "The total number of alerts kept out of notifications for being inhibited, silenced, outside of active time intervals or within mute time intervals.",
		}, []string{"reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "alertd_notification_latency_seconds",
			Help:    "The latency of notification requests in seconds.",
			Buckets: []float64{1, 5, 10, 15, 20},
		}, []string{"integration"}),
	}
	var err error
	if m.notifications, err = promreg.Register(r, m.notifications); err != nil {
		return nil, err
	}
	if m.failed, err = promreg.Register(r, m.failed); err != nil {
		return nil, err
	}
	if m.requests, err = promreg.Register(r, m.requests); err != nil {
		return nil, err
	}
	if m.requestsFailed, err = promreg.Register(r, m.requestsFailed); err != nil {
		return nil, err
	}
	if m.suppressed, err = promreg.Register(r, m.suppressed); err != nil {
		return nil, err
	}
	if m.latency, err = promreg.Register(r, m.latency); err != nil {
		return nil, err
	}
	for _, reason := range []string{suppressedInhibition, suppressedSilence, suppressedActiveTimeInterval, suppressedMuteTimeInterval} {
		m.suppressed.WithLabelValues(reason)
	}
	return m, nil
}

// initIntegration creates the series of an integration kind at zero.
func (m *metrics) initIntegration(name string) {
	m.notifications.WithLabelValues(name)
	m.requests.WithLabelValues(name)
	m.requestsFailed.WithLabelValues(name)
	m.latency.WithLabelValues(name)
	for _, r := range allReasons() {
		m.failed.WithLabelValues(name, string(r))
	}
}

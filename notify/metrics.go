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

	// The series of each integration kind of the receivers, made by
	// New and only read after.
	integrations map[string]*integrationMetrics
}

func newMetrics(r prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		integrations: map[string]*integrationMetrics{},
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

// integrationMetrics are the series of one integration kind, looked up
// once: WithLabelValues hashes its values and takes a lock at every call.
type integrationMetrics struct {
	notifications, requests, requestsFailed prometheus.Counter
	latency                                 prometheus.Observer
}

// initIntegration creates the series of an integration kind at zero and
// keeps them in m.integrations.
func (m *metrics) initIntegration(name string) {
	if m.integrations[name] != nil {
		return
	}
	m.integrations[name] = m.lookUpIntegration(name)
	for _, r := range allReasons() {
		m.failed.WithLabelValues(name, string(r))
	}
}

// integration returns the series of an integration kind; New has made
// those of every integration of its receivers.
func (m *metrics) integration(name string) *integrationMetrics {
	if im := m.integrations[name]; im != nil {
		return im
	}
	return m.lookUpIntegration(name)
}

func (m *metrics) lookUpIntegration(name string) *integrationMetrics {
	return &integrationMetrics{
		notifications:  m.notifications.WithLabelValues(name),
		requests:       m.requests.WithLabelValues(name),
		requestsFailed: m.requestsFailed.WithLabelValues(name),
		latency:        m.latency.WithLabelValues(name),
	}
}

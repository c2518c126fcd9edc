package datasource

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertd/alertd/internal/promreg"
)

// metrics are a Client's metrics. Every Client built on the same Registerer
// shares the same collectors: registering them again (a config reload builds
// a new Client) reuses the ones already registered.
type metrics struct {
	duration prometheus.Histogram
	success  prometheus.Counter
	failure  prometheus.Counter
	warnings prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	duration, err := promreg.Register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "alertd_datasource_request_duration_seconds",
		Help:    "Duration of instant queries to the datasource, from sending the request to decoding the response, failures included.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
	}))
	if err != nil {
		return nil, err
	}
	requests, err := promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "alertd_datasource_requests_total",
		Help: "Instant queries to the datasource, by result (success or error).",
	}, []string{"result"}))
	if err != nil {
		return nil, err
	}
	warnings, err := promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "alertd_datasource_warnings_total",
		Help: "Warnings and infos (PromQL annotations) returned with successful instant queries.",
	}))
	if err != nil {
		return nil, err
	}
	return &metrics{
		duration: duration,
		success:  requests.WithLabelValues("success"),
		failure:  requests.WithLabelValues("error"),
		warnings: warnings,
	}, nil
}

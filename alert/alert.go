package alert

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Alert is one alert as Prometheus's notifier sends it to an Alertmanager:
// StartsAt is when the alert started firing, EndsAt is when it resolved or,
// while it fires, the time until which it is valid without being re-sent.
type Alert struct {
	Labels       labels.Labels
	Annotations  labels.Labels
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
}

// Name returns the alertname label.
func (a *Alert) Name() string { return a.Labels.Get(labels.AlertName) }

// Resolved reports whether the alert has ended at ts.
func (a *Alert) Resolved(ts time.Time) bool {
	return !a.EndsAt.IsZero() && !a.EndsAt.After(ts)
}

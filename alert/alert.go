package alert

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Alert is one alert as Prometheus's notifier sends it to an Alertmanager:
// StartsAt is when the alert started firing, EndsAt is when it resolved or,
// while it fires, the time until which it is valid without being re-sent.
// UpdatedAt and Timeout are the Alertmanager's own: when it last received
// the alert, and whether EndsAt was set by resolve_timeout.
type Alert struct {
	Labels       labels.Labels
	Annotations  labels.Labels
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
	UpdatedAt    time.Time
	Timeout      bool
}

// Name returns the alertname label.
func (a *Alert) Name() string { return a.Labels.Get(labels.AlertName) }

// Resolved reports whether the alert has ended at ts.
func (a *Alert) Resolved(ts time.Time) bool {
	return !a.EndsAt.IsZero() && !a.EndsAt.After(ts)
}

// Fingerprint is the Alertmanager's identity of the alert: its label set's
// fingerprint.
func (a *Alert) Fingerprint() uint64 { return Fingerprint(a.Labels) }

// FNV-1a, as prometheus/common's model.LabelSet.Fingerprint.
const (
	offset64 = 14695981039346656037
	prime64  = 1099511628211
	sep      = 0xff
)

// Fingerprint returns prometheus/common's model.LabelSet fingerprint of ls
// (the Alertmanager's alert and group identity) without building a map.
func Fingerprint(ls labels.Labels) uint64 {
	h := uint64(offset64)
	ls.Range(func(l labels.Label) {
		for i := 0; i < len(l.Name); i++ {
			h ^= uint64(l.Name[i])
			h *= prime64
		}
		h ^= sep
		h *= prime64
		for i := 0; i < len(l.Value); i++ {
			h ^= uint64(l.Value[i])
			h *= prime64
		}
		h ^= sep
		h *= prime64
	})
	return h
}

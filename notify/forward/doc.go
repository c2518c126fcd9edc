// Package forward sends alerts to real Alertmanagers over their API v2, the
// way Prometheus's notifier does: one bounded queue that drops its oldest
// alerts when full, batches of up to 256 alerts posted concurrently to every
// configured Alertmanager, a batch counted as delivered when at least one
// Alertmanager accepted it, and external labels added to an alert only when
// it lacks that label name.
//
// It owns the queue, the per-Alertmanager HTTP clients (built from
// prometheus/common's HTTPClientConfig) and the alertd_notifications_*
// metrics. It does not retry a failed batch, does not deduplicate and does
// not decide when an alert is (re)sent: that is the evaluator's job, as in
// Prometheus's rule manager.
//
// It may import the alert value package and the Prometheus/Alertmanager
// libraries, and nothing else of alertd's own.
package forward

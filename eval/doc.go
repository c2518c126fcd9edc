// Package eval evaluates Prometheus alerting rules against a remote
// Prometheus-compatible query API, exactly as Prometheus's rule manager does:
// group scheduling on hashed slots, the pending/firing/inactive state
// machine with for and keep_firing_for, label and annotation templates, and
// the alerts Prometheus would send to an Alertmanager, handed to a Sink.
//
// It imports rules, alert, eval/datasource and eval/templates of alertd's own.
package eval

// Package alert holds the value types shared by evaluation, routing and
// delivery: an alert as Prometheus sends it to an Alertmanager.
//
// It imports nothing of alertd's own.
package alert

// Package api serves alertd's HTTP surfaces: the Prometheus-compatible
// /api/v1/rules and /api/v1/alerts, /metrics, and the lifecycle endpoints
// /-/healthy, /-/ready and /-/reload.
//
// It imports eval (for its status snapshot types) of alertd's own, and
// reaches the rest through the small interfaces in Options.
package api

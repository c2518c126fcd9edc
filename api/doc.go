// Package api serves alertd's HTTP surfaces: the Prometheus-compatible
// /api/v1/rules and /api/v1/alerts, /metrics, the lifecycle endpoints
// /-/healthy, /-/ready and /-/reload, and, when Options.Alertmanager is
// set, the Alertmanager-compatible API v2. It also serves alertd's own
// GET /api/v1/notifications (the notification history, docs/api.md) and
// GET /api/v1/status/datasource (the datasource URL, for the UI's graph
// links), and mounts the web UI (Options.UI) at / and /static/.
//
// The API v2 (/api/v2/status, /receivers, /alerts, /alerts/groups,
// /silences, /silence/{id}) answers as Alertmanager 0.25 does, so that
// amtool 0.25 and Grafana's Alertmanager data source work against alertd
// unchanged: the JSON shapes are Alertmanager's generated OpenAPI models;
// requests the OpenAPI spec rejects get go-openapi's {"code","message"}
// errors (400, 415, 422; 404 and 405 for unknown paths and methods);
// Alertmanager's own errors are JSON strings. POSTed alerts get
// Alertmanager's defaults (UpdatedAt now, StartsAt, EndsAt from
// resolve_timeout) and validation, with the valid alerts of a batch stored
// even when others are refused. An alert's status (silenced, inhibited)
// and receivers are computed when it is read. Alertmanager's removed v1
// paths answer 410 Gone, as Alertmanager 0.27+; Prometheus's GET
// /api/v1/alerts is not one of them. Deliberate differences from 0.25:
// DELETE of an unknown silence is 404 (Alertmanager 0.27+); alerts carry
// mutedBy and groups routeLabels (0.28+); request bodies are bounded
// (MaxAlertsBodyBytes, MaxSilenceBodyBytes; 413 beyond), where
// Alertmanager sets no limit. No GET changes state: posting alerts and
// silences, expiring silences and reloading take POST, PUT or DELETE.
//
// It imports eval (for its status snapshot types), alert, silences and
// notify (for their value types) of alertd's own, and reaches the rest through the
// small interfaces it declares (RulesSource, AlertStore, Router, Muter,
// Silences), which the app wires.
package api

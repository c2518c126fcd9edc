// Package unittest runs rule unit tests written in promtool's test file
// format (`promtool test rules`), in process: input series in the promql
// series notation go into an in-memory storage, Prometheus's PromQL engine
// answers the queries, recording rules are evaluated as Prometheus's rule
// group does (results, ALERTS and ALERTS_FOR_STATE written back, stale
// markers for series that went away), and alerting rules run on alertd's own
// evaluator (eval.AlertingRule), so a test checks the alerts alertd itself
// would produce. Results are compared as promtool compares them, and failures
// are reported in promtool's words, followed by a diff.
//
// Beyond promtool, a test file may assert pending alerts
// (exp_pending_alerts) and, given alertd's configuration (config_file), the
// receivers an alert reaches and what its notifications say
// (exp_notifications). Routing and rendering are the caller's: see Router.
// docs/unittest.md describes the format and every difference from promtool.
//
// It imports rules and eval (with eval/datasource) of alertd's own.
package unittest

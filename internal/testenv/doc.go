// Package testenv starts the real components alertd is compared against —
// Prometheus, Alertmanager (and finds amtool, promtool, vmalert) — on
// 127.0.0.1 with free ports and temporary directories, and serves scrape
// targets whose series a test sets.
//
// It owns the lifecycle of those processes: the configuration files it
// writes for them, readiness waits, log capture for failure messages, and a
// bounded shutdown (SIGTERM, then kill). Every wait is bounded in time, and a
// process started with a context is terminated when that context ends; on
// Linux it is also killed if the test binary itself dies.
//
// There are two layers. The context-based functions (FindBinary,
// RunPrometheus, RunAlertmanager, NewTargetServer) return errors and can be
// used by programs that are not tests, such as benchmark harnesses. The
// testing.TB wrappers (Binary, StartPrometheus, StartAlertmanager, NewTarget)
// fail the test with a message that says what went wrong, log the process
// output of a failed test, and register cleanups.
//
// A missing component fails a test with the command that installs it; only
// go test -short skips. The components come from Debian's packages
// prometheus, prometheus-alertmanager and victoria-metrics ("make deps").
//
// It is imported only by tests and benchmark programs, never by alertd's own
// packages, and imports nothing of alertd's own.
package testenv

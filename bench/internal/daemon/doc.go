// Package daemon starts a program a benchmark harness measures — alertd,
// vmalert — as a child process, keeps its output for error messages, waits
// until it answers on HTTP, and stops it within a bounded time.
//
// It is imported only by the programs under bench/; of this module it
// imports internal/testenv only.
package daemon

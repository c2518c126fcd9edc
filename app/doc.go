// Package app wires alertd's parts into the daemon: it loads alertd.yml and
// the rule files, builds the datasource client, the rule manager and the
// forwarder to Alertmanagers, serves the HTTP API, and reloads everything
// atomically (validate all, then swap, keeping state) on request or when a
// file changes.
//
// It may import every package of alertd's own but cmd.
package app

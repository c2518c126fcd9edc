// Package rules loads Prometheus rule files (parsed with Prometheus's own
// rulefmt, current schema), expands their globs, reports errors with file,
// line, group and rule, and says which groups changed between two loads.
//
// It imports nothing of alertd's own.
package rules

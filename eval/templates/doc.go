// Package templates expands alert label and annotation templates exactly as
// Prometheus does (github.com/prometheus/prometheus/template and the
// expand closure of rules.AlertingRule.Eval), but parses each template once
// and evaluates the common shapes — label and value references, optionally
// through humanize-style functions or printf — directly from labels.Labels
// without text/template or allocations.
//
// It owns the template function map, the template data shape, the
// fast-path compiler and the error texts written into expanded values.
//
// Of alertd's own packages it imports only eval/datasource (and its own
// internal/template, which holds the Prometheus-derived function map).
package templates

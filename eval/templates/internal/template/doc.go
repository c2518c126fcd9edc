// Package template is Prometheus's alert-template function map and data
// shape, copied from github.com/prometheus/prometheus/template (Apache-2.0,
// The Prometheus Authors) so that the functions that read the evaluation
// time, query function and external URL can be rebound per execution
// without re-parsing.
//
// The package is named template, like Prometheus's, because text/template
// prints Go type names in error messages: a user mistake such as
// {{ $value | first }} must read "expected template.queryResult" exactly as
// it does in Prometheus.
//
// It imports only eval/datasource of alertd's own.
package template

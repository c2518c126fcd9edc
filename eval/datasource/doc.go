// Package datasource is the client for a remote Prometheus-compatible
// instant-query API (/api/v1/query), and the query result types the rest of
// evaluation works with.
//
// It imports nothing of alertd's own.
package datasource

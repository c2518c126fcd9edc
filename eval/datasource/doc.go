// Package datasource is the client for a remote Prometheus-compatible
// instant-query API (/api/v1/query), and the query result types the rest of
// evaluation works with.
//
// It imports nothing of alertd's own.
//
// # Queries
//
// Client.Query is a QueryFunc. It sends POST <URL>/api/v1/query with the
// form parameters query, time (Unix seconds, millisecond precision; the
// caller has already applied query_offset) and timeout, over an http.Client
// built from prometheus/common's HTTPClientConfig, and returns the result
// as Prometheus's rule manager sees its own engine's: a vector as is, a
// scalar as one Sample with empty labels. It asks for a gzipped reply and
// unzips it itself, since prometheus/common's transport turns off Go's
// transparent decompression.
//
// # Failures
//
// A failed query must never look like an empty result, because the caller
// then resolves alerts. So every failure is a *QueryError and comes with a
// nil Vector, and only a well-formed success reply yields a Vector:
//
//   - an error reply (any status):   query failed: bad_data (HTTP 400): <server's message>
//   - a non-2xx reply that is not Prometheus JSON (Prometheus's plain-text
//     503 while starting, a proxy's HTML page):
//     query failed: HTTP 503 Service Unavailable; body: <one-line, cut start of the body>
//   - a 2xx body that is not JSON or is cut short:
//     query failed: invalid response body (HTTP 200): <what, at which offset>[; body: <start>]
//   - a connection that breaks while reading: query failed: read response body (HTTP 200): <cause>
//   - well-formed JSON without what it needs:
//     query failed: invalid response (HTTP 200): missing "data" (and similar)
//   - a matrix or string: rule result is not a vector or scalar (got matrix)
//   - native histogram samples, which alertd does not evaluate:
//     native histogram results are not supported (N series with a histogram sample, first: <labels>)
//   - Options.Timeout elapsing: query timed out after 30s
//   - the caller's context ending: query canceled: <cause>
//   - no response: query failed: POST <URL without password>/api/v1/query: <network or TLS error>
//
// QueryError.Retryable separates transient failures (network, timeouts,
// 5xx, 429, broken bodies) from ones that will recur (bad_data, execution,
// wrong result type). Passwords and tokens (of four characters or more)
// from the URL, HTTPConfig and Options.Headers are replaced by "xxxxx" in
// every error and log line, even when a server echoes them; request headers
// and bodies are never logged.
//
// PromQL warnings and infos in a success reply do not fail the query, as in
// Prometheus's rule manager: they are counted and logged at debug level.
//
// # Decoding
//
// Replies with tens of thousands of series are common, so the body is
// decoded in one streaming pass (jsonreader.go, decode.go) instead of
// through encoding/json and a map per series: label names and values are
// unescaped into one reused buffer and handed to a labels.ScratchBuilder,
// which copies them into the series' labels (the only allocation per
// series besides its share of the Vector). Labels come out sorted; labels
// with an empty value are dropped, as Prometheus treats them as absent.
// JSON object keys may come in any order.
//
// # Metrics
//
// On Options.Registerer: alertd_datasource_request_duration_seconds,
// alertd_datasource_requests_total{result="success|error"} and
// alertd_datasource_warnings_total. A reload builds a new Client on the same
// Registerer; registering the collectors again reuses the existing ones, so
// the series continue across reloads.
package datasource

// Package webhook is the webhook integration: it POSTs the notification as
// Alertmanager's webhook message, version "4" — the template data, the raw
// group key and the number of alerts max_alerts truncated — so receivers
// written for Alertmanager work unchanged.
//
// It owns the webhook_configs entry's HTTP client (built from
// prometheus/common's HTTPClientConfig) and the redaction of its URL: the
// URL is a secret (it often holds a token) and only scheme://host/<redacted>
// ever reaches an error or a log.
//
// It imports alertd's notify package (for Data, Integration and the HTTP
// status classification) and nothing else of alertd's own.
package webhook

// Package pagerduty is the PagerDuty integration: it sends each
// notification as one event of PagerDuty's Events API v2, as
// Alertmanager's notify/pagerduty does, so that incidents opened by an
// Alertmanager carry over to alertd and back.
//
// One event per notification: dedup_key is the hex SHA-256 of the group
// key (Alertmanager's notify.Key.Hash), event_action is "trigger" while any
// alert of the notification fires and "resolve" once all are resolved;
// payload.summary is the rendered description cut to 1024 runes; the
// custom details are rendered with Alertmanager's
// template.DeepCopyWithTemplate (a value that renders to YAML structure is
// sent as structured JSON); an event over 512000 bytes has its custom
// details replaced by Alertmanager's error text, with a warning logged.
//
// It owns the pagerduty_configs entry's HTTP client (built from
// prometheus/common's HTTPClientConfig) and the classification of
// PagerDuty's answers: 2xx is success; 429 is retryable with its
// Retry-After (Alertmanager retries it too, without Retry-After); 5xx and
// network errors are retryable; every other status is permanent, with
// PagerDuty's {message, errors} folded into the error text as Alertmanager
// does. The routing key, and the contents of routing_key_file, never
// appear in an error or a log line.
//
// The event goes through github.com/PagerDuty/go-pagerduty's
// Client.ManageEventWithContext, with this package's http client: it posts
// to exactly the configured url (go-pagerduty would append /v2/enqueue to
// its endpoint) with alertd's User-Agent, and records PagerDuty's answer —
// status, Retry-After and error body — which go-pagerduty's own error does
// not keep.
//
// Differences from Alertmanager:
//
//   - service_key and service_key_file (the Events API v1 "Prometheus"
//     integration) are not supported: Builder rejects an entry that sets
//     them, with an error telling to use routing_key. PagerDuty has
//     deprecated v1, and go-pagerduty's v1 call cannot use a configured
//     HTTP client or URL.
//   - A 429 answer's Retry-After is honoured.
//   - Every error answer shows what it says: PagerDuty's message and
//     errors, or else the start of its body (Alertmanager shows only the
//     message and errors of a 400).
//
// It imports alertd's notify package, Alertmanager's config, template and
// notify/pagerduty (for the configuration type and its defaults),
// prometheus/common and go-pagerduty.
package pagerduty

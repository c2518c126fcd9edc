// Package notify is alertd's notification pipeline: what happens to one
// flush of an aggregation group, as Alertmanager's notify package does it.
//
//	inhibit → active time intervals → mute time intervals → silences →
//	  per integration, concurrently: dedup against the notification log →
//	  retry with backoff → integration → record in the notification log
//
// It owns the pipeline stages, the notification log (nflog, persisted in
// the store's "nflog" bucket), the retry policy, the template data handed to
// integrations (Data, also the webhook body), the HTTP status
// classification shared by the HTTP integrations (CheckResponse), the
// alertd_notification* metrics, the notification history (History, the
// hook the pipeline calls with each notification's outcome, and
// HistoryLog, which keeps the last DefaultHistorySize outcomes, persisted
// in the store's "notification_history" bucket), the preview of a flush
// without sending (Pipeline.Preview, and Renderer, which every integration
// implements), and the building of integrations from an Alertmanager
// configuration's receivers (BuildReceivers). The integrations
// themselves live in sub-packages (notify/webhook, later email, slack and
// pagerduty), which import this package; BuildReceivers gets them through
// BuildOptions so that this package does not import them.
//
// Semantics are Alertmanager's (spec/alertmanager.md §1.7, §2, §5), with
// these choices:
//
//   - Times are the flush's tick time (alert.Notification.Now): the time
//     interval checks, the resolved/firing split, the repeat check and the
//     notification log entry's timestamp and expiry all use it.
//     Alertmanager 0.34 uses the tick time for the checks but stamps the
//     entry with the wall-clock time of the write, slightly after the tick;
//     because the repeat check is strict (<), both give the same effective
//     repeat period, (floor(repeat_interval/group_interval)+1) ×
//     group_interval, but with the tick time it does not depend on how long
//     the send took (a send that retried for longer than the slack would
//     otherwise push the repeat one group_interval later).
//   - A 429 is retryable (Alertmanager retries only 5xx) and its
//     Retry-After header, in seconds or as an HTTP date, is honoured: the
//     next attempt waits at least that long; if that is past the flush
//     deadline the integration gives up at once instead of waiting for a
//     deadline it cannot beat.
//   - With a Store, the notification log is read from and written to the
//     store on every flush (there is no second copy in memory), so two
//     pipelines on one store — the old and the new one during a reload —
//     never disagree about what was sent. Without a Store it lives in
//     memory and is lost with the Pipeline.
//   - Expired entries are removed by Run every 15 minutes (Alertmanager's
//     --data.maintenance-interval); as in Alertmanager an expired entry
//     still counts until it is removed.
//
// It may import alertd's alert, store and internal/promreg packages, and
// the Prometheus and Alertmanager libraries (Alertmanager's config,
// timeinterval and pkg/labels only, not its notify, dispatch or nflog).
package notify

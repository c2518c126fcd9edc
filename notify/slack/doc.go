// Package slack is the Slack integration: Alertmanager's slack_configs,
// sent through github.com/slack-go/slack. Every notification is one
// message with one legacy attachment holding the whole group, rendered
// from the same fields and default templates as Alertmanager's
// (spec/alertmanager.md §6.2): title (truncated to 1024 runes), title_link,
// pretext, text, fallback, callback_id, fields, actions, image_url,
// thumb_url, footer, color and mrkdwn_in, with channel, username,
// icon_emoji, icon_url, link_names and message_text around it.
//
// It owns the rendering of that message, its delivery — to an incoming
// webhook (api_url, api_url_file) or with a bot token (app_token,
// app_token_file) to the Web API's chat.postMessage and chat.update — the
// classification of Slack's answers, the per-group message state kept in
// the notification log, and the redaction of its secrets: the webhook URL
// and the token, which never reach an error or a log.
//
// Where it differs from Alertmanager 0.34:
//
//   - A 429 is retryable, after its Retry-After (a *notify.Error with
//     ReasonRateLimited). Alertmanager does not retry Slack's 429s (#2112
//     added it, #2128 reverted it because Slack may disable apps that keep
//     hammering it, #2205 asks for Retry-After to be honoured); honouring
//     Retry-After is what Slack asks for, and the issue this implements
//     requires it.
//   - With a bot token the integration is a notify.Stateful and always
//     updates its messages, which Alertmanager does only with
//     update_message (false by default); alertd ignores that key. The
//     first notification of an incident posts a message (chat.postMessage)
//     and keeps its channel ID and ts in the group's notification log
//     entry; later notifications of the group edit that message
//     (chat.update), so a channel shows one message per incident, which
//     turns resolved (title, colour) when everything has resolved. That
//     all-resolved update closes the message: the next firing of the group
//     posts a new one. If Slack no longer lets the message be edited
//     (message_not_found, cant_update_message, channel_not_found,
//     edit_window_closed), a new message is posted. The notifications
//     that repeat_interval triggers while the incident is open edit the
//     message too, as with Alertmanager's update_message, and an edit
//     notifies no one. With send_resolved false the message is never told that the
//     group resolved; a notification whose alerts all started after every
//     alert the message showed is then taken as a new incident and posted.
//     Incoming webhooks cannot edit messages: they post every
//     notification, as Alertmanager does.
//   - The Web API is called as slack-go calls it: form-encoded, with the
//     token both in the form and, as Alertmanager sends it, in an
//     Authorization: Bearer header. Its base URL is app_url without its
//     last path element (the default https://slack.com/api/chat.postMessage
//     gives https://slack.com/api/), to which the method names are
//     appended.
//   - Incoming webhooks are posted by this package with slack-go's
//     Attachment type rather than by slack-go's PostWebhook, which
//     discards the answer's body: the body must be "ok" (or JSON with
//     "ok": true) and, on failure, goes into the error.
//   - A template error fails the notification for good, naming the field;
//     Alertmanager's Slack notifier sends the message anyway, with the
//     failing field and those rendered after it empty.
//
// It imports alertd's notify package (for Data, Integration, Stateful,
// templates and the HTTP status classification) and nothing else of
// alertd's own.
package slack

// Package email is the email integration: it sends the notification over
// SMTP as Alertmanager's email notifier does (spec/alertmanager.md §6.1),
// so that the messages users get, and the servers they relay through, are
// the same.
//
// It owns the SMTP conversation of an email_configs entry — dial (implicit
// TLS on port 465 or with force_implicit_tls), EHLO, STARTTLS (required
// unless require_tls is false), AUTH (CRAM-MD5, PLAIN or LOGIN, the first
// of the server's list that the configuration can answer, only when the
// server offers AUTH and auth_username is set), MAIL, RCPT, DATA, QUIT —
// and the composition of the message: the templated, Q-encoded headers,
// Message-Id, Date, the optional threading headers, and a
// multipart/alternative body with a text/plain part (when text is set)
// then a text/html part, both quoted-printable UTF-8.
//
// Differences from Alertmanager:
//
//   - SMTP replies are classified as RFC 5321 says: a 5yz reply is a
//     permanent failure (not retried; 530/534/535/538 with the reason
//     authError, other 5yz clientError), 421 is retryable with the reason
//     rateLimited (SMTP has no Retry-After), other 4yz are retryable
//     serverErrors. Network, TLS and timeout errors are retryable.
//     Alertmanager retries every SMTP failure, 5yz included.
//   - The message is composed (templates rendered, addresses parsed) before
//     connecting, so a template or address error opens no connection; such
//     errors are permanent, as in Alertmanager.
//   - The whole conversation is bounded by the context: the connection's
//     deadline is the context's and the connection is closed when the
//     context ends, so a server that stops answering never holds a
//     notification past Config.Timeout or the flush deadline (Alertmanager
//     bounds only the plain-TCP dial).
//   - Headers are written in sorted order; a configured Date header
//     replaces the generated one instead of being sent twice; header names
//     are validated when the integration is built.
//   - auth_secret_file is trimmed of surrounding whitespace like
//     auth_password_file.
//
// Passwords, CRAM-MD5 secrets, the contents of their *_file forms and an
// inline TLS client key never appear in an error.
//
// It imports alertd's notify package (for Data, Integration, the templates
// and the failure reasons) and nothing else of alertd's own; net/smtp is
// the client.
package email

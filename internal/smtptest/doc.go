// Package smtptest is test support: a real SMTP server (emersion/go-smtp)
// on 127.0.0.1 that stands for a mail relay in tests. It offers STARTTLS or
// implicit TLS with a self-signed certificate for 127.0.0.1, AUTH PLAIN,
// LOGIN and CRAM-MD5, replies queued by the test (refusals, hangs), and
// keeps the messages it accepts, parsed as a mail client reads them.
//
// It is imported only by _test.go files and benchmark code, never by
// alertd's production packages. It imports nothing of alertd's own.
package smtptest

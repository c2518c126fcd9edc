package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Reason classifies a failed notification: the reason label of
// alertd_notifications_failed_total, with Alertmanager's values.
type Reason string

// The failure reasons, Alertmanager's.
const (
	ReasonOther                   Reason = "other"
	ReasonClientError             Reason = "clientError"
	ReasonServerError             Reason = "serverError"
	ReasonContextCanceled         Reason = "contextCanceled"
	ReasonContextDeadlineExceeded Reason = "contextDeadlineExceeded"
	ReasonAuthError               Reason = "authError"
	ReasonRateLimited             Reason = "rateLimited"
)

// allReasons lists every Reason, to initialise the failure series.
func allReasons() []Reason {
	return []Reason{
		ReasonOther, ReasonClientError, ReasonServerError, ReasonContextCanceled,
		ReasonContextDeadlineExceeded, ReasonAuthError, ReasonRateLimited,
	}
}

// Error is a failed notification attempt that says why, for the metrics,
// and how long the receiver asked to be left alone. Integrations return it
// (CheckResponse does) when they know more than "it failed".
type Error struct {
	Reason Reason
	// RetryAfter is the receiver's Retry-After; zero if it sent none.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// reasonOf returns the Reason of err: that of an *Error in its chain,
// else the context's, else ReasonOther.
func reasonOf(err error) Reason {
	if e, ok := errors.AsType[*Error](err); ok && e.Reason != "" {
		return e.Reason
	}
	switch {
	case errors.Is(err, context.Canceled):
		return ReasonContextCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return ReasonContextDeadlineExceeded
	}
	return ReasonOther
}

// maxErrorBody bounds how much of a response body goes into an error.
const maxErrorBody = 1024

// CheckResponse classifies the response to a notification request as
// Alertmanager's notify.Retrier does — 2xx is success, 5xx is retryable,
// anything else is permanent — except that 429 is retryable too and its
// Retry-After is returned in the *Error. The error says "unexpected status
// code N: <start of the body>" and carries the failure Reason. It reads at
// most 1 KiB of the body and does not close it.
func CheckResponse(resp *http.Response) (retry bool, err error) {
	code := resp.StatusCode
	if code/100 == 2 {
		return false, nil
	}
	msg := fmt.Sprintf("unexpected status code %d", code)
	if resp.Body != nil {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if body := strings.TrimSpace(strings.ToValidUTF8(string(b), string(utf8.RuneError))); body != "" {
			msg += ": " + body
		}
	}
	e := &Error{Reason: reasonFromStatus(code), Err: errors.New(msg)}
	switch {
	case code == http.StatusTooManyRequests:
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return true, e
	case code/100 == 5:
		return true, e
	}
	return false, e
}

// reasonFromStatus is Alertmanager's GetFailureReasonFromStatusCode.
func reasonFromStatus(code int) Reason {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return ReasonAuthError
	case code == http.StatusTooManyRequests:
		return ReasonRateLimited
	case code/100 == 4:
		return ReasonClientError
	case code/100 == 5:
		return ReasonServerError
	}
	return ReasonOther
}

// parseRetryAfter reads a Retry-After value (RFC 9110: delay-seconds or an
// HTTP date) relative to now; anything unreadable or in the past is zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Redact returns err with every secret (a webhook URL, a routing key, a
// password) in its text replaced by "<redacted>", should anything — a
// client error quoting the URL, a response body echoing the request — have
// put one there. Secrets shorter than 2 bytes are ignored: they are no
// secret and would mangle the text. The returned error still unwraps to
// err, for the failure Reason and Retry-After.
func Redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, sec := range secrets {
		if len(sec) > 1 {
			clean = strings.ReplaceAll(clean, sec, "<redacted>")
		}
	}
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

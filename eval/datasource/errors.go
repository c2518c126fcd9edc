package datasource

import (
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
)

// QueryError is the error Client.Query returns for every failure: no
// response, an error response, or a response that is not a usable instant
// vector. Callers branch on it with errors.As; a QueryError never comes with
// a result.
type QueryError struct {
	// StatusCode is the HTTP status code of the response, or 0 if none was
	// received (network error, timeout, cancellation).
	StatusCode int
	// Type is the errorType the server reported ("bad_data", "execution",
	// "timeout", "internal", ...), or empty if it reported none.
	Type string
	// Message is what went wrong: the server's error message, or what was
	// wrong with the response. Secrets are redacted from it.
	Message string
	// Retryable reports whether the same query may succeed if run again
	// soon: network errors, timeouts, 5xx and 429 responses, truncated
	// bodies. Errors in the query itself (bad_data, execution) and
	// unusable results are not retryable.
	Retryable bool
	// Err is the underlying cause, if any: context.DeadlineExceeded for a
	// timeout, the context's error for a cancellation, a network or TLS
	// error, or an error reading the body.
	Err error

	// text, when set, is the whole of Error(); otherwise Error() is built
	// from the fields above.
	text string
}

// Error formats the failure as it is shown as a rule's last error.
func (e *QueryError) Error() string {
	if e.text != "" {
		return e.text
	}
	return apiErrorText(e.StatusCode, e.Type, e.Message)
}

// Unwrap returns the underlying cause.
func (e *QueryError) Unwrap() error { return e.Err }

// apiErrorText formats an error reported by the server, e.g.
// "query failed: bad_data (HTTP 400): parse error: ...".
func apiErrorText(status int, typ, msg string) string {
	var b strings.Builder
	b.WriteString("query failed: ")
	if typ != "" {
		fmt.Fprintf(&b, "%s (HTTP %d)", typ, status)
	} else {
		fmt.Fprintf(&b, "HTTP %d", status)
	}
	if msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	return b.String()
}

// retryableStatus reports whether an HTTP status is worth retrying.
func retryableStatus(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
}

// apiError is an error reported by the server in Prometheus's JSON format.
func apiError(status int, typ, msg string) *QueryError {
	if typ == "" && msg == "" {
		msg = `status "error" without an error message`
	}
	return &QueryError{
		StatusCode: status,
		Type:       typ,
		Message:    msg,
		Retryable:  retryableStatus(status) || typ == "timeout" || typ == "internal" || typ == "unavailable",
	}
}

// invalidResponse is a response that is valid JSON but not a usable
// query result.
func invalidResponse(status int, format string, args ...any) *QueryError {
	msg := fmt.Sprintf(format, args...)
	return &QueryError{
		StatusCode: status,
		Message:    msg,
		text:       fmt.Sprintf("query failed: invalid response (HTTP %d): %s", status, msg),
	}
}

// httpStatusError is a non-2xx response whose body is not a Prometheus
// API error: a proxy's HTML page, Prometheus's plain-text 503 while it
// starts or stops, a gateway's own JSON.
func httpStatusError(status int, body []byte) *QueryError {
	statusText := fmt.Sprintf("HTTP %d", status)
	if t := http.StatusText(status); t != "" {
		statusText += " " + t
	}
	msg := snippet(body, maxSnippet)
	text := "query failed: " + statusText
	if msg == "" {
		text += "; empty body"
	} else {
		text += "; body: " + msg
	}
	return &QueryError{StatusCode: status, Message: msg, Retryable: retryableStatus(status), text: text}
}

// vector judges a decoded 2xx response and returns its samples.
func (r *response) vector(status int) (Vector, *QueryError) {
	switch {
	case r.status == "error":
		return nil, apiError(status, r.errorType, r.errorMsg)
	case !r.hasStatus:
		return nil, invalidResponse(status, `missing "status"`)
	case r.status != "success":
		return nil, invalidResponse(status, "unknown status %q", truncate(r.status, 40))
	case !r.hasData:
		return nil, invalidResponse(status, `missing "data"`)
	case !r.hasType || r.resultType == "":
		return nil, invalidResponse(status, `missing "data.resultType"`)
	}
	switch r.resultType {
	case "vector", "scalar":
	case "matrix", "string":
		msg := fmt.Sprintf("rule result is not a vector or scalar (got %s)", r.resultType)
		return nil, &QueryError{StatusCode: status, Message: msg, text: msg}
	default:
		return nil, invalidResponse(status, "unknown resultType %q", truncate(r.resultType, 40))
	}
	if r.shape == shapeAbsent {
		return nil, invalidResponse(status, `missing "data.result"`)
	}
	if r.resultType == "scalar" {
		if r.shape != shapePair {
			return nil, invalidResponse(status, "data.result is not a scalar [<time>, \"<value>\"]")
		}
		v, err := parseValue([]byte(r.pairValue))
		if err != nil {
			return nil, invalidResponse(status, "%s", err.Error())
		}
		// As Prometheus's EngineQueryFunc: a scalar is one sample without labels.
		return Vector{{Metric: labels.EmptyLabels(), Value: v}}, nil
	}
	switch {
	case r.shape == shapeNull: // an empty vector, as Go encodes a nil slice
		return Vector{}, nil
	case r.shape != shapeSeries:
		return nil, invalidResponse(status, "data.result is not a vector")
	case r.histograms > 0:
		msg := fmt.Sprintf("native histogram results are not supported (%d series with a histogram sample, first: %s)",
			r.histograms, truncate(r.firstHistogram.String(), 200))
		return nil, &QueryError{StatusCode: status, Message: msg, text: msg}
	case r.ranges+r.noValue > 0:
		return nil, invalidResponse(status, `%d series without a "value" in a vector result`, r.ranges+r.noValue)
	}
	if r.samples == nil {
		return Vector{}, nil
	}
	return r.samples, nil
}

// maxSnippet is the length, in bytes, of a body quoted in an error.
const maxSnippet = 200

// snippet renders the start of a body for an error message: one line,
// runs of whitespace and control characters collapsed to a space,
// invalid UTF-8 replaced, cut to about max bytes with "..." appended.
func snippet(body []byte, maxLen int) string {
	var b strings.Builder
	space := false
	for len(body) > 0 {
		r, size := utf8.DecodeRune(body)
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			body = body[size:]
			continue
		}
		if b.Len() >= maxLen {
			b.WriteString("...")
			break
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r) // an invalid byte is written as U+FFFD
		body = body[size:]
	}
	return b.String()
}

// truncate cuts s to at most n bytes, on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// redactor removes known secrets from text that leaves the package.
type redactor struct{ secrets []string }

// minSecretLen is the shortest secret redactor removes; replacing shorter
// strings would garble messages more than it protects.
const minSecretLen = 4

// redactedSecret replaces a secret, as in prometheus/common's URL.Redacted.
const redactedSecret = "xxxxx"

func (r *redactor) add(secret string) {
	if len(secret) >= minSecretLen {
		r.secrets = append(r.secrets, secret)
	}
}

func (r *redactor) redact(s string) string {
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, redactedSecret)
	}
	return s
}

package notify

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := backoff{initial: DefaultBackoffInitial, max: DefaultBackoffMax}
	interval := float64(DefaultBackoffInitial)
	for i := range 30 {
		got := float64(b.next())
		if lo, hi := 0.5*interval, 1.5*interval; got < lo || got > hi {
			t.Fatalf("wait %d: %s, want in [%s, %s]", i, time.Duration(got), time.Duration(lo), time.Duration(hi))
		}
		interval = min(interval*1.5, float64(DefaultBackoffMax))
	}
	if b.cur != DefaultBackoffMax {
		t.Errorf("interval after 30 waits: %s, want the cap %s", b.cur, DefaultBackoffMax)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, in string
		want     time.Duration
	}{
		{"absent", "", 0},
		{"seconds", "120", 2 * time.Minute},
		{"zero", "0", 0},
		{"spaces", " 3 ", 3 * time.Second},
		{"http date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"http date in the past", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"negative", "-5", 0},
		{"garbage", "soon", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseRetryAfter(tc.in, now); got != tc.want {
				t.Errorf("parseRetryAfter(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestCheckResponse(t *testing.T) {
	for _, tc := range []struct {
		code       int
		body       string
		retryAfter string
		wantRetry  bool
		wantReason Reason // "" is success
		wantWait   time.Duration
		wantErr    string
	}{
		{code: 200},
		{code: 204},
		{code: 500, body: "boom\n", wantRetry: true, wantReason: ReasonServerError, wantErr: "unexpected status code 500: boom"},
		{code: 503, wantRetry: true, wantReason: ReasonServerError, wantErr: "unexpected status code 503"},
		{code: 429, retryAfter: "7", wantRetry: true, wantReason: ReasonRateLimited, wantWait: 7 * time.Second},
		{code: 429, wantRetry: true, wantReason: ReasonRateLimited},
		{code: 400, body: strings.Repeat("x", 5000), wantReason: ReasonClientError, wantErr: "unexpected status code 400: " + strings.Repeat("x", maxErrorBody)},
		{code: 401, wantReason: ReasonAuthError},
		{code: 403, wantReason: ReasonAuthError},
		{code: 404, wantReason: ReasonClientError},
		{code: 302, wantReason: ReasonOther},
	} {
		name := fmt.Sprint(tc.code)
		if tc.retryAfter != "" {
			name += "/retry_after=" + tc.retryAfter
		}
		t.Run(name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tc.code, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tc.body))}
			if tc.retryAfter != "" {
				resp.Header.Set("Retry-After", tc.retryAfter)
			}
			retry, err := CheckResponse(resp)
			if retry != tc.wantRetry {
				t.Errorf("retry %v, want %v", retry, tc.wantRetry)
			}
			if tc.wantReason == "" {
				if err != nil {
					t.Errorf("error %v", err)
				}
				return
			}
			e, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("error %v (%T) is no *Error", err, err)
			}
			if e.Reason != tc.wantReason || e.RetryAfter != tc.wantWait {
				t.Errorf("reason %s, Retry-After %s; want %s, %s", e.Reason, e.RetryAfter, tc.wantReason, tc.wantWait)
			}
			if tc.wantErr != "" && err.Error() != tc.wantErr {
				t.Errorf("error %q, want %q", err, tc.wantErr)
			}
		})
	}
}

// Package notifytest is the conformance suite that every notification
// integration (notify/webhook, notify/email, notify/slack,
// notify/pagerduty) passes: firing and resolved payloads, retry on a
// transient failure, 429 with Retry-After, permanent failures with the
// receiver's answer in the error, the per-integration timeout, template
// errors, and no secret in any error or log line.
//
// Each integration's tests implement Receiver with a real fake of the
// remote end (an HTTP server checking the API contract, an SMTP server) and
// call Run. It is imported by tests only.
package notifytest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/notify"
)

// Outcome is how a fake receiver answers one request.
type Outcome int

// The outcomes. HTTP receivers answer Transient with 503, RateLimited with
// 429 and "Retry-After: 7", Permanent with 400 and PermanentBody; SMTP
// receivers answer Transient with 451, RateLimited with 421 (SMTP has no
// Retry-After), Permanent with 550 and PermanentBody.
const (
	OK Outcome = iota
	Transient
	RateLimited
	Permanent
	// Hang never answers until the request's context (the integration's
	// timeout) ends it.
	Hang
)

func (o Outcome) String() string {
	return [...]string{"ok", "transient", "rate limited", "permanent", "hang"}[o]
}

// PermanentBody is the text of a permanent failure's answer; the
// integration's error must contain it.
const PermanentBody = "conformance: this request is refused for good"

// RetryAfter is the Retry-After of RateLimited answers over HTTP.
const RetryAfter = 7 * time.Second

// Config is what an integration under test is configured with.
type Config struct {
	// Secret is its credential: part of the webhook URL, the routing key,
	// the bot token, the SMTP password. It must never appear in an error
	// or a log line.
	Secret string
	// Timeout is its per-request timeout; zero means none.
	Timeout time.Duration
	// BadTemplate makes one of its templated fields
	// `{{ .NoSuchField }}`, which fails when rendered.
	BadTemplate bool
}

// Received is one notification a fake receiver accepted.
type Received struct {
	// Resolved says whether the message says the group is resolved
	// (the subject, the colour, the event action).
	Resolved bool
	// Text is the message's text content (subject and body, title and
	// text, summary), which the default templates fill with the group
	// labels.
	Text string
}

// Receiver is a fake remote end, started by Harness.Start and stopped when
// the test ends.
type Receiver interface {
	// Integration returns an integration configured by c that delivers
	// to this receiver, with send_resolved true.
	Integration(t *testing.T, c Config) notify.Integration
	// Answer queues how the next requests are answered, one outcome per
	// request; once the queue is empty every request gets OK.
	Answer(o ...Outcome)
	// Received returns the notifications accepted so far, in order.
	Received() []Received
	// RetryAfter reports whether the protocol has a Retry-After (HTTP
	// does, SMTP does not).
	RetryAfter() bool
}

// Harness starts the fake receivers of one integration kind.
type Harness struct {
	// Start starts a fake receiver that stops when t ends.
	Start func(t *testing.T) Receiver
	// NoTemplates says the integration has no templated field (the
	// webhook), so Config.BadTemplate cannot apply.
	NoTemplates bool
}

// Secret is a credential no test text contains by chance.
const Secret = "s3cr3t-7c1e9a44b0d2"

// Run runs the conformance suite against h.
func Run(t *testing.T, h Harness) {
	t.Run("firing", func(t *testing.T) {
		r := h.Start(t)
		ig := r.Integration(t, Config{Secret: Secret})
		retry, err := ig.Notify(t.Context(), Firing())
		if err != nil {
			t.Fatalf("Notify: retry %v, %v", retry, err)
		}
		got := r.Received()
		if len(got) != 1 || got[0].Resolved {
			t.Fatalf("received %+v, want one firing notification", got)
		}
		if !strings.Contains(got[0].Text, GroupAlertname) {
			t.Errorf("text %q does not name the group (alertname %q)", got[0].Text, GroupAlertname)
		}
	})
	t.Run("resolved", func(t *testing.T) {
		r := h.Start(t)
		ig := r.Integration(t, Config{Secret: Secret})
		if !ig.SendResolved() {
			t.Fatal("SendResolved false although configured true")
		}
		for _, d := range []*notify.Data{Firing(), Resolved()} {
			if retry, err := ig.Notify(t.Context(), d); err != nil {
				t.Fatalf("Notify %s: retry %v, %v", d.Status, retry, err)
			}
		}
		got := r.Received()
		if len(got) != 2 || got[0].Resolved || !got[1].Resolved {
			t.Fatalf("received %+v, want firing then resolved", got)
		}
	})
	t.Run("transient failure is retried", func(t *testing.T) {
		r := h.Start(t)
		ig := r.Integration(t, Config{Secret: Secret})
		r.Answer(Transient)
		retry, err := ig.Notify(t.Context(), Firing())
		if err == nil || !retry {
			t.Fatalf("Notify on a transient failure: retry %v, err %v; want a retryable error", retry, err)
		}
		noSecret(t, "error", err.Error())
		// Through the pipeline, the retry delivers it.
		r.Answer(Transient)
		var logs bytes.Buffer
		if err := notifyPipeline(t, ig, &logs); err != nil {
			t.Fatalf("pipeline: %v", err)
		}
		if got := r.Received(); len(got) != 1 {
			t.Fatalf("received %d notifications after a retry, want 1", len(got))
		}
		if !strings.Contains(logs.String(), "will retry") {
			t.Errorf("no retry logged:\n%s", logs.String())
		}
		noSecret(t, "log", logs.String())
	})
	t.Run("rate limited", func(t *testing.T) {
		r := h.Start(t)
		ig := r.Integration(t, Config{Secret: Secret})
		r.Answer(RateLimited)
		retry, err := ig.Notify(t.Context(), Firing())
		if err == nil || !retry {
			t.Fatalf("Notify when rate limited: retry %v, err %v; want a retryable error", retry, err)
		}
		noSecret(t, "error", err.Error())
		var after time.Duration
		if e, ok := errors.AsType[*notify.Error](err); ok {
			after = e.RetryAfter
		}
		want := time.Duration(0)
		if r.RetryAfter() {
			want = RetryAfter
		}
		if after != want {
			t.Errorf("Retry-After %s, want %s", after, want)
		}
	})
	t.Run("permanent failure", func(t *testing.T) {
		r := h.Start(t)
		ig := r.Integration(t, Config{Secret: Secret})
		r.Answer(Permanent)
		retry, err := ig.Notify(t.Context(), Firing())
		if err == nil || retry {
			t.Fatalf("Notify on a permanent failure: retry %v, err %v; want a permanent error", retry, err)
		}
		if !strings.Contains(err.Error(), PermanentBody) {
			t.Errorf("error %q does not show the receiver's answer %q", err, PermanentBody)
		}
		noSecret(t, "error", err.Error())
		// The pipeline gives up at once and says so, without the secret.
		r.Answer(Permanent)
		var logs bytes.Buffer
		perr := notifyPipeline(t, ig, &logs)
		if perr == nil {
			t.Fatal("pipeline: no error on a permanent failure")
		}
		noSecret(t, "pipeline error", perr.Error())
		noSecret(t, "log", logs.String())
		if got := r.Received(); len(got) != 0 {
			t.Errorf("received %d notifications, want none", len(got))
		}
	})
	t.Run("timeout", func(t *testing.T) {
		r := h.Start(t)
		ig := r.Integration(t, Config{Secret: Secret, Timeout: 300 * time.Millisecond})
		r.Answer(Hang)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		retry, err := ig.Notify(ctx, Firing())
		if err == nil || !retry {
			t.Fatalf("Notify to a receiver that hangs: retry %v, err %v; want a retryable error", retry, err)
		}
		if ctx.Err() != nil {
			t.Fatal("the integration's timeout did not end the request before the flush deadline")
		}
		noSecret(t, "error", err.Error())
		// And the next request, answered, goes through.
		if retry, err := ig.Notify(ctx, Firing()); err != nil {
			t.Fatalf("Notify after a timeout: retry %v, %v", retry, err)
		}
	})
	if h.NoTemplates {
		return
	}
	t.Run("template error", func(t *testing.T) {
		r := h.Start(t)
		ig := r.Integration(t, Config{Secret: Secret, BadTemplate: true})
		retry, err := ig.Notify(t.Context(), Firing())
		if err == nil || retry {
			t.Fatalf("Notify with a failing template: retry %v, err %v; want a permanent error", retry, err)
		}
		if !strings.Contains(err.Error(), "template") || !strings.Contains(err.Error(), "NoSuchField") {
			t.Errorf("error %q does not say which template failed", err)
		}
		noSecret(t, "error", err.Error())
		if got := r.Received(); len(got) != 0 {
			t.Errorf("received %d notifications, want none", len(got))
		}
	})
}

func noSecret(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, Secret) {
		t.Errorf("%s shows the secret: %s", what, s)
	}
}

// notifyPipeline sends Firing's alerts through a Pipeline whose only
// receiver has ig, logging at debug level to logs, and returns Notify's
// error.
func notifyPipeline(t *testing.T, ig notify.Integration, logs *bytes.Buffer) error {
	t.Helper()
	var mu sync.Mutex
	w := writerFunc(func(b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(b)
	})
	p, err := notify.New(notify.Options{
		Receivers: map[string][]notify.Integration{ReceiverName: {ig}},
		Logger:    slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	now := time.Now()
	return p.Notify(ctx, &alert.Notification{
		GroupKey:       GroupKey,
		GroupLabels:    labels.FromStrings("alertname", GroupAlertname),
		Receiver:       ReceiverName,
		RepeatInterval: 4 * time.Hour,
		Now:            now,
		Alerts: []*alert.Alert{{
			Labels:      labels.FromStrings("alertname", GroupAlertname, "instance", "a:9100"),
			Annotations: labels.FromStrings("summary", "a is down"),
			StartsAt:    now.Add(-time.Minute),
			EndsAt:      now.Add(time.Hour),
		}},
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// The group of the suite's notifications.
const (
	ReceiverName   = "conformance"
	GroupAlertname = "ConformanceDown"
	GroupKey       = `{}:{alertname="ConformanceDown"}`
)

// Firing returns the data of a group with two alerts, one firing.
func Firing() *notify.Data { return data(false) }

// Resolved returns the data of the same group, both alerts resolved.
func Resolved() *notify.Data { return data(true) }

func data(resolved bool) *notify.Data {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	end := start.Add(10 * time.Minute)
	a := []notify.DataAlert{
		{
			Status:       notify.StatusResolved,
			Labels:       notify.KV{"alertname": GroupAlertname, "instance": "a:9100", "severity": "page"},
			Annotations:  notify.KV{"summary": "a is down"},
			StartsAt:     start,
			EndsAt:       end,
			GeneratorURL: "http://prometheus.example/graph?g0.expr=up+%3D%3D+0",
			Fingerprint:  "0123456789abcdef",
		},
		{
			Status:       notify.StatusFiring,
			Labels:       notify.KV{"alertname": GroupAlertname, "instance": "b:9100", "severity": "page"},
			Annotations:  notify.KV{"summary": "b is down"},
			StartsAt:     start,
			GeneratorURL: "http://prometheus.example/graph?g0.expr=up+%3D%3D+0",
			Fingerprint:  "fedcba9876543210",
		},
	}
	status := notify.StatusFiring
	if resolved {
		a[1].Status, a[1].EndsAt = notify.StatusResolved, end
		status = notify.StatusResolved
	}
	return &notify.Data{
		Receiver:          ReceiverName,
		Status:            status,
		Alerts:            a,
		GroupLabels:       notify.KV{"alertname": GroupAlertname},
		CommonLabels:      notify.KV{"alertname": GroupAlertname, "severity": "page"},
		CommonAnnotations: notify.KV{},
		ExternalURL:       "http://alertd.example:9093",
		GroupKey:          GroupKey,
	}
}

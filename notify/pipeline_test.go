package notify_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/store"
)

// alertsAt parses a group's alerts at tick now: "a" fires, "a-" resolved
// a second before now, "a~" fires with another annotation and StartsAt
// (it flapped, or its value changed) than "a".
func alertsAt(spec string, now time.Time) []*alert.Alert {
	var out []*alert.Alert
	for _, f := range strings.Fields(spec) {
		switch {
		case strings.HasSuffix(f, "-"):
			out = append(out, resolved(strings.TrimSuffix(f, "-"), now.Add(-time.Second)))
		case strings.HasSuffix(f, "~"):
			a := firing(strings.TrimSuffix(f, "~"))
			a.Annotations = labels.FromStrings("summary", "changed", "value", "42")
			a.StartsAt = now.Add(-30 * time.Second)
			out = append(out, a)
		default:
			out = append(out, firing(f))
		}
	}
	return out
}

// TestTriggerTable drives the pipeline through the situations of spec
// §2.5, one aggregation group ticking every 5m, and checks what the
// webhook receives at each tick.
func TestTriggerTable(t *testing.T) {
	type step struct {
		at     time.Duration // after t0
		alerts string        // see alertsAt
		muted  string        // instances silenced at this tick
		want   string        // the request's summary; "" none
	}
	for _, tc := range []struct {
		name         string
		sendResolved bool
		repeat       time.Duration // 0: 4h
		steps        []step
	}{
		{
			name: "no entry, firing: first notification",
			steps: []step{
				{0, "a", "", "firing a"},
			},
		},
		{
			name: "no entry, only resolved: dropped",
			steps: []step{
				{0, "a-", "", ""},
				{5 * time.Minute, "a- b-", "", ""},
			},
		},
		{
			name:         "a firing label set not in the last notification",
			sendResolved: true,
			steps: []step{
				{0, "a", "", "firing a"},
				{5 * time.Minute, "a b", "", "firing a b"},
				{10 * time.Minute, "a b", "", ""},
			},
		},
		{
			name:         "an alert resolved, others fire, send_resolved",
			sendResolved: true,
			steps: []step{
				{0, "a b", "", "firing a b"},
				{5 * time.Minute, "a- b", "", "firing a- b"},
				{10 * time.Minute, "a- b", "", ""},
				{15 * time.Minute, "b", "", ""},
			},
		},
		{
			name: "an alert resolved, others fire, no send_resolved",
			steps: []step{
				{0, "a b", "", "firing a b"},
				{5 * time.Minute, "a- b", "", ""},
				{10 * time.Minute, "b", "", ""},
			},
		},
		{
			name: "new alert and a resolved one, no send_resolved: resolved stripped",
			steps: []step{
				{0, "a b", "", "firing a b"},
				{5 * time.Minute, "a- b c", "", "firing b c"},
			},
		},
		{
			name:         "firing set shrank because an alert got silenced",
			sendResolved: true,
			steps: []step{
				{0, "a b", "", "firing a b"},
				{5 * time.Minute, "a b", "b", ""},
				{10 * time.Minute, "a b", "", ""},
			},
		},
		{
			name:         "all alerts resolved after firing ones, send_resolved",
			sendResolved: true,
			steps: []step{
				{0, "a b", "", "firing a b"},
				{5 * time.Minute, "a- b-", "", "resolved a- b-"},
				{10 * time.Minute, "a- b-", "", ""},
			},
		},
		{
			name: "all alerts resolved, no send_resolved: not called but logged",
			steps: []step{
				{0, "a", "", "firing a"},
				{5 * time.Minute, "a-", "", ""},
				// The log says the last notification had no firing
				// alert, so a firing one is a first notification again.
				{10 * time.Minute, "a", "", "firing a"},
			},
		},
		{
			name:         "all alerts resolved and the last notification had none",
			sendResolved: true,
			steps: []step{
				{0, "a", "", "firing a"},
				{5 * time.Minute, "a-", "", "resolved a-"},
				// b fired and resolved between two ticks.
				{10 * time.Minute, "b-", "", ""},
			},
		},
		{
			name:   "nothing changed: repeat strictly after repeat_interval",
			repeat: 20 * time.Minute,
			steps: []step{
				{0, "a", "", "firing a"},
				{5 * time.Minute, "a", "", ""},
				{20 * time.Minute, "a", "", ""},
				{25 * time.Minute, "a", "", "firing a"},
				{45 * time.Minute, "a", "", ""},
				{50 * time.Minute, "a", "", "firing a"},
			},
		},
		{
			name:         "annotation or value changes only: never",
			sendResolved: true,
			steps: []step{
				{0, "a b", "", "firing a b"},
				{5 * time.Minute, "a~ b", "", ""},
				{10 * time.Minute, "a~ b~", "", ""},
			},
		},
		{
			name:         "alert flaps resolved to firing between two ticks: invisible",
			sendResolved: true,
			steps: []step{
				{0, "a", "", "firing a"},
				// Resolved at 0:02, firing again at 0:04:30.
				{5 * time.Minute, "a~", "", ""},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, nil)
			silencer := &muter{}
			p := newPipeline(t, notify.Options{
				Receivers: map[string][]notify.Integration{receiverName: {hook(t, 0, rec, tc.sendResolved)}},
				Silencer:  silencer,
			})
			repeat := tc.repeat
			if repeat == 0 {
				repeat = 4 * time.Hour
			}
			for _, s := range tc.steps {
				now := t0.Add(s.at)
				silencer.set(strings.Fields(s.muted)...)
				if err := p.Notify(ctxFor(t), flush(now, repeat, alertsAt(s.alerts, now)...)); err != nil {
					t.Fatalf("tick %s: %v", s.at, err)
				}
				var got []string
				for _, r := range rec.take() {
					got = append(got, r.summary())
				}
				var want []string
				if s.want != "" {
					want = []string{s.want}
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("tick %s, alerts %q: requests (-want +got):\n%s", s.at, s.alerts, d)
				}
			}
		})
	}
}

// TestEffectiveRepeatPeriod checks spec §2.5: with flushes at
// group_interval ticks, an unchanged group is notified again every
// (floor(repeat/GI)+1)×GI.
func TestEffectiveRepeatPeriod(t *testing.T) {
	for _, tc := range []struct {
		name       string
		gi, repeat time.Duration
		want       time.Duration
	}{
		{"defaults 5m/4h", 5 * time.Minute, 4 * time.Hour, 4*time.Hour + 5*time.Minute},
		{"5m/5m", 5 * time.Minute, 5 * time.Minute, 10 * time.Minute},
		{"15m/20m", 15 * time.Minute, 20 * time.Minute, 30 * time.Minute},
		{"repeat below group_interval", 5 * time.Minute, time.Minute, 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, nil)
			p := newPipeline(t, notify.Options{
				Receivers: map[string][]notify.Integration{receiverName: {hook(t, 0, rec, true)}},
			})
			var sent []time.Duration
			for at := time.Duration(0); len(sent) < 3; at += tc.gi {
				if at > 3*(tc.repeat+tc.gi) {
					t.Fatalf("notified at %v only", sent)
				}
				now := t0.Add(at)
				if err := p.Notify(ctxFor(t), flush(now, tc.repeat, alertsAt("a", now)...)); err != nil {
					t.Fatal(err)
				}
				if len(rec.take()) > 0 {
					sent = append(sent, at)
				}
			}
			want := []time.Duration{0, tc.want, 2 * tc.want}
			if d := cmp.Diff(want, sent); d != "" {
				t.Errorf("notified at (-want +got):\n%s", d)
			}
		})
	}
}

// TestMutedAlertReappearsAsNew: a muted alert is invisible to dedup, so
// when it is no longer muted it is a new alert of the group.
func TestMutedAlertReappearsAsNew(t *testing.T) {
	for _, by := range []string{"silence", "inhibition"} {
		t.Run(by, func(t *testing.T) {
			rec := newRecorder(t, nil)
			m := &muter{}
			o := notify.Options{Receivers: map[string][]notify.Integration{receiverName: {hook(t, 0, rec, true)}}}
			if by == "silence" {
				o.Silencer = m
			} else {
				o.Inhibitor = m
			}
			reg := prometheus.NewRegistry()
			o.Registerer = reg
			p := newPipeline(t, o)

			for _, s := range []struct {
				at    time.Duration
				muted string
				want  []string
			}{
				{0, "b", []string{"firing a"}},
				{5 * time.Minute, "b", nil},
				{10 * time.Minute, "a b", nil}, // all muted: ends before dedup
				{15 * time.Minute, "", []string{"firing a b"}},
			} {
				m.set(strings.Fields(s.muted)...)
				now := t0.Add(s.at)
				if err := p.Notify(ctxFor(t), flush(now, 4*time.Hour, alertsAt("a b", now)...)); err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, r := range rec.take() {
					got = append(got, r.summary())
				}
				if d := cmp.Diff(s.want, got); d != "" {
					t.Errorf("tick %s: requests (-want +got):\n%s", s.at, d)
				}
			}
			if got := metric(t, reg, "alertd_notifications_suppressed_total", "reason", by); got != 4 {
				t.Errorf("suppressed{reason=%q} = %v, want 4", by, got)
			}
		})
	}
}

func TestTimeIntervals(t *testing.T) {
	cfg, err := amconfig.Load(`
route: {receiver: team-x}
receivers: [{name: team-x}]
time_intervals:
  - name: weekdays
    time_intervals: [{weekdays: ['monday:friday']}]
  - name: night
    time_intervals: [{times: [{start_time: '00:00', end_time: '06:00'}]}]
mute_time_intervals:
  - name: march
    time_intervals: [{months: ['march']}]
`)
	if err != nil {
		t.Fatal(err)
	}
	monday3am := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	monday12 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	saturday12 := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	april := time.Date(2026, 4, 6, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name           string
		active, mute   []string
		now            time.Time
		wantNotified   bool
		wantSuppressed string // reason
		wantErr        string
	}{
		{name: "active interval contains now", active: []string{"weekdays"}, now: monday12, wantNotified: true},
		{name: "no active interval contains now", active: []string{"night"}, now: monday12, wantSuppressed: "active_time_interval"},
		{name: "any active interval may contain now", active: []string{"night", "weekdays"}, now: monday12, wantNotified: true},
		{name: "active interval outside the weekdays", active: []string{"weekdays"}, now: saturday12, wantSuppressed: "active_time_interval"},
		{name: "mute interval contains now", mute: []string{"night"}, now: monday3am, wantSuppressed: "mute_time_interval"},
		{name: "mute interval does not contain now", mute: []string{"night"}, now: monday12, wantNotified: true},
		{name: "mute_time_intervals entry", mute: []string{"march"}, now: monday12, wantSuppressed: "mute_time_interval"},
		{name: "mute_time_intervals entry outside", mute: []string{"march"}, now: april, wantNotified: true},
		{name: "active and muted: muted", active: []string{"weekdays"}, mute: []string{"night"}, now: monday3am, wantSuppressed: "mute_time_interval"},
		{name: "unknown interval", mute: []string{"nope"}, now: monday12, wantErr: "mute_time_intervals: time interval nope doesn't exist in config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, nil)
			reg := prometheus.NewRegistry()
			p := newPipeline(t, notify.Options{
				Receivers:     map[string][]notify.Integration{receiverName: {hook(t, 0, rec, true)}},
				TimeIntervals: notify.TimeIntervals(cfg),
				Registerer:    reg,
			})
			n := flush(tc.now, 4*time.Hour, alertsAt("a b", tc.now)...)
			n.ActiveTimeIntervals, n.MuteTimeIntervals = tc.active, tc.mute
			err := p.Notify(ctxFor(t), n)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := len(rec.take()) > 0; got != tc.wantNotified {
				t.Errorf("notified %v, want %v", got, tc.wantNotified)
			}
			if tc.wantSuppressed != "" {
				if got := metric(t, reg, "alertd_notifications_suppressed_total", "reason", tc.wantSuppressed); got != 2 {
					t.Errorf("suppressed{reason=%q} = %v, want 2", tc.wantSuppressed, got)
				}
			}
			// A suppressed flush leaves the log alone: the next tick
			// without intervals is a first notification.
			later := tc.now.Add(groupInterval)
			if err := p.Notify(ctxFor(t), flush(later, 4*time.Hour, alertsAt("a b", later)...)); err != nil {
				t.Fatal(err)
			}
			if got := len(rec.take()) > 0; got == tc.wantNotified {
				t.Errorf("next tick notified %v, want %v", got, !tc.wantNotified)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name string
		// alertmanagerBackoff keeps the 500ms×1.5 backoff; the others
		// wait milliseconds.
		alertmanagerBackoff bool
		respond             func(n int, w http.ResponseWriter, r *http.Request)
		deadline            time.Duration
		// Requests the receiver gets; -1: more than one.
		wantRequests int
		wantErr      string // "" success
		wantReason   string
		// Minimum time between the first two requests.
		wantGap time.Duration
	}{
		{
			name: "500 then 200",
			respond: func(n int, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					w.WriteHeader(http.StatusInternalServerError)
				}
			},
			deadline:     10 * time.Second,
			wantRequests: 2,
		},
		{
			name: "400 is not retried",
			respond: func(_ int, w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "bad payload", http.StatusBadRequest)
			},
			deadline:     10 * time.Second,
			wantRequests: 1,
			wantErr:      "team-x/webhook[0]: notify retry canceled due to unrecoverable error after 1 attempts: unexpected status code 400: bad payload",
			wantReason:   "clientError",
		},
		{
			name:         "401 is not retried",
			respond:      func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) },
			deadline:     10 * time.Second,
			wantRequests: 1,
			wantErr:      "unrecoverable error after 1 attempts: unexpected status code 401",
			wantReason:   "authError",
		},
		{
			name:         "500 until the deadline",
			respond:      func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) },
			deadline:     300 * time.Millisecond,
			wantRequests: -1,
			wantErr:      "attempts: unexpected status code 502",
			wantReason:   "serverError",
		},
		{
			name: "429 waits for Retry-After",
			respond: func(n int, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", "1")
					w.WriteHeader(http.StatusTooManyRequests)
				}
			},
			deadline:     10 * time.Second,
			wantRequests: 2,
			wantGap:      time.Second,
		},
		{
			name: "429 with a Retry-After past the deadline gives up at once",
			respond: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "3600")
				w.WriteHeader(http.StatusTooManyRequests)
			},
			deadline:     10 * time.Second,
			wantRequests: 1,
			wantErr:      "Retry-After 1h0m0s ends past the flush deadline: unexpected status code 429",
			wantReason:   "rateLimited",
		},
		{
			name: "a request that outlives the deadline",
			respond: func(_ int, _ http.ResponseWriter, r *http.Request) {
				<-r.Context().Done() // the client gives up
			},
			deadline:     200 * time.Millisecond,
			wantRequests: 1,
			wantErr:      "notify retry canceled after 1 attempts: context deadline exceeded",
			wantReason:   "contextDeadlineExceeded",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, tc.respond)
			reg := prometheus.NewRegistry()
			o := notify.Options{
				Receivers:  map[string][]notify.Integration{receiverName: {hook(t, 0, rec, true)}},
				Registerer: reg,
			}
			p := newPipeline(t, o)
			if tc.alertmanagerBackoff {
				notify.SetBackoff(p, notify.DefaultBackoffInitial, notify.DefaultBackoffMax)
			}
			ctx, cancel := context.WithTimeout(t.Context(), tc.deadline)
			defer cancel()
			start := time.Now()
			err := p.Notify(ctx, flush(t0, 4*time.Hour, alertsAt("a", t0)...))
			if took := time.Since(start); took > tc.deadline+time.Second {
				t.Errorf("Notify took %s with a deadline of %s", took, tc.deadline)
			}
			reqs := rec.take()
			switch {
			case tc.wantRequests == -1 && len(reqs) < 2, tc.wantRequests >= 0 && len(reqs) != tc.wantRequests:
				t.Errorf("%d requests, want %d", len(reqs), tc.wantRequests)
			case tc.wantGap > 0 && len(reqs) > 1 && reqs[1].at.Sub(reqs[0].at) < tc.wantGap:
				t.Errorf("retried after %s, want at least %s", reqs[1].at.Sub(reqs[0].at), tc.wantGap)
			}
			// Every attempt is counted; the one the deadline cuts short
			// may not have reached the receiver.
			if got := metric(t, reg, "alertd_notification_requests_total", "integration", "webhook"); got != float64(len(reqs)) &&
				(tc.wantRequests != -1 || got != float64(len(reqs)+1)) {
				t.Errorf("requests_total %v, want %d", got, len(reqs))
			}

			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Notify: %v", err)
				}
				// Logged: the next tick sends nothing.
				if err := p.Notify(ctxFor(t), flush(t0.Add(groupInterval), 4*time.Hour, alertsAt("a", t0)...)); err != nil || len(rec.take()) != 0 {
					t.Errorf("next tick after a success: %v, or it sent again", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if got := metric(t, reg, "alertd_notifications_failed_total", "integration", "webhook", "reason", tc.wantReason); got != 1 {
				t.Errorf("failed_total{reason=%q} = %v, want 1", tc.wantReason, got)
			}
			// Nothing logged: the next tick tries again.
			ctx2, cancel2 := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel2()
			_ = p.Notify(ctx2, flush(t0.Add(groupInterval), 4*time.Hour, alertsAt("a", t0)...))
			if len(rec.take()) == 0 {
				t.Error("the next tick after a failure sent nothing")
			}
		})
	}
}

// TestFanOut: each integration of a receiver dedups, retries and logs on
// its own; one failing fails the flush without the others re-sending.
func TestFanOut(t *testing.T) {
	good := newRecorder(t, nil)
	bad := newRecorder(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	p := newPipeline(t, notify.Options{
		Receivers: map[string][]notify.Integration{receiverName: {hook(t, 0, good, true), hook(t, 1, bad, false)}},
	})
	err := p.Notify(ctxFor(t), flush(t0, 4*time.Hour, alertsAt("a", t0)...))
	if err == nil || !strings.Contains(err.Error(), "team-x/webhook[1]: ") || strings.Contains(err.Error(), "webhook[0]") {
		t.Fatalf("error %v, want webhook[1]'s only", err)
	}
	if len(good.take()) != 1 || len(bad.take()) != 1 {
		t.Fatal("each webhook should have had one request")
	}
	now := t0.Add(groupInterval)
	if err := p.Notify(ctxFor(t), flush(now, 4*time.Hour, alertsAt("a", now)...)); err != nil {
		t.Fatal(err)
	}
	if n := len(good.take()); n != 0 {
		t.Errorf("the webhook that succeeded got %d more requests", n)
	}
	if n := len(bad.take()); n != 1 {
		t.Errorf("the webhook that failed got %d requests at the next tick, want 1", n)
	}
}

func TestNotificationLogPersists(t *testing.T) {
	dir := t.TempDir()
	rec := newRecorder(t, nil)
	open := func() (*store.Store, *notify.Pipeline) {
		s, err := store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s, newPipeline(t, notify.Options{
			Receivers: map[string][]notify.Integration{receiverName: {hook(t, 0, rec, true)}},
			Store:     s,
		})
	}

	s, p := open()
	if err := p.Notify(ctxFor(t), flush(t0, 4*time.Hour, alertsAt("a", t0)...)); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.take()); got != 1 {
		t.Fatalf("%d requests, want 1", got)
	}
	var keys []string
	if err := s.ForEach("nflog", func(k string, _ []byte) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{groupKey + ":team-x/webhook/0"}, keys); d != "" {
		t.Errorf("nflog keys (-want +got):\n%s", d)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart: a new Pipeline on the same store knows what was sent.
	s, p = open()
	defer func() { _ = s.Close() }()
	for _, tc := range []struct {
		at   time.Duration
		want int
	}{
		{groupInterval, 0},
		{4 * time.Hour, 0},
		{4*time.Hour + groupInterval, 1}, // the repeat
	} {
		now := t0.Add(tc.at)
		if err := p.Notify(ctxFor(t), flush(now, 4*time.Hour, alertsAt("a", now)...)); err != nil {
			t.Fatal(err)
		}
		if got := len(rec.take()); got != tc.want {
			t.Errorf("after the restart, tick %s: %d requests, want %d", tc.at, got, tc.want)
		}
	}
}

// TestTwoPipelinesShareTheStore: during a reload the old and the new
// Pipeline run at once; what one sends, the other knows.
func TestTwoPipelinesShareTheStore(t *testing.T) {
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	rec := newRecorder(t, nil)
	o := notify.Options{Receivers: map[string][]notify.Integration{receiverName: {hook(t, 0, rec, true)}}, Store: s}
	newP, oldP := newPipeline(t, o), newPipeline(t, o)
	if err := oldP.Notify(ctxFor(t), flush(t0, 4*time.Hour, alertsAt("a", t0)...)); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(groupInterval)
	if err := newP.Notify(ctxFor(t), flush(now, 4*time.Hour, alertsAt("a", now)...)); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.take()); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}

func TestReceivers(t *testing.T) {
	rec := newRecorder(t, nil)
	p := newPipeline(t, notify.Options{
		Receivers: map[string][]notify.Integration{receiverName: {hook(t, 0, rec, true)}, "null": nil},
	})
	n := flush(t0, 4*time.Hour, alertsAt("a", t0)...)
	n.Receiver = "null"
	if err := p.Notify(ctxFor(t), n); err != nil {
		t.Errorf("a receiver without integrations: %v", err)
	}
	n.Receiver = "nobody"
	if err := p.Notify(ctxFor(t), n); err == nil || !strings.Contains(err.Error(), `unknown receiver "nobody"`) {
		t.Errorf("an unknown receiver: %v", err)
	}
	if len(rec.take()) != 0 {
		t.Error("team-x's webhook was called")
	}
}

func TestMetricsSurviveReRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	rec := newRecorder(t, nil)
	o := notify.Options{Receivers: map[string][]notify.Integration{receiverName: {hook(t, 0, rec, true)}}, Registerer: reg}
	for i := range 2 {
		p := newPipeline(t, o) // the second is a reload
		now := t0.Add(time.Duration(i) * 5 * time.Hour)
		if err := p.Notify(ctxFor(t), flush(now, 4*time.Hour, alertsAt("a", now)...)); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []struct {
		name string
		lbls []string
		want float64
	}{
		{"alertd_notifications_total", []string{"integration", "webhook"}, 2},
		{"alertd_notification_requests_total", []string{"integration", "webhook"}, 2},
		{"alertd_notification_latency_seconds", []string{"integration", "webhook"}, 2},
		{"alertd_notification_requests_failed_total", []string{"integration", "webhook"}, 0},
		{"alertd_notifications_failed_total", []string{"integration", "webhook", "reason", "serverError"}, 0},
		{"alertd_notifications_suppressed_total", []string{"reason", "silence"}, 0},
	} {
		if got := metric(t, reg, m.name, m.lbls...); got != m.want {
			t.Errorf("%s%v = %v, want %v", m.name, m.lbls, got, m.want)
		}
	}
}

// flaky is an integration that fails as told; for what the webhook
// cannot do (return any error).
type flaky struct {
	err   error
	retry bool
	calls int
}

func (f *flaky) Name() string       { return "flaky" }
func (f *flaky) Index() int         { return 0 }
func (f *flaky) SendResolved() bool { return true }
func (f *flaky) Notify(context.Context, *notify.Data) (bool, error) {
	f.calls++
	return f.retry, f.err
}

func TestFailureReasonOfAnyError(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := &flaky{err: errors.New("no"), retry: false}
	p := newPipeline(t, notify.Options{Receivers: map[string][]notify.Integration{receiverName: {f}}, Registerer: reg})
	err := p.Notify(ctxFor(t), flush(t0, 4*time.Hour, alertsAt("a", t0)...))
	if err == nil || f.calls != 1 {
		t.Fatalf("error %v after %d calls", err, f.calls)
	}
	if got := metric(t, reg, "alertd_notifications_failed_total", "integration", "flaky", "reason", "other"); got != 1 {
		t.Errorf("failed_total{reason=other} = %v", got)
	}
}

// asyncLogOptions are the options of pipelines sharing a store in which
// the log is written in the background, only when Run returns (or on
// FlushLog), and the recorder of their one webhook.
func asyncLogOptions(t *testing.T) (notify.Options, *recorder) {
	t.Helper()
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	rec := newRecorder(t, nil)
	return notify.Options{
		Receivers:        map[string][]notify.Integration{receiverName: {hook(t, 0, rec, true)}},
		Store:            s,
		LogFlushInterval: time.Hour,
	}, rec
}

// TestAsyncLogSurvivesRestart: with LogFlushInterval the log is written in
// the background; when Run returns everything logged is in the store, so
// the next Pipeline on it (the one a reload or restart builds) does not
// notify again.
func TestAsyncLogSurvivesRestart(t *testing.T) {
	o, rec := asyncLogOptions(t)
	first := newPipeline(t, o)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	if err := first.Notify(ctxFor(t), flush(t0, 4*time.Hour, alertsAt("a", t0)...)); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(groupInterval)
	if err := first.Notify(ctxFor(t), flush(now, 4*time.Hour, alertsAt("a", now)...)); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.take()); got != 1 {
		t.Fatalf("%d requests before the restart, want 1", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	second := newPipeline(t, o)
	now = t0.Add(2 * groupInterval)
	if err := second.Notify(ctxFor(t), flush(now, 4*time.Hour, alertsAt("a", now)...)); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.take()); got != 0 {
		t.Errorf("%d requests after the restart, want 0", got)
	}
}

// TestFlushLogAfterRun: a flush that completes after Run has written the
// log for the last time (the dispatcher's last flushes, while a half
// stops) reaches the store through FlushLog, so the next Pipeline does
// not notify it again.
func TestFlushLogAfterRun(t *testing.T) {
	o, rec := asyncLogOptions(t)
	first := newPipeline(t, o)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Run is over; a last flush completes.
	if err := first.Notify(ctxFor(t), flush(t0, 4*time.Hour, alertsAt("a", t0)...)); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.take()); got != 1 {
		t.Fatalf("%d requests, want 1", got)
	}
	if err := first.FlushLog(); err != nil {
		t.Fatal(err)
	}
	second := newPipeline(t, o)
	now := t0.Add(groupInterval)
	if err := second.Notify(ctxFor(t), flush(now, 4*time.Hour, alertsAt("a", now)...)); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.take()); got != 0 {
		t.Errorf("%d requests from the next pipeline, want 0 (the last flush is in the log)", got)
	}
}

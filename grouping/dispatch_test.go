package grouping

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
)

type flushRecord struct {
	At     time.Duration // since the test start
	Key    string
	Alerts string // labels; "(resolved)" after resolved ones
}

type recorder struct {
	start time.Time
	mu    sync.Mutex
	got   []flushRecord
	fail  func(n *alert.Notification) error
	delay time.Duration
}

func (r *recorder) Notify(ctx context.Context, n *alert.Notification) error {
	var parts []string
	for _, a := range n.Alerts {
		s := a.Labels.String()
		if a.Resolved(n.Now) {
			s += "(resolved)"
		}
		parts = append(parts, s)
	}
	r.mu.Lock()
	r.got = append(r.got, flushRecord{At: n.Now.Sub(r.start), Key: n.GroupKey, Alerts: strings.Join(parts, " ")})
	fail := r.fail
	r.mu.Unlock()
	if r.delay > 0 {
		select {
		case <-time.After(r.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail != nil {
		return fail(n)
	}
	return nil
}

func (r *recorder) records() []flushRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]flushRecord(nil), r.got...)
}

func newTestDispatcher(t *testing.T, routeYAML string, rec *recorder) *Dispatcher {
	t.Helper()
	cfg, err := amconfig.Load(routeYAML)
	if err != nil {
		t.Fatal(err)
	}
	return NewDispatcher(DispatcherOptions{Route: NewRoute(cfg.Route, nil), Notifier: rec})
}

func firing(ls labels.Labels, startsAt time.Time) *alert.Alert {
	return &alert.Alert{Labels: ls, StartsAt: startsAt, EndsAt: startsAt.Add(time.Hour), UpdatedAt: startsAt}
}

const simpleRoute = `
route:
  receiver: r
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers: [{name: r}]
`

func TestDispatcherTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		rec := &recorder{start: start}
		d := newTestDispatcher(t, simpleRoute, rec)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- d.Run(ctx) }()

		a := labels.FromStrings("alertname", "A", "instance", "1")
		d.Put(firing(a, start))
		time.Sleep(10 * time.Second)
		// A second alert of the group between ticks waits for the tick.
		b := labels.FromStrings("alertname", "A", "instance", "2")
		d.Put(firing(b, time.Now()))
		time.Sleep(6 * time.Minute)
		// a resolves; the next tick carries it as resolved, then it is gone.
		resolved := firing(a, start)
		resolved.EndsAt = time.Now()
		resolved.UpdatedAt = time.Now()
		d.Put(resolved)
		time.Sleep(10 * time.Minute)
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}

		key := `{}:{alertname="A"}`
		want := []flushRecord{
			{30 * time.Second, key, `{alertname="A", instance="1"} {alertname="A", instance="2"}`},
			{330 * time.Second, key, `{alertname="A", instance="1"} {alertname="A", instance="2"}`},
			{630 * time.Second, key, `{alertname="A", instance="1"}(resolved) {alertname="A", instance="2"}`},
			{930 * time.Second, key, `{alertname="A", instance="2"}`},
		}
		if diff := cmp.Diff(want, rec.records()); diff != "" {
			t.Errorf("flushes (-want +got):\n%s", diff)
		}
	})
}

func TestDispatcherOldAlertFlushesAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		rec := &recorder{start: start}
		d := newTestDispatcher(t, simpleRoute, rec)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- d.Run(ctx) }()
		d.Put(firing(labels.FromStrings("alertname", "Old"), start.Add(-time.Hour)))
		time.Sleep(time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		if got := rec.records(); len(got) != 1 || got[0].At != 0 {
			t.Errorf("flushes: %+v, want one at once", got)
		}
	})
}

func TestDispatcherKeepsResolvedUntilSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		fails := 1
		rec := &recorder{start: start}
		rec.fail = func(*alert.Notification) error {
			if fails > 0 {
				fails--
				return errors.New("receiver down")
			}
			return nil
		}
		d := newTestDispatcher(t, simpleRoute, rec)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- d.Run(ctx) }()
		a := firing(labels.FromStrings("alertname", "A"), start)
		a.EndsAt = start.Add(time.Second) // resolves before the first flush
		d.Put(a)
		time.Sleep(11 * time.Minute)
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		got := rec.records()
		// The failed flush keeps the resolved alert; the next one succeeds
		// and the group, now empty, is gone.
		if len(got) != 2 || got[0].At != 30*time.Second || got[1].At != 330*time.Second || !strings.Contains(got[1].Alerts, "(resolved)") {
			t.Errorf("flushes: %+v", got)
		}
		if gs := d.Groups(); len(gs) != 0 {
			t.Errorf("groups left: %+v", gs)
		}
	})
}

func TestDispatcherSlowFlushDoesNotOverlap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		rec := &recorder{start: start, delay: 7 * time.Minute}
		d := newTestDispatcher(t, simpleRoute, rec)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- d.Run(ctx) }()
		d.Put(firing(labels.FromStrings("alertname", "A"), start))
		time.Sleep(20 * time.Minute)
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		var ats []time.Duration
		for _, r := range rec.records() {
			ats = append(ats, r.At)
		}
		// Ticks at 0:30 and 5:30; the first flush lasts until its 5m
		// deadline (max(group_interval, 10s)), so the due tick runs right
		// after it, at 5:30; then every 5m from the scheduler's cadence.
		if len(ats) < 3 || ats[0] != 30*time.Second {
			t.Errorf("flush times: %v", ats)
		}
		for i := 1; i < len(ats); i++ {
			if ats[i] <= ats[i-1] {
				t.Errorf("flushes overlap or go back: %v", ats)
			}
		}
	})
}

func TestDispatcherRoutesAndGroups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		rec := &recorder{start: start}
		d := newTestDispatcher(t, routingConfig, rec)
		ls := labels.FromStrings("alertname", "A", "team", "db", "severity", "page", "env", "prod", "cluster", "c1", "instance", "y")
		d.Put(firing(ls, start))
		if got := d.Receivers(ls); fmt.Sprint(got) != "[db-prod db-all]" {
			t.Errorf("receivers: %v", got)
		}
		gs := d.Groups()
		if len(gs) != 2 {
			t.Fatalf("groups: %+v", gs)
		}
		keys := []string{gs[0].Key, gs[1].Key}
		want := []string{
			`{}/{team="db"}:{alertname="A"}`,
			`{}/{severity=~"page|critical",team="db"}/{env="prod"}:{alertname="A", cluster="c1"}`,
		}
		if diff := cmp.Diff(want, keys); diff != "" {
			t.Errorf("group keys (-want +got):\n%s", diff)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- d.Run(ctx) }()
		time.Sleep(time.Minute)
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		// db-prod's group_wait is 10s, db-all's the inherited 30s.
		got := rec.records()
		if len(got) != 2 || got[0].At != 10*time.Second || got[1].At != 30*time.Second {
			t.Errorf("flushes: %+v", got)
		}
	})
}

func TestCompareAlertsIsAlertmanagersOrder(t *testing.T) {
	mk := func(kv ...string) *alert.Alert { return &alert.Alert{Labels: labels.FromStrings(kv...)} }
	as := []*alert.Alert{
		mk("alertname", "Z"),
		mk("alertname", "A", "instance", "b", "job", "x"),
		mk("alertname", "A", "instance", "a", "job", "x"),
		mk("alertname", "A", "job", "a"),
		mk("alertname", "A", "instance", "a"),
		mk("a", "1", "b", "2"),
	}
	want := []string{
		`{alertname="A", job="a"}`,
		`{alertname="A", instance="a", job="x"}`,
		`{alertname="A", instance="b", job="x"}`,
		`{alertname="A", instance="a"}`,
		`{alertname="Z"}`,
		`{a="1", b="2"}`,
	}
	sorted := append([]*alert.Alert(nil), as...)
	slicesSort(sorted)
	var got []string
	for _, a := range sorted {
		got = append(got, a.Labels.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func slicesSort(as []*alert.Alert) {
	for i := 1; i < len(as); i++ {
		for j := i; j > 0 && compareAlerts(as[j], as[j-1]) < 0; j-- {
			as[j], as[j-1] = as[j-1], as[j]
		}
	}
}

// TestDispatcherFlushLimit: at most MaxFlushes flushes start at once, and
// one still running after SlowFlush frees its place, so a slow receiver
// delays the others by SlowFlush at most.
func TestDispatcherFlushLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		var started []time.Duration
		slow := notifierFunc(func(ctx context.Context, _ *alert.Notification) error {
			mu.Lock()
			started = append(started, time.Since(start))
			mu.Unlock()
			select {
			case <-time.After(10 * time.Second):
			case <-ctx.Done():
			}
			return nil
		})
		cfg, err := amconfig.Load(simpleRoute)
		if err != nil {
			t.Fatal(err)
		}
		d := NewDispatcher(DispatcherOptions{Route: NewRoute(cfg.Route, nil), Notifier: slow, MaxFlushes: 2})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- d.Run(ctx) }()
		for i := range 5 {
			d.Put(firing(labels.FromStrings("alertname", fmt.Sprint("A", i)), start))
		}
		time.Sleep(40 * time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		want := []time.Duration{30 * time.Second, 30 * time.Second, 31 * time.Second, 31 * time.Second, 32 * time.Second}
		if diff := cmp.Diff(want, started); diff != "" {
			t.Errorf("flush starts (-want +got):\n%s", diff)
		}
	})
}

type notifierFunc func(ctx context.Context, n *alert.Notification) error

func (f notifierFunc) Notify(ctx context.Context, n *alert.Notification) error { return f(ctx, n) }

// TestDispatcherDrain: a flush under way when Drain is called completes
// (its context is not cancelled), and no flush starts after it.
func TestDispatcherDrain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		rec := &recorder{start: start, delay: 5 * time.Second}
		d := newTestDispatcher(t, simpleRoute, rec)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- d.Run(ctx) }()
		d.Put(firing(labels.FromStrings("alertname", "A"), start))
		time.Sleep(31 * time.Second) // A's flush runs until 35s
		d.Put(firing(labels.FromStrings("alertname", "B"), start.Add(31*time.Second)))
		drained := make(chan struct{})
		go func() {
			dctx, dcancel := context.WithTimeout(t.Context(), time.Minute)
			defer dcancel()
			d.Drain(dctx)
			close(drained)
		}()
		<-drained
		if at := time.Since(start); at != 35*time.Second {
			t.Errorf("Drain returned at %s, want when A's flush ended (35s)", at)
		}
		time.Sleep(time.Minute) // B's group_wait passes: not flushed
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		got := rec.records()
		if len(got) != 1 || got[0].Key != `{}:{alertname="A"}` {
			t.Errorf("flushes: %+v, want A's only", got)
		}
	})
}

// TestDispatcherFlushContext: a flush's context has the flush's deadline,
// max(group_interval, 10s) from its start, and ends there with
// DeadlineExceeded (a context derived from it too, as its error and its
// cause); the
// next flush on the same worker gets a context of its own, not ended; and
// every flush context ends with Run's.
func TestDispatcherFlushContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type flushSeen struct {
			at, deadlineIn time.Duration
			errAtStart     error
			err, cause     error
			childErr       error
			childCause     error
		}
		start := time.Now()
		var (
			mu   sync.Mutex
			seen []flushSeen
		)
		n := notifierFunc(func(ctx context.Context, _ *alert.Notification) error {
			child, cancel := context.WithCancel(ctx)
			defer cancel()
			dl, ok := ctx.Deadline()
			if !ok {
				t.Error("a flush context without a deadline")
			}
			f := flushSeen{at: time.Since(start), deadlineIn: time.Until(dl), errAtStart: ctx.Err()}
			<-ctx.Done()
			<-child.Done()
			f.err, f.cause, f.childErr, f.childCause = ctx.Err(), context.Cause(ctx), child.Err(), context.Cause(child)
			mu.Lock()
			seen = append(seen, f)
			mu.Unlock()
			return ctx.Err()
		})
		cfg, err := amconfig.Load(simpleRoute)
		if err != nil {
			t.Fatal(err)
		}
		d := NewDispatcher(DispatcherOptions{Route: NewRoute(cfg.Route, nil), Notifier: n})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- d.Run(ctx) }()
		d.Put(firing(labels.FromStrings("alertname", "A"), start))
		// Flushes at 0:30 (ends at its deadline, 5:30), 5:30 (10:30);
		// the third, at 10:30, ends with Run's context.
		time.Sleep(12 * time.Minute)
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		want := []flushSeen{
			{30 * time.Second, 5 * time.Minute, nil, context.DeadlineExceeded, context.DeadlineExceeded, context.DeadlineExceeded, context.DeadlineExceeded},
			{330 * time.Second, 5 * time.Minute, nil, context.DeadlineExceeded, context.DeadlineExceeded, context.DeadlineExceeded, context.DeadlineExceeded},
			{630 * time.Second, 5 * time.Minute, nil, context.Canceled, context.Canceled, context.Canceled, context.Canceled},
		}
		if d := cmp.Diff(want, seen, cmp.AllowUnexported(flushSeen{}), cmpopts.EquateErrors()); d != "" {
			t.Errorf("flush contexts (-want +got):\n%s", d)
		}
	})
}

// TestDispatcherQueue: the flush queue is first in, first out, and its
// array stays bounded by its longest length while it never empties.
func TestDispatcherQueue(t *testing.T) {
	d := NewDispatcher(DispatcherOptions{})
	ags := make([]*aggrGroup, 50)
	for i := range ags {
		ags[i] = &aggrGroup{key: fmt.Sprint(i)}
	}
	next, want := 0, 0
	pop := func() {
		t.Helper()
		if f := d.dequeue(); f.ag != ags[want%len(ags)] {
			t.Fatalf("dequeued %s, want %d", f.ag.key, want%len(ags))
		}
		want++
	}
	for range 10 { // a backlog of 10
		d.enqueue(dueFlush{ag: ags[next%len(ags)]})
		next++
	}
	for range 10_000 {
		d.enqueue(dueFlush{ag: ags[next%len(ags)]})
		next++
		pop()
	}
	// Without moving the queue down its array would hold all 10,010;
	// with it, a few times the 11 at most queued (append's growth).
	if c := cap(d.queue); c > 64 {
		t.Errorf("queue array of %d for at most 11 flushes", c)
	}
	for range 10 {
		pop()
	}
	if _, _, waiting := d.Stats(); waiting != 0 || d.qhead != 0 || len(d.queue) != 0 {
		t.Errorf("emptied queue: %d waiting, head %d, len %d", waiting, d.qhead, len(d.queue))
	}
}

package silences

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

// span is a silence's time range, for compact comparisons.
type span struct{ Start, End time.Time }

func spanOf(s *Silence) span { return span{s.StartsAt, s.EndsAt} }

// TestSetUpdate checks Alertmanager's update-in-place versus replace rules
// (spec §4.4): which changes keep the ID, and what happens to the previous
// silence when they do not.
func TestSetUpdate(t *testing.T) {
	at := t0.Add
	tests := []struct {
		name string
		// The silence is created at t0 with foo="bar" and this range.
		start, end time.Time
		// Then the clock moves to t0+now and the silence is Set again
		// with change applied.
		now    time.Duration
		change func(s *Silence)

		wantSameID bool
		wantNew    span // the resulting silence
		wantOld    span // the previous silence, if the ID changed
	}{
		{
			name: "active: comment changed", start: at(0), end: at(2 * time.Hour), now: 30 * time.Minute,
			change:     func(s *Silence) { s.Comment = "new comment"; s.CreatedBy = "someone else" },
			wantSameID: true, wantNew: span{at(0), at(2 * time.Hour)},
		},
		{
			name: "active: EndsAt extended", start: at(0), end: at(2 * time.Hour), now: 30 * time.Minute,
			change:     func(s *Silence) { s.EndsAt = at(5 * time.Hour) },
			wantSameID: true, wantNew: span{at(0), at(5 * time.Hour)},
		},
		{
			name: "active: EndsAt shortened to now", start: at(0), end: at(2 * time.Hour), now: 30 * time.Minute,
			change:     func(s *Silence) { s.EndsAt = at(30 * time.Minute) },
			wantSameID: true, wantNew: span{at(0), at(30 * time.Minute)},
		},
		{
			name: "active: StartsAt changed within the second", start: at(0), end: at(2 * time.Hour), now: 30 * time.Minute,
			change:     func(s *Silence) { s.StartsAt = at(999 * time.Millisecond) },
			wantSameID: true, wantNew: span{at(999 * time.Millisecond), at(2 * time.Hour)},
		},
		{
			name: "active: matchers changed", start: at(0), end: at(2 * time.Hour), now: 30 * time.Minute,
			change:  func(s *Silence) { s.Matchers = matchers(t, `foo="baz"`) },
			wantNew: span{at(30 * time.Minute), at(2 * time.Hour)},
			wantOld: span{at(0), at(30 * time.Minute)},
		},
		{
			name: "active: matcher added", start: at(0), end: at(2 * time.Hour), now: 30 * time.Minute,
			change:  func(s *Silence) { s.Matchers = append(s.Matchers, matchers(t, `a="b"`)...) },
			wantNew: span{at(30 * time.Minute), at(2 * time.Hour)},
			wantOld: span{at(0), at(30 * time.Minute)},
		},
		{
			name: "active: StartsAt moved to the future", start: at(0), end: at(2 * time.Hour), now: 30 * time.Minute,
			change:  func(s *Silence) { s.StartsAt = at(time.Hour) },
			wantNew: span{at(time.Hour), at(2 * time.Hour)},
			wantOld: span{at(0), at(30 * time.Minute)},
		},
		{
			name: "active: StartsAt moved to the past", start: at(0), end: at(2 * time.Hour), now: 30 * time.Minute,
			change:  func(s *Silence) { s.StartsAt = at(-time.Hour) },
			wantNew: span{at(30 * time.Minute), at(2 * time.Hour)},
			wantOld: span{at(0), at(30 * time.Minute)},
		},
		{
			// Alertmanager creates the new silence already expired.
			name: "active: EndsAt moved to the past", start: at(0), end: at(2 * time.Hour), now: 30 * time.Minute,
			change:  func(s *Silence) { s.EndsAt = at(10 * time.Minute) },
			wantNew: span{at(30 * time.Minute), at(10 * time.Minute)},
			wantOld: span{at(0), at(30 * time.Minute)},
		},
		{
			name: "pending: StartsAt moved later", start: at(time.Hour), end: at(3 * time.Hour), now: 30 * time.Minute,
			change:     func(s *Silence) { s.StartsAt = at(2 * time.Hour) },
			wantSameID: true, wantNew: span{at(2 * time.Hour), at(3 * time.Hour)},
		},
		{
			name: "pending: StartsAt moved to now", start: at(time.Hour), end: at(3 * time.Hour), now: 30 * time.Minute,
			change:     func(s *Silence) { s.StartsAt = at(30 * time.Minute) },
			wantSameID: true, wantNew: span{at(30 * time.Minute), at(3 * time.Hour)},
		},
		{
			name: "pending: StartsAt moved to the past", start: at(time.Hour), end: at(3 * time.Hour), now: 30 * time.Minute,
			change:  func(s *Silence) { s.StartsAt = at(10 * time.Minute) },
			wantNew: span{at(30 * time.Minute), at(3 * time.Hour)},
			wantOld: span{at(30 * time.Minute), at(30 * time.Minute)},
		},
		{
			name: "pending: EndsAt changed", start: at(time.Hour), end: at(3 * time.Hour), now: 30 * time.Minute,
			change:     func(s *Silence) { s.EndsAt = at(4 * time.Hour) },
			wantSameID: true, wantNew: span{at(time.Hour), at(4 * time.Hour)},
		},
		{
			name: "pending: matchers changed", start: at(time.Hour), end: at(3 * time.Hour), now: 30 * time.Minute,
			change:  func(s *Silence) { s.Matchers = matchers(t, `foo=~"bar"`) },
			wantNew: span{at(time.Hour), at(3 * time.Hour)},
			wantOld: span{at(30 * time.Minute), at(30 * time.Minute)},
		},
		{
			// An expired silence is not expired again: it keeps its range.
			name: "expired: comment changed", start: at(0), end: at(10 * time.Minute), now: 30 * time.Minute,
			change:  func(s *Silence) { s.Comment = "again"; s.EndsAt = at(time.Hour) },
			wantNew: span{at(30 * time.Minute), at(time.Hour)},
			wantOld: span{at(0), at(10 * time.Minute)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			s := newSilences(t, c)
			id := mustSet(t, s, &Silence{Matchers: matchers(t, `foo="bar"`), StartsAt: tc.start, EndsAt: tc.end, CreatedBy: "me", Comment: "first"})
			c.Add(tc.now)
			now := c.Now()

			upd := mustGet(t, s, id)
			tc.change(upd)
			want := upd.clone()
			newID := mustSet(t, s, upd)

			got := mustGet(t, s, newID)
			if sameID := newID == id; sameID != tc.wantSameID {
				t.Errorf("same ID after Set: %v, want %v", sameID, tc.wantSameID)
			}
			if diff := cmp.Diff(tc.wantNew, spanOf(got)); diff != "" {
				t.Errorf("resulting silence's range (-want +got):\n%s", diff)
			}
			if got.Matchers.String() != want.Matchers.String() || got.Comment != want.Comment || got.CreatedBy != want.CreatedBy {
				t.Errorf("resulting silence %+v, want the fields of %+v", got, want)
			}
			if !got.UpdatedAt.Equal(now) {
				t.Errorf("UpdatedAt %v, want now %v", got.UpdatedAt, now)
			}
			if tc.wantSameID {
				if n := len(s.List()); n != 1 {
					t.Errorf("%d silences after an update in place, want 1", n)
				}
				return
			}
			old := mustGet(t, s, id)
			if diff := cmp.Diff(tc.wantOld, spanOf(old)); diff != "" {
				t.Errorf("previous silence's range (-want +got):\n%s", diff)
			}
			if old.Comment != "first" {
				t.Errorf("previous silence's comment %q, want it unchanged", old.Comment)
			}
			if st := old.State(now.Add(time.Nanosecond)); st != StateExpired {
				t.Errorf("previous silence %s just after the change, want expired", st)
			}
			if n := len(s.List()); n != 2 {
				t.Errorf("%d silences after a replacement, want 2", n)
			}
		})
	}
}

// TestSetDoesNotModifyArgument checks that Set leaves its argument alone.
func TestSetDoesNotModifyArgument(t *testing.T) {
	s := newSilences(t, newClock())
	sil := &Silence{Matchers: matchers(t, `foo="bar"`), EndsAt: t0.Add(time.Hour)}
	want := sil.clone()
	mustSet(t, s, sil)
	if diff := cmp.Diff(want.Matchers.String(), sil.Matchers.String()); diff != "" || sil.ID != "" || !sil.StartsAt.IsZero() {
		t.Errorf("Set modified its argument: %+v", sil)
	}
}

// TestSetUnknownID checks that an ID Set does not know is ErrNotFound, as
// the API's 404 needs.
func TestSetUnknownID(t *testing.T) {
	s := newSilences(t, newClock())
	_, err := s.Set(&Silence{ID: "3c6c5ec6-7a5a-4d61-bb1d-6a9e5fbc12a3", Matchers: matchers(t, `foo="bar"`), EndsAt: t0.Add(time.Hour)})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Set with an unknown ID: %v, want ErrNotFound", err)
	}
	if n := len(s.List()); n != 0 {
		t.Errorf("%d silences, want 0", n)
	}
}

// TestSetIDIsUUIDv4 checks the ID format the API's uuid path parameter
// expects.
func TestSetIDIsUUIDv4(t *testing.T) {
	s := newSilences(t, newClock())
	id := mustSet(t, s, &Silence{Matchers: matchers(t, `foo="bar"`), EndsAt: t0.Add(time.Hour)})
	if len(id) != 36 || id[14] != '4' || strings.Count(id, "-") != 4 || !strings.ContainsRune("89ab", rune(id[19])) {
		t.Errorf("ID %q is not a UUIDv4", id)
	}
}

// TestExpire checks Alertmanager's Expire in every state.
func TestExpire(t *testing.T) {
	tests := []struct {
		name       string
		start, end time.Time
		unknown    bool
		want       span
		wantErr    error
		wantUpdate bool
	}{
		{name: "active", start: t0.Add(-time.Hour), end: t0.Add(time.Hour), want: span{t0.Add(-time.Hour), t0}, wantUpdate: true},
		{name: "pending", start: t0.Add(time.Hour), end: t0.Add(2 * time.Hour), want: span{t0, t0}, wantUpdate: true},
		{name: "expired", start: t0.Add(-2 * time.Hour), end: t0.Add(-time.Hour), want: span{t0.Add(-2 * time.Hour), t0.Add(-time.Hour)}},
		{name: "unknown", unknown: true, wantErr: ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			c.Set(t0.Add(-3 * time.Hour))
			s := newSilences(t, c)
			id := "8f1b6a52-3f0e-4c3e-9d3b-0c4f0b9a1e11"
			if !tc.unknown {
				id = mustSet(t, s, &Silence{Matchers: matchers(t, `foo="bar"`), StartsAt: tc.start, EndsAt: tc.end})
			}
			c.Set(t0)
			err := s.Expire(id)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Expire: %v, want %v", err, tc.wantErr)
			}
			if tc.unknown {
				return
			}
			got := mustGet(t, s, id)
			if diff := cmp.Diff(tc.want, spanOf(got)); diff != "" {
				t.Errorf("range after Expire (-want +got):\n%s", diff)
			}
			if updated := got.UpdatedAt.Equal(t0); updated != tc.wantUpdate {
				t.Errorf("UpdatedAt %v; updated now: %v, want %v", got.UpdatedAt, updated, tc.wantUpdate)
			}
			if st := got.State(t0.Add(time.Nanosecond)); st != StateExpired {
				t.Errorf("state just after Expire: %s", st)
			}
			// As in Alertmanager, a silence that ends now is still active
			// now (both ends inclusive): it stops muting just after.
			if muted := s.Mutes(labelsOf("foo", "bar")) != nil; muted != tc.wantUpdate {
				t.Errorf("muted at the instant of Expire: %v, want %v", muted, tc.wantUpdate)
			}
			c.Add(time.Nanosecond)
			if ids := s.Mutes(labelsOf("foo", "bar")); ids != nil {
				t.Errorf("Mutes after Expire: %v", ids)
			}
			// Expiring again is a no-op that succeeds.
			if err := s.Expire(id); err != nil {
				t.Errorf("second Expire: %v", err)
			}
		})
	}
}

// TestMetrics checks the alertd_silences{state} gauges.
func TestMetrics(t *testing.T) {
	c := newClock()
	reg := prometheus.NewRegistry()
	s, err := New(Options{Now: c.Now, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, s, &Silence{Matchers: matchers(t, `a="1"`), EndsAt: t0.Add(time.Hour)})
	mustSet(t, s, &Silence{Matchers: matchers(t, `a="2"`), EndsAt: t0.Add(2 * time.Hour)})
	mustSet(t, s, &Silence{Matchers: matchers(t, `a="3"`), StartsAt: t0.Add(90 * time.Minute), EndsAt: t0.Add(3 * time.Hour)})
	c.Add(time.Hour + time.Second)

	want := map[string]float64{"active": 1, "expired": 1, "pending": 1}
	if diff := cmp.Diff(want, gatherStates(t, reg)); diff != "" {
		t.Errorf("alertd_silences (-want +got):\n%s", diff)
	}

	// A second Silences on the same registry replaces the first's gauges.
	if _, err := New(Options{Now: c.Now, Registerer: reg}); err != nil {
		t.Fatalf("second New on one registry: %v", err)
	}
	want = map[string]float64{"active": 0, "expired": 0, "pending": 0}
	if diff := cmp.Diff(want, gatherStates(t, reg)); diff != "" {
		t.Errorf("alertd_silences after a second New (-want +got):\n%s", diff)
	}
}

// gatherStates returns alertd_silences by state.
func gatherStates(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "alertd_silences" {
			continue
		}
		if mf.GetHelp() == "" || mf.GetType().String() != "GAUGE" {
			t.Errorf("alertd_silences: help %q, type %s", mf.GetHelp(), mf.GetType())
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "state" {
					got[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	return got
}

// TestNewOptions checks option defaults and errors.
func TestNewOptions(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatalf("New with zero Options: %v", err)
	}
	if s.retention != DefaultRetention || s.interval != DefaultGCInterval {
		t.Errorf("defaults: retention %v, gc interval %v", s.retention, s.interval)
	}
	for _, o := range []Options{{Retention: -time.Second}, {GCInterval: -time.Second}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

// TestRun checks that Run collects garbage every GCInterval and returns
// when its context is done.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := New(Options{Retention: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		mustSet(t, s, &Silence{Matchers: matchers(t, `a="b"`), EndsAt: start.Add(time.Minute)})
		mustSet(t, s, &Silence{Matchers: matchers(t, `a="c"`), EndsAt: start.Add(20 * time.Minute)})

		ctx, cancel := context.WithCancel(t.Context())
		var (
			wg     sync.WaitGroup
			runErr error
		)
		wg.Go(func() { runErr = s.Run(ctx) })

		<-time.After(DefaultGCInterval - time.Second)
		synctest.Wait()
		if n := len(s.List()); n != 2 {
			t.Errorf("%d silences before the first GC, want 2", n)
		}
		<-time.After(time.Second)
		synctest.Wait()
		if n := len(s.List()); n != 1 {
			t.Errorf("%d silences after the first GC, want 1", n)
		}
		<-time.After(DefaultGCInterval)
		synctest.Wait()
		if n := len(s.List()); n != 0 {
			t.Errorf("%d silences after the second GC, want 0", n)
		}
		cancel()
		wg.Wait()
		if runErr != nil {
			t.Errorf("Run: %v", runErr)
		}
	})
}

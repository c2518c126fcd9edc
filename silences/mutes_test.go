package silences

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"
)

// TestMutes checks which silences mute a label set.
func TestMutes(t *testing.T) {
	type sil struct {
		matchers   []string
		start, end time.Duration // relative to now; zero start means now
	}
	active := func(ms ...string) sil { return sil{matchers: ms, end: time.Hour} }
	tests := []struct {
		name     string
		silences []sil
		lset     labels.Labels
		want     []int // indexes into silences
	}{
		{name: "no silences", lset: labelsOf("foo", "bar")},
		{name: "active equal", silences: []sil{active(`foo="bar"`)}, lset: labelsOf("foo", "bar", "a", "b"), want: []int{0}},
		{name: "other value", silences: []sil{active(`foo="bar"`)}, lset: labelsOf("foo", "baz")},
		{name: "missing label", silences: []sil{active(`foo="bar"`)}, lset: labelsOf("a", "b")},
		{name: "pending", silences: []sil{{matchers: []string{`foo="bar"`}, start: time.Nanosecond, end: time.Hour}}, lset: labelsOf("foo", "bar")},
		{name: "expired", silences: []sil{{matchers: []string{`foo="bar"`}, start: -time.Hour, end: -time.Nanosecond}}, lset: labelsOf("foo", "bar")},
		{name: "starts now", silences: []sil{{matchers: []string{`foo="bar"`}, end: time.Hour}}, lset: labelsOf("foo", "bar"), want: []int{0}},
		{name: "ends now", silences: []sil{{matchers: []string{`foo="bar"`}, start: -time.Hour}}, lset: labelsOf("foo", "bar"), want: []int{0}},
		{name: "all matchers must match", silences: []sil{active(`foo="bar"`, `baz="qux"`)}, lset: labelsOf("foo", "bar")},
		{name: "all matchers match", silences: []sil{active(`foo="bar"`, `baz="qux"`)}, lset: labelsOf("baz", "qux", "foo", "bar"), want: []int{0}},
		{name: "regexp is anchored", silences: []sil{active(`foo=~"a"`)}, lset: labelsOf("foo", "ab")},
		{name: "regexp is anchored at the start", silences: []sil{active(`foo=~"b"`)}, lset: labelsOf("foo", "ab")},
		{name: "regexp matches", silences: []sil{active(`foo=~"a.+"`)}, lset: labelsOf("foo", "ab"), want: []int{0}},
		{name: "alternation", silences: []sil{active(`foo=~"a|b"`)}, lset: labelsOf("foo", "b"), want: []int{0}},
		{name: "alternation other value", silences: []sil{active(`foo=~"a|b"`)}, lset: labelsOf("foo", "ab")},
		{name: "alternation is anchored", silences: []sil{active(`foo=~"a|bc"`)}, lset: labelsOf("foo", "b")},
		{name: "regexp dot does not match newline", silences: []sil{active(`foo=~"a.b"`)}, lset: labelsOf("foo", "a\nb")},
		{name: "regexp with a literal prefix", silences: []sil{active(`foo=~"host-.*"`)}, lset: labelsOf("foo", "host-1"), want: []int{0}},
		{name: "regexp with another prefix", silences: []sil{active(`foo=~"host-.*"`)}, lset: labelsOf("foo", "db-1")},
		{name: "not regexp with another prefix", silences: []sil{active(`foo!~"host-.*"`)}, lset: labelsOf("foo", "db-1"), want: []int{0}},
		{name: "not regexp with the prefix", silences: []sil{active(`foo!~"host-.*"`)}, lset: labelsOf("foo", "host-1")},
		{name: "not regexp with the prefix only", silences: []sil{active(`foo!~"host-[0-9]"`)}, lset: labelsOf("foo", "host-x"), want: []int{0}},
		{name: "not equal matches a missing label", silences: []sil{active(`foo!="bar"`)}, lset: labelsOf("a", "b"), want: []int{0}},
		{name: "not equal", silences: []sil{active(`foo!="bar"`)}, lset: labelsOf("foo", "bar")},
		{name: "not regexp matches a missing label", silences: []sil{active(`foo!~"b.*"`)}, lset: labelsOf("a", "b"), want: []int{0}},
		{name: "not regexp", silences: []sil{active(`foo!~"b.*"`)}, lset: labelsOf("foo", "bar")},
		{name: "equal empty matches a missing label", silences: []sil{active(`foo=""`, `a="b"`)}, lset: labelsOf("a", "b"), want: []int{0}},
		{name: "equal empty", silences: []sil{active(`foo=""`, `a="b"`)}, lset: labelsOf("a", "b", "foo", "x")},
		{name: "regexp empty matches a missing label", silences: []sil{active(`foo=~"x|"`, `a="b"`)}, lset: labelsOf("a", "b"), want: []int{0}},
		{
			name: "several, sorted by ID",
			silences: []sil{
				active(`foo="bar"`), active(`a="b"`), active(`foo!="x"`), active(`foo=~"b.*"`), active(`a=~"b|c"`),
				active(`a="c"`), {matchers: []string{`foo="bar"`}, start: time.Minute, end: time.Hour},
			},
			lset: labelsOf("a", "b", "foo", "bar"),
			want: []int{0, 1, 2, 3, 4},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			s := newSilences(t, c)
			var want []string
			for i, sl := range tc.silences {
				c.Set(t0.Add(-2 * time.Hour))
				id := mustSet(t, s, &Silence{Matchers: matchers(t, sl.matchers...), StartsAt: t0.Add(sl.start), EndsAt: t0.Add(sl.end)})
				if slices.Contains(tc.want, i) {
					want = append(want, id)
				}
			}
			c.Set(t0)
			slices.Sort(want)
			if diff := cmp.Diff(want, s.Mutes(tc.lset)); diff != "" {
				t.Errorf("Mutes(%v) (-want +got):\n%s", tc.lset, diff)
			}
		})
	}
}

// TestMutesMatchesLinearScan checks the index against matching every
// silence in turn, over random silences, label sets, updates, expiries and
// garbage collection.
func TestMutesMatchesLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"alertname", "job", "instance", "severity"}
	values := []string{"a", "b", "c", "ab", ""}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	randomMatcher := func() string {
		n, v := pick(names), pick(values)
		switch rng.IntN(8) {
		case 0:
			return fmt.Sprintf("%s!=%q", n, v)
		case 1:
			return fmt.Sprintf("%s=~%q", n, v+"|"+pick(values))
		case 2:
			return fmt.Sprintf("%s=~%q", n, v+".*")
		case 5:
			return fmt.Sprintf("%s!~%q", n, v+"b?")
		case 3:
			return fmt.Sprintf("%s!~%q", n, v+"|"+pick(values))
		default:
			return fmt.Sprintf("%s=%q", n, v)
		}
	}
	randomLabels := func() labels.Labels {
		b := labels.NewScratchBuilder(len(names))
		for _, n := range names {
			if v := pick(values); v != "" {
				b.Add(n, v)
			}
		}
		b.Sort()
		return b.Labels()
	}

	c := newClock()
	s, err := New(Options{Now: c.Now, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	linear := func(lset labels.Labels) []string {
		var ids []string
		now := c.Now()
		for _, e := range s.byID {
			if e.sil.State(now) != StateActive {
				continue
			}
			all := true
			for _, m := range e.sil.Matchers {
				all = all && m.Matches(lset.Get(m.Name))
			}
			if all {
				ids = append(ids, e.sil.ID)
			}
		}
		slices.Sort(ids)
		return ids
	}
	var ids []string
	for round := range 50 {
		for range 40 {
			ms := make([]string, 1+rng.IntN(3))
			for i := range ms {
				ms[i] = randomMatcher()
			}
			start := c.Now().Add(time.Duration(rng.IntN(60)-30) * time.Minute)
			sil := &Silence{Matchers: matchers(t, ms...), StartsAt: start, EndsAt: start.Add(time.Duration(rng.IntN(90)) * time.Minute)}
			if len(ids) > 0 && rng.IntN(3) == 0 {
				// Change an existing (or garbage collected) silence instead.
				prev := ids[rng.IntN(len(ids))]
				sil.ID = prev
				if old, err := s.Get(prev); err == nil && rng.IntN(2) == 0 {
					sil.Matchers = old.Matchers
				}
			}
			id, err := s.Set(sil)
			if err != nil {
				continue // e.g. all matchers match the empty string
			}
			ids = append(ids, id)
			if rng.IntN(10) == 0 {
				if err := s.Expire(ids[rng.IntN(len(ids))]); err != nil && !errors.Is(err, ErrNotFound) {
					t.Fatal(err)
				}
			}
		}
		for range 40 {
			lset := randomLabels()
			if diff := cmp.Diff(linear(lset), s.Mutes(lset)); diff != "" {
				t.Fatalf("round %d: Mutes(%v) differs from a linear scan (-linear +Mutes):\n%s", round, lset, diff)
			}
		}
		c.Add(10 * time.Minute)
		if _, err := s.GC(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMutesManySilences checks matching among 10,000 silences.
func TestMutesManySilences(t *testing.T) {
	c := newClock()
	s := newSilences(t, c)
	var want []string
	for i := range 10000 {
		m := fmt.Sprintf(`job="job%d"`, i)
		switch i % 1000 {
		case 0:
			m = `foo="bar"`
		case 1:
			m = `foo=~"ba."`
		case 2:
			m = fmt.Sprintf(`instance=~"i%d|other"`, i)
		}
		id := mustSet(t, s, &Silence{Matchers: matchers(t, m), EndsAt: t0.Add(time.Hour)})
		if i%1000 < 2 || i == 2 {
			want = append(want, id)
		}
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, s.Mutes(labelsOf("foo", "bar", "instance", "i2"))); diff != "" {
		t.Errorf("Mutes (-want +got):\n%s", diff)
	}
	if got := s.Mutes(labelsOf("job", "job77")); len(got) != 1 {
		t.Errorf("Mutes(job=job77): %v, want one silence", got)
	}
}

// TestIndexKeys checks which silences are indexed and under what.
func TestIndexKeys(t *testing.T) {
	tests := []struct {
		name     string
		matchers []string
		want     []indexKey // nil: rest
	}{
		{name: "equal", matchers: []string{`a="b"`}, want: []indexKey{{"a", "b"}}},
		{name: "equal preferred to alternation", matchers: []string{`x=~"1|2"`, `a="b"`}, want: []indexKey{{"a", "b"}}},
		{name: "alternation", matchers: []string{`a!="x"`, `x=~"2|1|2"`}, want: []indexKey{{"x", "1"}, {"x", "2"}}},
		{name: "literal regexp", matchers: []string{`x=~"foo-bar_1"`}, want: []indexKey{{"x", "foo-bar_1"}}},
		{name: "equal empty", matchers: []string{`a=""`, `b!="x"`}},
		{name: "alternation with empty", matchers: []string{`a=~"x|"`, `b!="x"`}},
		{name: "real regexp", matchers: []string{`a=~"x.*"`}},
		{name: "escaped regexp", matchers: []string{`a=~"x\\.y"`}},
		{name: "case folding", matchers: []string{`a=~"(?i)x"`}},
		{name: "negative only", matchers: []string{`a!="x"`, `b!~"y"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSilences(t, newClock())
			id := mustSet(t, s, &Silence{Matchers: matchers(t, tc.matchers...), EndsAt: t0.Add(time.Hour)})
			e := s.byID[id]
			if diff := cmp.Diff(tc.want, e.keys, cmp.AllowUnexported(indexKey{})); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if inRest := slices.Contains(s.idx.rest, e); inRest != (tc.want == nil) {
				t.Errorf("in rest: %v", inRest)
			}
		})
	}
}

// TestIndexEmptiedByGC checks that GC leaves no empty buckets behind.
func TestIndexEmptiedByGC(t *testing.T) {
	c := newClock()
	s, err := New(Options{Now: c.Now, Retention: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{`a="b"`, `a="c"`, `x=~"1|2"`, `a!="b"`} {
		mustSet(t, s, &Silence{Matchers: matchers(t, m), EndsAt: t0.Add(time.Hour)})
	}
	c.Add(time.Hour + time.Minute)
	if n, err := s.GC(); n != 4 || err != nil {
		t.Fatalf("GC: %d, %v; want 4", n, err)
	}
	if len(s.idx.byName) != 0 || len(s.idx.rest) != 0 || len(s.byID) != 0 {
		t.Errorf("index not empty after GC: %+v", s.idx)
	}
}

// TestConcurrentUse runs Set, Expire, GC, Get, List, Mutes and metric
// collection at once, for the race detector.
func TestConcurrentUse(t *testing.T) {
	c := newClock()
	s, err := New(Options{Now: c.Now, Retention: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	const workers, n = 4, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range n {
				id, err := s.Set(&Silence{Matchers: matchers(t, fmt.Sprintf(`job="j%d"`, i%7)), EndsAt: c.Now().Add(time.Minute)})
				if err != nil {
					t.Error(err)
					return
				}
				if i%3 == w%3 {
					if err := s.Expire(id); err != nil {
						t.Error(err)
						return
					}
				}
				if i%10 == 0 {
					c.Add(time.Second)
				}
			}
		})
		wg.Go(func() {
			for i := range n {
				s.Mutes(labelsOf("job", fmt.Sprintf("j%d", i%7), "w", fmt.Sprint(w)))
				for _, sil := range s.List() {
					if _, err := s.Get(sil.ID); err != nil && !errors.Is(err, ErrNotFound) {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for range n {
			if _, err := s.GC(); err != nil {
				t.Error(err)
				return
			}
			s.countStates()
		}
	})
	wg.Wait()
}

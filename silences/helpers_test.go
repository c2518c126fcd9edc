package silences

import (
	"sync"
	"testing"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"
)

// t0 is the tests' reference time.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable time source for Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// matchers parses matchers such as `foo="bar"` with Alertmanager's parser.
func matchers(t testing.TB, ss ...string) amlabels.Matchers {
	t.Helper()
	ms := make(amlabels.Matchers, len(ss))
	for i, s := range ss {
		m, err := amlabels.ParseMatcher(s)
		if err != nil {
			t.Fatalf("parse matcher %q: %v", s, err)
		}
		ms[i] = m
	}
	return ms
}

// raw builds a matcher without validating or compiling it, as a caller
// that fills the struct itself would.
func raw(typ amlabels.MatchType, name, value string) *amlabels.Matcher {
	return &amlabels.Matcher{Type: typ, Name: name, Value: value}
}

// newSilences returns in-memory Silences on c.
func newSilences(t testing.TB, c *clock) *Silences {
	t.Helper()
	s, err := New(Options{Now: c.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// mustSet calls Set and fails the test on error.
func mustSet(t testing.TB, s *Silences, sil *Silence) string {
	t.Helper()
	id, err := s.Set(sil)
	if err != nil {
		t.Fatalf("Set(%v): %v", sil.Matchers, err)
	}
	return id
}

// mustGet calls Get and fails the test on error.
func mustGet(t testing.TB, s *Silences, id string) *Silence {
	t.Helper()
	sil, err := s.Get(id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return sil
}

// labelsOf returns the label set of name, value pairs.
func labelsOf(nameValues ...string) labels.Labels { return labels.FromStrings(nameValues...) }

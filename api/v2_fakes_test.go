package api_test

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/api"
	"github.com/alertd/alertd/silences"
)

// Fakes of the interfaces api.AlertmanagerOptions consumes. They are small
// and deterministic; what they compute (routing by a team label, grouping
// by alertname, silences by matching) is what the API tests need to see
// their results flow through.

// fakeStore is an AlertStore keyed by fingerprint: a later Put replaces.
type fakeStore struct {
	mu     sync.Mutex
	alerts map[uint64]*alert.Alert
	putErr error
	puts   int
}

var _ api.AlertStore = (*fakeStore)(nil)

func newFakeStore() *fakeStore { return &fakeStore{alerts: map[uint64]*alert.Alert{}} }

func (s *fakeStore) Put(as ...*alert.Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	if s.putErr != nil {
		return s.putErr
	}
	for _, a := range as {
		c := *a
		s.alerts[a.Fingerprint()] = &c
	}
	return nil
}

func (s *fakeStore) List() []*alert.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*alert.Alert, 0, len(s.alerts))
	for _, a := range s.alerts {
		c := *a
		out = append(out, &c)
	}
	return out
}

func (s *fakeStore) get(ls labels.Labels) *alert.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alerts[alert.Fingerprint(ls)]
}

// fakeRouter routes every alert to "default", and alerts with a team label
// also to "team-<team>" (first). Groups are by alertname per receiver;
// mutedReceivers names receivers whose groups a time interval mutes.
type fakeRouter struct {
	store          *fakeStore
	mutedReceivers map[string][]string
}

var _ api.Router = (*fakeRouter)(nil)

func (r *fakeRouter) Receivers(ls labels.Labels) []string {
	if t := ls.Get("team"); t != "" {
		return []string{"team-" + t, "default"}
	}
	return []string{"default"}
}

func (r *fakeRouter) Groups() []api.AlertGroup {
	type key struct{ receiver, name string }
	byKey := map[key]*api.AlertGroup{}
	var keys []key
	for _, a := range r.store.List() {
		for _, rcv := range r.Receivers(a.Labels) {
			k := key{rcv, a.Name()}
			g, ok := byKey[k]
			if !ok {
				g = &api.AlertGroup{Labels: labels.FromStrings("alertname", a.Name()), Receiver: rcv, MutedBy: r.mutedReceivers[rcv]}
				byKey[k] = g
				keys = append(keys, k)
			}
			g.Alerts = append(g.Alerts, a)
		}
	}
	// Unsorted on purpose (reverse of insertion): the API sorts.
	out := make([]api.AlertGroup, 0, len(keys))
	for i := len(keys) - 1; i >= 0; i-- {
		out = append(out, *byKey[keys[i]])
	}
	return out
}

// fakeSilences is a Silences that validates with package silences'
// Validate, gives UUIDs, updates in place when the ID is known, and is also
// the Silencer: an active silence mutes the alerts all its matchers match.
type fakeSilences struct {
	mu     sync.Mutex
	now    func() time.Time
	byID   map[string]*silences.Silence
	setErr error
}

var (
	_ api.Silences = (*fakeSilences)(nil)
	_ api.Muter    = (*fakeSilences)(nil)
)

func newFakeSilences(now func() time.Time) *fakeSilences {
	return &fakeSilences{now: now, byID: map[string]*silences.Silence{}}
}

func (f *fakeSilences) Set(s *silences.Silence) (string, error) {
	if f.setErr != nil {
		return "", f.setErr
	}
	if err := silences.Validate(s); err != nil {
		return "", fmt.Errorf("invalid silence: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := *s
	c.Matchers = slices.Clone(s.Matchers)
	c.UpdatedAt = f.now()
	if c.ID != "" {
		if _, ok := f.byID[c.ID]; !ok {
			return "", silences.ErrNotFound
		}
	} else {
		c.ID = uuid.NewString()
	}
	f.byID[c.ID] = &c
	return c.ID, nil
}

func (f *fakeSilences) Expire(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.byID[id]
	if !ok {
		return silences.ErrNotFound
	}
	now := f.now()
	switch s.State(now) {
	case silences.StateActive:
		s.EndsAt, s.UpdatedAt = now, now
	case silences.StatePending:
		s.StartsAt, s.EndsAt, s.UpdatedAt = now, now, now
	}
	return nil
}

func (f *fakeSilences) Get(id string) (*silences.Silence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.byID[id]
	if !ok {
		return nil, silences.ErrNotFound
	}
	c := *s
	return &c, nil
}

func (f *fakeSilences) List() []*silences.Silence {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*silences.Silence, 0, len(f.byID))
	for _, s := range f.byID {
		c := *s
		out = append(out, &c)
	}
	return out
}

// add stores s as is (no validation), for tests that need exact times.
func (f *fakeSilences) add(s *silences.Silence) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byID[s.ID] = s
}

func (f *fakeSilences) Mutes(ls labels.Labels) []string {
	var ids []string
	now := f.now()
	for _, s := range f.List() {
		if s.State(now) != silences.StateActive {
			continue
		}
		if !slices.ContainsFunc(s.Matchers, func(m *amlabels.Matcher) bool { return !m.Matches(ls.Get(m.Name)) }) {
			ids = append(ids, s.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// muterFunc is a Muter from a function.
type muterFunc func(labels.Labels) []string

func (f muterFunc) Mutes(ls labels.Labels) []string { return f(ls) }

// inhibitedBySource inhibits alerts labelled inhibited="true" by a fixed
// source alert's fingerprint.
var inhibitSource = labels.FromStrings("alertname", "Source")

func inhibitor() api.Muter {
	return muterFunc(func(ls labels.Labels) []string {
		if ls.Get("inhibited") == "true" {
			return []string{fmt.Sprintf("%016x", alert.Fingerprint(inhibitSource))}
		}
		return nil
	})
}

// amConfig is a small Alertmanager configuration that amtool's
// config.Load accepts, and what the fakes do: fakeRouter routes and groups
// as its route tree (for team "a"), inhibitor inhibits as its rule.
const amConfig = `global:
  resolve_timeout: 5m
route:
  receiver: default
  group_by: [alertname]
  routes:
    - receiver: team-a
      matchers: [team="a"]
      continue: true
    - receiver: default
receivers:
  - name: default
  - name: team-a
inhibit_rules:
  - source_matchers: [alertname="Source"]
    target_matchers: [inhibited="true"]
`

// env is an httptest server of the v2 API over the fakes.
type env struct {
	srv      *httptest.Server
	store    *fakeStore
	router   *fakeRouter
	silences *fakeSilences
	now      func() time.Time
	clock    *testClock // set by tests that step time
}

func newEnv(t *testing.T, now func() time.Time, mod ...func(*api.AlertmanagerOptions)) *env {
	t.Helper()
	e := &env{store: newFakeStore(), now: now}
	e.router = &fakeRouter{store: e.store}
	e.silences = newFakeSilences(now)
	o := &api.AlertmanagerOptions{
		Alerts:         e.store,
		Router:         e.router,
		Silences:       e.silences,
		Silencer:       e.silences,
		Inhibitor:      inhibitor(),
		ResolveTimeout: func() time.Duration { return 10 * time.Minute },
		ConfigYAML:     func() string { return amConfig },
		Receivers:      func() []string { return []string{"default", "team-a"} },
		StartTime:      startTime,
		Now:            now,
	}
	for _, m := range mod {
		m(o)
	}
	e.srv = httptest.NewServer(api.New(api.Options{Alertmanager: o}))
	t.Cleanup(e.srv.Close)
	return e
}

var (
	startTime = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	errBoom   = errors.New("disk on fire")
)

// testClock is a clock a test sets.
type testClock struct {
	mu sync.Mutex
	ts time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ts
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ts = c.ts.Add(d)
}

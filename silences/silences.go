package silences

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/store"
)

// Defaults, from Alertmanager.
const (
	// DefaultRetention is Alertmanager's --data.retention: how long a
	// silence is kept after it ends.
	DefaultRetention = 120 * time.Hour
	// DefaultGCInterval is Alertmanager's --data.maintenance-interval.
	DefaultGCInterval = 15 * time.Minute
)

// Bucket is the store bucket holding one record per silence, keyed by ID.
const Bucket = "silences"

// Options configure Silences. The zero value is valid: in memory only,
// Alertmanager's defaults, no logging, no metrics.
type Options struct {
	// Store persists silences; nil keeps them in memory only.
	Store *store.Store
	// Retention is how long a silence is kept after its EndsAt; zero
	// means DefaultRetention.
	Retention time.Duration
	// GCInterval is how often Run collects garbage; zero means
	// DefaultGCInterval.
	GCInterval time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives Run's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the alertd_silences{state} gauges, computed at
	// scrape; nil registers none. A collector a previous Silences
	// registered there is replaced.
	Registerer prometheus.Registerer
}

// Silences holds all silences, persists them and matches label sets
// against them. Its methods are safe for concurrent use.
type Silences struct {
	st        *store.Store
	retention time.Duration
	interval  time.Duration
	now       func() time.Time
	logger    *slog.Logger

	// writeMu serialises changes (Set, Expire, GC): a change is computed
	// and persisted under writeMu alone, so that matching never waits for
	// the disk, then applied under mu.
	writeMu sync.Mutex
	// mu guards the fields below and the entries they point to.
	mu   sync.RWMutex
	byID map[string]*entry
	idx  *index
}

// New loads every persisted silence and returns Silences; it starts
// nothing. Silences already past retention are deleted from the store
// instead. A record that cannot be read is an error naming its key.
func New(o Options) (*Silences, error) {
	if o.Retention < 0 {
		return nil, fmt.Errorf("negative retention %s", o.Retention)
	}
	if o.GCInterval < 0 {
		return nil, fmt.Errorf("negative gc interval %s", o.GCInterval)
	}
	s := &Silences{
		st:        o.Store,
		retention: o.Retention,
		interval:  o.GCInterval,
		now:       o.Now,
		logger:    o.Logger,
		byID:      map[string]*entry{},
		idx:       newIndex(),
	}
	if s.retention == 0 {
		s.retention = DefaultRetention
	}
	if s.interval == 0 {
		s.interval = DefaultGCInterval
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.logger = s.logger.With("component", "silences")
	if err := s.load(); err != nil {
		return nil, err
	}
	if o.Registerer != nil {
		if err := register(o.Registerer, newCollector(s)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Silences) load() error {
	if s.st == nil {
		return nil
	}
	now := s.now()
	var stale []string
	err := s.st.ForEach(Bucket, func(key string, value []byte) error {
		sil, prefixes, err := decodeRecord(key, value)
		if err != nil {
			return fmt.Errorf("load silence %q: %w", key, err)
		}
		if s.pastRetention(sil, now) {
			stale = append(stale, key)
			return nil
		}
		e := newEntry(sil, prefixes)
		s.byID[sil.ID] = e
		s.idx.add(e)
		return nil
	})
	if err != nil {
		return err
	}
	if len(stale) > 0 {
		if err := s.st.Update(Bucket, nil, stale); err != nil {
			return fmt.Errorf("delete silences past retention: %w", err)
		}
	}
	return nil
}

func (s *Silences) pastRetention(sil *Silence, now time.Time) bool {
	return !sil.EndsAt.Add(s.retention).After(now)
}

// persist writes sils and deletes ids in one transaction.
func (s *Silences) persist(sils []*Silence, deletes []string) error {
	if s.st == nil {
		return nil
	}
	puts := make(map[string][]byte, len(sils))
	for _, sil := range sils {
		b, err := encodeRecord(sil)
		if err != nil {
			return fmt.Errorf("encode silence %s: %w", sil.ID, err)
		}
		puts[sil.ID] = b
	}
	if err := s.st.Update(Bucket, puts, deletes); err != nil {
		return fmt.Errorf("persist silences: %w", err)
	}
	return nil
}

// Set creates or changes a silence as Alertmanager's Set does, and returns
// the ID of the resulting silence; sil itself is not modified.
//
// A zero StartsAt means now. An invalid silence is an error wrapping a
// *ValidationError, whose text with the "invalid silence: " prefix is
// Alertmanager's. A non-empty ID that is not known is ErrNotFound.
// If the ID is known and the change keeps history (same matchers, the
// silence not expired, an active silence keeping its StartsAt to the
// second and not ending in the past, a pending one not starting in the
// past), the silence is updated in place and keeps its ID. Otherwise a new
// silence with a new ID is created, its StartsAt moved up to now if
// earlier, and the previous silence, unless already expired, is expired.
// The result is persisted before Set returns.
func (s *Silences) Set(sil *Silence) (string, error) {
	if sil == nil {
		return "", fmt.Errorf("invalid silence: %w", &ValidationError{Msg: "no silence"})
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	now := s.now().UTC()
	next := sil.clone()
	next.StartsAt, next.EndsAt = next.StartsAt.UTC(), next.EndsAt.UTC()
	if next.StartsAt.IsZero() {
		next.StartsAt = now
	}
	ms, prefixes, err := compileMatchers(next.Matchers)
	if err == nil {
		err = validateTimes(next, true)
	}
	if err != nil {
		return "", fmt.Errorf("invalid silence: %w", err)
	}
	next.Matchers = ms
	next.UpdatedAt = now

	// Only holders of writeMu change byID, so it can be read here
	// without mu.
	prev, ok := s.byID[next.ID]
	if next.ID != "" && !ok {
		return "", ErrNotFound
	}
	if ok && canUpdate(&prev.sil, next, now) {
		if err := s.persist([]*Silence{next}, nil); err != nil {
			return "", err
		}
		s.mu.Lock()
		prev.sil = *next
		s.mu.Unlock()
		return next.ID, nil
	}

	id, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("generate silence id: %w", err)
	}
	next.ID = id.String()
	if next.StartsAt.Before(now) {
		next.StartsAt = now
	}
	changes := []*Silence{next}
	var expired *Silence
	if ok {
		expired = expire(&prev.sil, now)
		if expired != nil {
			changes = append(changes, expired)
		}
	}
	if err := s.persist(changes, nil); err != nil {
		return "", err
	}
	e := newEntry(next, prefixes)
	s.mu.Lock()
	if expired != nil {
		prev.sil = *expired
	}
	s.byID[e.sil.ID] = e
	s.idx.add(e)
	s.mu.Unlock()
	return next.ID, nil
}

// expire returns sil expired at now as Alertmanager's expire does (an
// active silence ends now, a pending one starts and ends now), or nil if
// it is already expired.
func expire(sil *Silence, now time.Time) *Silence {
	c := sil.clone()
	switch sil.State(now) {
	case StateActive:
		c.EndsAt = now
	case StatePending:
		c.StartsAt, c.EndsAt = now, now
	default:
		return nil
	}
	c.UpdatedAt = now
	return c
}

// Expire ends the silence with the given ID now, as Alertmanager's Expire:
// an active silence ends now, a pending one starts and ends now, an
// expired one is left alone (no error). An unknown ID is ErrNotFound. The
// change is persisted before Expire returns.
//
// As in Alertmanager, a silence whose EndsAt is now still counts as
// active at now (State includes both ends).
func (s *Silences) Expire(id string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	now := s.now().UTC()
	e, ok := s.byID[id]
	if !ok {
		return ErrNotFound
	}
	c := expire(&e.sil, now)
	if c == nil {
		return nil
	}
	if err := s.persist([]*Silence{c}, nil); err != nil {
		return err
	}
	s.mu.Lock()
	e.sil = *c
	s.mu.Unlock()
	return nil
}

// Get returns a copy of the silence with the given ID, or ErrNotFound.
func (s *Silences) Get(id string) (*Silence, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.byID[id]
	if !ok {
		return nil, ErrNotFound
	}
	return e.sil.clone(), nil
}

// List returns copies of all silences, in every state, sorted by ID.
func (s *Silences) List() []*Silence {
	s.mu.RLock()
	out := make([]*Silence, 0, len(s.byID))
	for _, e := range s.byID {
		out = append(out, e.sil.clone())
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Silence) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Mutes returns the sorted IDs of the silences that are active now and
// whose matchers all match lset (a missing label being ""), or nil if
// none. It looks only at the silences whose equality matchers lset could
// satisfy and at those without one (see index).
func (s *Silences) Mutes(lset labels.Labels) (silencedBy []string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.byID) == 0 {
		return nil
	}
	now := s.now()
	check := func(b []*entry) {
		for _, e := range b {
			if e.sil.State(now) == StateActive && e.matches(lset) {
				silencedBy = append(silencedBy, e.sil.ID)
			}
		}
	}
	if len(s.idx.byName) > 0 {
		lset.Range(func(l labels.Label) {
			if values, ok := s.idx.byName[l.Name]; ok {
				check(values[l.Value])
			}
		})
	}
	check(s.idx.rest)
	if !slices.IsSorted(silencedBy) {
		// IDs from more than one bucket; a label set with a duplicate
		// name could even find one silence twice.
		slices.Sort(silencedBy)
		silencedBy = slices.Compact(silencedBy)
	}
	return silencedBy
}

// GC deletes the silences whose EndsAt plus the retention is not after
// now, from the store and from memory, and returns how many it deleted.
func (s *Silences) GC() (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	now := s.now()
	var gone []*entry
	for _, e := range s.byID {
		if s.pastRetention(&e.sil, now) {
			gone = append(gone, e)
		}
	}
	if len(gone) == 0 {
		return 0, nil
	}
	ids := make([]string, len(gone))
	for i, e := range gone {
		ids[i] = e.sil.ID
	}
	if err := s.persist(nil, ids); err != nil {
		return 0, err
	}
	s.mu.Lock()
	for _, e := range gone {
		delete(s.byID, e.sil.ID)
		s.idx.remove(e)
	}
	s.mu.Unlock()
	return len(gone), nil
}

// Run collects garbage every GCInterval until ctx is done, and then
// returns nil.
func (s *Silences) Run(ctx context.Context) error {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			n, err := s.GC()
			if err != nil {
				s.logger.Error("silence gc", "err", err)
				continue
			}
			if n > 0 {
				s.logger.Debug("silence gc", "deleted", n)
			}
		}
	}
}

// countStates returns how many silences are in each state now.
func (s *Silences) countStates() map[State]int {
	now := s.now()
	counts := make(map[State]int, 3)
	s.mu.RLock()
	for _, e := range s.byID {
		counts[e.sil.State(now)]++
	}
	s.mu.RUnlock()
	return counts
}

// collector exports alertd_silences{state}, counted at scrape.
type collector struct {
	s    *Silences
	desc *prometheus.Desc
}

func newCollector(s *Silences) *collector {
	return &collector{s: s, desc: prometheus.NewDesc(
		"alertd_silences",
		"How many silences there are, by state.",
		[]string{"state"}, nil,
	)}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counts := c.s.countStates()
	for _, st := range []State{StateActive, StatePending, StateExpired} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
}

// register registers c, replacing a collector of an earlier Silences.
func register(r prometheus.Registerer, c prometheus.Collector) error {
	err := r.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		r.Unregister(are.ExistingCollector)
		err = r.Register(c)
	}
	if err != nil {
		return fmt.Errorf("register silence metrics: %w", err)
	}
	return nil
}

package grouping

import (
	"context"
	"sync"
	"time"

	"github.com/alertd/alertd/alert"
)

// DefaultAlertGCInterval is how often resolved alerts are dropped from the
// store (Alertmanager's --alerts.gc-interval).
const DefaultAlertGCInterval = 30 * time.Minute

// AlertsOptions configure an alert store.
type AlertsOptions struct {
	// OnPut receives every alert as stored (merged), in the order put.
	// It is called without the store's lock held.
	OnPut      func(alerts []*alert.Alert)
	GCInterval time.Duration
	Now        func() time.Time
}

// Alerts is the Alertmanager's in-memory alert store: alerts by
// fingerprint, merged on arrival as provider/mem does. Stored alerts are
// never modified, only replaced.
type Alerts struct {
	o  AlertsOptions
	mu sync.RWMutex
	m  map[uint64]*alert.Alert
}

// NewAlerts returns an empty store.
func NewAlerts(o AlertsOptions) *Alerts {
	if o.GCInterval <= 0 {
		o.GCInterval = DefaultAlertGCInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Alerts{o: o, m: map[uint64]*alert.Alert{}}
}

// Put stores alerts, merging each with the stored alert of the same labels
// when their activity ranges overlap (Alertmanager's alert.Merge), and hands
// the stored versions to OnPut.
func (s *Alerts) Put(alerts ...*alert.Alert) error {
	now := s.o.Now()
	stored := make([]*alert.Alert, 0, len(alerts))
	s.mu.Lock()
	for _, a := range alerts {
		fp := a.Fingerprint()
		if old, ok := s.m[fp]; ok {
			if (a.EndsAt.After(old.StartsAt) && a.EndsAt.Before(old.EndsAt)) ||
				(a.StartsAt.After(old.StartsAt) && a.StartsAt.Before(old.EndsAt)) {
				a = merge(old, a, now)
			}
		}
		s.m[fp] = a
		stored = append(stored, a)
	}
	s.mu.Unlock()
	if s.o.OnPut != nil {
		s.o.OnPut(stored)
	}
	return nil
}

// merge is Alertmanager's alert.Merge: the younger alert wins but for the
// earliest StartsAt and, per its rules, EndsAt.
func merge(a, o *alert.Alert, now time.Time) *alert.Alert {
	if o.UpdatedAt.Before(a.UpdatedAt) {
		a, o = o, a
	}
	res := *o
	if a.StartsAt.Before(o.StartsAt) {
		res.StartsAt = a.StartsAt
	}
	if o.Resolved(now) {
		if a.Resolved(now) && a.EndsAt.After(o.EndsAt) {
			res.EndsAt = a.EndsAt
		}
	} else if a.EndsAt.After(o.EndsAt) && !a.Timeout {
		res.EndsAt = a.EndsAt
	}
	return &res
}

// List returns every stored alert, resolved ones included.
func (s *Alerts) List() []*alert.Alert {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*alert.Alert, 0, len(s.m))
	for _, a := range s.m {
		out = append(out, a)
	}
	return out
}

// Get returns the alert with fingerprint fp.
func (s *Alerts) Get(fp uint64) (*alert.Alert, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.m[fp]
	return a, ok
}

// GC drops resolved alerts and returns how many. Aggregation groups keep
// their own references until they flushed them.
func (s *Alerts) GC() int {
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for fp, a := range s.m {
		if a.Resolved(now) {
			delete(s.m, fp)
			n++
		}
	}
	return n
}

// Run collects garbage until ctx is done.
func (s *Alerts) Run(ctx context.Context) error {
	t := time.NewTicker(s.o.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.GC()
		}
	}
}

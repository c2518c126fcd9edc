package grouping

import (
	"container/heap"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
)

// MinFlushTimeout is the least time a flush gets (Alertmanager's
// notify.MinTimeout): a flush may take max(group_interval, 10s).
const MinFlushTimeout = 10 * time.Second

// Notifier receives each flush of an aggregation group. A nil error means
// the flush succeeded (including "nothing to send"), so the group's resolved
// alerts may be dropped; an error keeps them for the next flush.
type Notifier interface {
	Notify(ctx context.Context, n *alert.Notification) error
}

// Flush concurrency: at most DefaultMaxFlushes flushes start work at once;
// one that is still running after SlowFlush (a receiver that is slow or
// down, retrying) frees its place, so it cannot hold back the others.
const (
	DefaultMaxFlushes = 64
	SlowFlush         = time.Second
)

// DispatcherOptions configure a Dispatcher.
type DispatcherOptions struct {
	Route      *Route
	Notifier   Notifier
	MaxFlushes int // default DefaultMaxFlushes
	Logger     *slog.Logger
}

// Dispatcher puts alerts into aggregation groups of the routing tree and
// flushes every group on Alertmanager's timers: first group_wait after it
// was created (at once if its first alert is older than that), then every
// group_interval, at a fixed cadence. One scheduler goroutine serves every
// group; a flush runs in a goroutine of its own while it lasts.
type Dispatcher struct {
	o      DispatcherOptions
	logger *slog.Logger

	mu      sync.Mutex
	groups  map[groupID]*aggrGroup
	sched   schedule
	queue   []dueFlush // due, waiting for a place
	running int        // flushes holding a place
	wake    chan struct{}
	ctx     context.Context // set by Run, for flushes
	flushes sync.WaitGroup
	// draining: Drain was called, no flush starts any more.
	draining bool
}

type dueFlush struct {
	ag   *aggrGroup
	tick time.Time
}

type groupID struct {
	route *Route
	fp    uint64
}

type aggrGroup struct {
	id       groupID
	labels   labels.Labels
	key      string
	alerts   map[uint64]*alert.Alert
	next     time.Time
	heapIdx  int
	flushing bool
	due      bool // a tick came while flushing
	gone     bool // destroyed: every alert resolved and notified
}

// NewDispatcher returns a dispatcher. It starts nothing: alerts put before
// Run wait for it.
func NewDispatcher(o DispatcherOptions) *Dispatcher {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxFlushes <= 0 {
		o.MaxFlushes = DefaultMaxFlushes
	}
	return &Dispatcher{
		o:      o,
		logger: o.Logger.With("component", "dispatcher"),
		groups: map[groupID]*aggrGroup{},
		wake:   make(chan struct{}, 1),
	}
}

// Put routes alerts into their aggregation groups. The alerts must not be
// modified afterwards.
func (d *Dispatcher) Put(alerts ...*alert.Alert) {
	now := time.Now()
	woke := false
	d.mu.Lock()
	for _, a := range alerts {
		afp := a.Fingerprint()
		for _, r := range d.o.Route.Match(a.Labels) {
			gl := r.groupLabels(a.Labels)
			id := groupID{route: r, fp: alert.Fingerprint(gl)}
			ag := d.groups[id]
			if ag == nil {
				ag = &aggrGroup{
					id:     id,
					labels: gl,
					key:    r.Key() + ":" + labelSetString(gl),
					alerts: map[uint64]*alert.Alert{},
					next:   now.Add(r.Opts.GroupWait),
				}
				// An alert older than group_wait (after a restart or
				// reload) is flushed at once.
				if a.StartsAt.Add(r.Opts.GroupWait).Before(now) {
					ag.next = now
				}
				d.groups[id] = ag
				heap.Push(&d.sched, ag)
				woke = true
			}
			ag.alerts[afp] = a
		}
	}
	d.mu.Unlock()
	if woke {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

// Run flushes groups until ctx is done, then waits for the flushes under
// way (their contexts end with ctx).
func (d *Dispatcher) Run(ctx context.Context) error {
	d.mu.Lock()
	d.ctx = ctx
	d.mu.Unlock()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d.mu.Lock()
		now := time.Now()
		for d.sched.Len() > 0 && !d.sched[0].next.After(now) {
			ag := d.sched[0]
			ag.next = now.Add(ag.id.route.Opts.GroupInterval)
			heap.Fix(&d.sched, 0)
			if ag.flushing {
				ag.due = true
				continue
			}
			ag.flushing = true
			d.queue = append(d.queue, dueFlush{ag, now})
		}
		d.startQueued()
		wait := time.Hour
		if d.sched.Len() > 0 {
			wait = d.sched[0].next.Sub(now)
		}
		d.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			d.flushes.Wait()
			return nil
		case <-timer.C:
		case <-d.wake:
		}
	}
}

// startQueued starts queued flushes while places are free. d.mu is held.
func (d *Dispatcher) startQueued() {
	for !d.draining && len(d.queue) > 0 && d.running < d.o.MaxFlushes {
		f := d.queue[0]
		d.queue[0] = dueFlush{}
		d.queue = d.queue[1:]
		if f.ag.gone {
			continue
		}
		d.running++
		snapshot := make([]*alert.Alert, 0, len(f.ag.alerts))
		for _, a := range f.ag.alerts {
			snapshot = append(snapshot, a)
		}
		d.flushes.Add(1)
		go func() {
			defer d.flushes.Done()
			release := sync.OnceFunc(func() {
				d.mu.Lock()
				d.running--
				d.startQueued()
				d.mu.Unlock()
			})
			slow := time.AfterFunc(SlowFlush, release)
			defer func() {
				slow.Stop()
				release()
			}()
			d.flush(f.ag, f.tick, snapshot)
		}()
	}
}

func (d *Dispatcher) flush(ag *aggrGroup, tick time.Time, stored []*alert.Alert) {
	opts := &ag.id.route.Opts
	now := time.Now()
	copies := make([]*alert.Alert, len(stored))
	var resolved []int
	for i, a := range stored {
		c := *a
		if c.Resolved(now) {
			resolved = append(resolved, i)
		} else {
			c.EndsAt = time.Time{}
		}
		copies[i] = &c
	}
	order := make([]int, len(copies))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return compareAlerts(copies[i], copies[j]) })
	sorted := make([]*alert.Alert, len(copies))
	for k, i := range order {
		sorted[k] = copies[i]
	}
	n := &alert.Notification{
		GroupKey:            ag.key,
		GroupLabels:         ag.labels,
		Receiver:            opts.Receiver,
		RepeatInterval:      opts.RepeatInterval,
		MuteTimeIntervals:   opts.MuteTimeIntervals,
		ActiveTimeIntervals: opts.ActiveTimeIntervals,
		Now:                 tick,
		Alerts:              sorted,
	}
	ctx, cancel := context.WithTimeout(d.ctx, max(opts.GroupInterval, MinFlushTimeout))
	err := d.o.Notifier.Notify(ctx, n)
	cancel()
	if err != nil {
		d.logger.Error("notify failed", "group_key", ag.key, "receiver", opts.Receiver, "err", err)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	ag.flushing = false
	if err == nil {
		// Drop the resolved alerts just notified, unless they changed
		// during the flush (stored alerts are replaced, never modified).
		for _, i := range resolved {
			fp := stored[i].Fingerprint()
			if ag.alerts[fp] == stored[i] {
				delete(ag.alerts, fp)
			}
		}
		if len(ag.alerts) == 0 {
			ag.gone = true
			delete(d.groups, ag.id)
			heap.Remove(&d.sched, ag.heapIdx)
			return
		}
	}
	if ag.due && d.ctx.Err() == nil {
		ag.due = false
		ag.flushing = true
		d.queue = append(d.queue, dueFlush{ag, time.Now()})
		d.startQueued()
	}
}

// AlertGroup is a snapshot of an aggregation group.
type AlertGroup struct {
	Labels              labels.Labels
	Receiver            string
	Key                 string
	Alerts              []*alert.Alert // sorted as in a notification
	MuteTimeIntervals   []string       // the route's
	ActiveTimeIntervals []string       // the route's
}

// Drain stops starting flushes and waits until the running ones have
// finished or ctx ends, for a shutdown that lets the notifications under
// way complete before Run's context cancels them. Flushes due meanwhile
// are not started: their alerts are notified after the next start.
func (d *Dispatcher) Drain(ctx context.Context) {
	d.mu.Lock()
	d.draining = true
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.flushes.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// Stats returns the dispatcher's backlog: its aggregation groups, the
// flushes running, and the flushes due but waiting for a place
// (DispatcherOptions.MaxFlushes).
func (d *Dispatcher) Stats() (groups, running, waiting int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.groups), d.running, len(d.queue)
}

// Groups returns a snapshot of the aggregation groups, sorted by group
// labels, then receiver.
func (d *Dispatcher) Groups() []AlertGroup {
	d.mu.Lock()
	out := make([]AlertGroup, 0, len(d.groups))
	for _, ag := range d.groups {
		opts := &ag.id.route.Opts
		g := AlertGroup{
			Labels: ag.labels, Receiver: opts.Receiver, Key: ag.key, Alerts: make([]*alert.Alert, 0, len(ag.alerts)),
			MuteTimeIntervals: opts.MuteTimeIntervals, ActiveTimeIntervals: opts.ActiveTimeIntervals,
		}
		for _, a := range ag.alerts {
			g.Alerts = append(g.Alerts, a)
		}
		out = append(out, g)
	}
	d.mu.Unlock()
	for _, g := range out {
		slices.SortFunc(g.Alerts, compareAlerts)
	}
	slices.SortFunc(out, func(a, b AlertGroup) int {
		if c := labels.Compare(a.Labels, b.Labels); c != 0 {
			return c
		}
		if c := strings.Compare(a.Receiver, b.Receiver); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// Receivers returns the receivers of the routes an alert with lset goes
// to, in route order, without repeats.
func (d *Dispatcher) Receivers(lset labels.Labels) []string {
	var out []string
	for _, r := range d.o.Route.Match(lset) {
		if !slices.Contains(out, r.Opts.Receiver) {
			out = append(out, r.Opts.Receiver)
		}
	}
	return out
}

// compareAlerts orders alerts as Alertmanager's AlertSlice: by job, then
// instance (an alert with the label first), then label set.
func compareAlerts(a, b *alert.Alert) int {
	for _, k := range [...]string{"job", "instance"} {
		av, bv := a.Labels.Get(k), b.Labels.Get(k)
		aok, bok := av != "" || a.Labels.Has(k), bv != "" || b.Labels.Has(k)
		switch {
		case !aok && !bok:
			continue
		case !aok:
			return 1
		case !bok:
			return -1
		case av != bv:
			return strings.Compare(av, bv)
		}
	}
	switch {
	case labelsBefore(a.Labels, b.Labels):
		return -1
	case labelsBefore(b.Labels, a.Labels):
		return 1
	}
	return 0
}

// labelsBefore is prometheus/common's model.LabelSet.Before.
func labelsBefore(a, b labels.Labels) bool {
	if a.Len() != b.Len() {
		return a.Len() < b.Len()
	}
	names := make([]string, 0, a.Len()+b.Len())
	a.Range(func(l labels.Label) { names = append(names, l.Name) })
	b.Range(func(l labels.Label) { names = append(names, l.Name) })
	slices.Sort(names)
	for _, n := range names {
		if !a.Has(n) {
			return true
		}
		if !b.Has(n) {
			return false
		}
		av, bv := a.Get(n), b.Get(n)
		if av != bv {
			return av < bv
		}
	}
	return false
}

// schedule is a min-heap of groups by next flush.
type schedule []*aggrGroup

func (s schedule) Len() int           { return len(s) }
func (s schedule) Less(i, j int) bool { return s[i].next.Before(s[j].next) }
func (s schedule) Swap(i, j int) {
	s[i], s[j] = s[j], s[i]
	s[i].heapIdx, s[j].heapIdx = i, j
}

// Push implements heap.Interface.
func (s *schedule) Push(x any) {
	ag := x.(*aggrGroup)
	ag.heapIdx = len(*s)
	*s = append(*s, ag)
}

// Pop implements heap.Interface.
func (s *schedule) Pop() any {
	old := *s
	ag := old[len(old)-1]
	old[len(old)-1] = nil
	*s = old[:len(old)-1]
	ag.heapIdx = -1
	return ag
}

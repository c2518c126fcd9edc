package grouping

import (
	"container/heap"
	"context"
	"errors"
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
	queue   []dueFlush // due, waiting for a place: queue[qhead:]
	qhead   int
	running int // flushes holding a place
	wake    chan struct{}
	ctx     context.Context // set by Run, for flushes
	idle    []*worker       // workers waiting for a flush
	workers sync.WaitGroup  // every worker, idle or not
	flushes sync.WaitGroup  // flushes given to a worker and not over
	// draining: Drain was called, no flush starts any more.
	draining bool
}

type dueFlush struct {
	ag       *aggrGroup
	tick     time.Time
	snapshot []*alert.Alert // the group's alerts when the flush started
	start    time.Time      // when it was given to a worker
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
			d.enqueue(dueFlush{ag: ag, tick: now})
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
			d.workers.Wait()
			return nil
		case <-timer.C:
		case <-d.wake:
		}
	}
}

// enqueue queues f. A full array whose first half has been started is
// moved down instead of grown, so that a queue that never empties does not
// grow without bound, and one that does reuses its array. d.mu is held.
func (d *Dispatcher) enqueue(f dueFlush) {
	if len(d.queue) == cap(d.queue) && d.qhead >= len(d.queue)/2 && d.qhead > 0 {
		n := copy(d.queue, d.queue[d.qhead:])
		clear(d.queue[n:])
		d.queue, d.qhead = d.queue[:n], 0
	}
	d.queue = append(d.queue, f)
}

// dequeue removes the first queued flush; the queue must not be empty.
// d.mu is held.
func (d *Dispatcher) dequeue() dueFlush {
	f := d.queue[d.qhead]
	d.queue[d.qhead] = dueFlush{}
	d.qhead++
	if d.qhead == len(d.queue) {
		// Empty: the next flushes reuse the array from its start.
		d.queue, d.qhead = d.queue[:0], 0
	}
	return f
}

// startQueued starts queued flushes while places are free, each on an
// idle worker or a new one; none once Run's context has ended. d.mu is
// held.
func (d *Dispatcher) startQueued() {
	for !d.draining && d.ctx.Err() == nil && d.qhead < len(d.queue) && d.running < d.o.MaxFlushes {
		f := d.dequeue()
		if f.ag.gone {
			continue
		}
		d.running++
		f.snapshot = make([]*alert.Alert, 0, len(f.ag.alerts))
		for _, a := range f.ag.alerts {
			f.snapshot = append(f.snapshot, a)
		}
		var w *worker
		if n := len(d.idle); n > 0 {
			w = d.idle[n-1]
			d.idle[n-1] = nil
			d.idle = d.idle[:n-1]
		} else {
			w = d.newWorker()
		}
		w.holding = true
		w.started = time.Now()
		f.start = w.started
		d.flushes.Add(1)
		w.work <- f
	}
}

// A worker runs flushes one after the other, so that a flush does not pay
// for a new goroutine and its stack growth; one idle for workerIdle ends.
type worker struct {
	work chan dueFlush // holds at most the one flush given to an idle worker
	slow *time.Timer   // frees the place of a flush running for SlowFlush

	// The context of the worker's flushes, a child of Run's: expire ends
	// it at a flush's deadline (with context.DeadlineExceeded as its
	// cause) and sends on expired once it has; the worker then makes a
	// new one for its next flush. A context and a timer per flush (as
	// context.WithTimeout makes them) cost more than the rest of the
	// dispatcher's share of a flush.
	ctx     context.Context
	cancel  context.CancelCauseFunc
	expire  *time.Timer
	expired chan struct{}

	// Under Dispatcher.mu: the running flush holds a place, since started.
	holding bool
	started time.Time
}

const workerIdle = time.Minute

// newWorker starts a worker. d.mu is held.
func (d *Dispatcher) newWorker() *worker {
	w := &worker{work: make(chan dueFlush, 1), expired: make(chan struct{}, 1)}
	w.ctx, w.cancel = context.WithCancelCause(d.ctx)
	w.expire = time.AfterFunc(time.Hour, func() {
		w.cancel(context.DeadlineExceeded)
		w.expired <- struct{}{}
	})
	w.expire.Stop()
	w.slow = time.AfterFunc(time.Hour, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		// A timer that fired for a flush already over finds the next one
		// started less than SlowFlush ago.
		if w.holding && time.Since(w.started) >= SlowFlush {
			d.release(w)
			d.startQueued()
		}
	})
	w.slow.Stop()
	d.workers.Add(1)
	go d.runWorker(w)
	return w
}

// release frees the place w's flush holds. d.mu is held.
func (d *Dispatcher) release(w *worker) {
	if w.holding {
		w.holding = false
		d.running--
	}
}

func (d *Dispatcher) runWorker(w *worker) {
	defer d.workers.Done()
	// Between flushes expire is stopped: cancel only detaches w.ctx (the
	// current one: a flush that hit its deadline replaced it) from Run's
	// context.
	defer func() { w.cancel(nil) }()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		var f dueFlush
		select {
		case f = <-w.work:
		case <-d.ctx.Done():
			// Run waits for the workers. A worker no longer idle was
			// given a flush just before: it runs (its context is done).
			if d.leave(w) {
				return
			}
			f = <-w.work
		case <-idle.C:
			if d.leave(w) {
				return
			}
			f = <-w.work // given a flush as the timer fired
		}
		w.slow.Reset(SlowFlush)
		timeout := max(f.ag.id.route.Opts.GroupInterval, MinFlushTimeout)
		w.expire.Reset(timeout)
		d.flush(&flushCtx{Context: w.ctx, deadline: f.start.Add(timeout)}, f.ag, f.tick, f.snapshot)
		if !w.expire.Stop() {
			<-w.expired
			w.ctx, w.cancel = context.WithCancelCause(d.ctx)
		}
		w.slow.Stop()
		d.mu.Lock()
		d.release(w)
		d.idle = append(d.idle, w)
		d.startQueued()
		d.mu.Unlock()
		d.flushes.Done()
		idle.Reset(workerIdle)
	}
}

// leave removes w from the idle workers and reports whether it was idle;
// one that was not has a flush to run.
func (d *Dispatcher) leave(w *worker) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	i := slices.Index(d.idle, w)
	if i >= 0 {
		d.idle = slices.Delete(d.idle, i, i+1)
	}
	return i >= 0
}

// flushCtx is a flush's context: its worker's, with the flush's deadline,
// and context.DeadlineExceeded as its error once the worker's timer has
// ended it at that deadline. It does not show the worker's context to the
// context package as a parent to join (Value hides it): a context derived
// from it is ended through AfterFunc, with flushCtx's error and cause, as
// one derived from context.WithTimeout's would be.
type flushCtx struct {
	context.Context
	deadline time.Time
}

func (c *flushCtx) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *flushCtx) Err() error {
	err := c.Context.Err()
	if err != nil && errors.Is(context.Cause(c.Context), context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return err
}

func (c *flushCtx) Value(key any) any {
	v := c.Context.Value(key)
	if v == any(c.Context) {
		// The context package's own key, under which a cancelCtx gives
		// itself: a child would take the worker's error, Canceled.
		return nil
	}
	return v
}

// AfterFunc lets contexts derived from c follow it without a goroutine
// each (the context package's afterFuncer).
func (c *flushCtx) AfterFunc(f func()) (stop func() bool) {
	return context.AfterFunc(c.Context, f)
}

func (d *Dispatcher) flush(ctx context.Context, ag *aggrGroup, tick time.Time, stored []*alert.Alert) {
	opts := &ag.id.route.Opts
	// The notification's alerts are the stored ones (never modified),
	// sorted as Alertmanager sorts them; which of them are resolved is
	// decided at the tick, by the pipeline as here.
	var buf [16]sortKey
	keys := buf[:0]
	for _, a := range stored {
		keys = append(keys, newSortKey(a))
	}
	slices.SortStableFunc(keys, compareSortKeys)
	// stored is this flush's own snapshot: sorted in place.
	sorted := stored
	for k, key := range keys {
		sorted[k] = key.a
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
	err := d.o.Notifier.Notify(ctx, n)
	if err != nil {
		d.logger.Error("notify failed", "group_key", ag.key, "receiver", opts.Receiver, "err", err)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	ag.flushing = false
	if err == nil {
		// Drop the resolved alerts just notified, unless they changed
		// during the flush (stored alerts are replaced, never modified).
		for _, a := range stored {
			if a.Resolved(tick) {
				fp := a.Fingerprint()
				if ag.alerts[fp] == a {
					delete(ag.alerts, fp)
				}
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
		d.enqueue(dueFlush{ag: ag, tick: time.Now()})
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
	return len(d.groups), d.running, len(d.queue) - d.qhead
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
	return compareSortKeys(newSortKey(a), newSortKey(b))
}

// sortKey is what compareAlerts compares, looked up once per alert.
type sortKey struct {
	a                   *alert.Alert
	job, instance       string
	hasJob, hasInstance bool
}

func newSortKey(a *alert.Alert) sortKey {
	k := sortKey{a: a}
	a.Labels.Range(func(l labels.Label) {
		switch l.Name {
		case "job":
			k.job, k.hasJob = l.Value, true
		case "instance":
			k.instance, k.hasInstance = l.Value, true
		}
	})
	return k
}

func compareSortKeys(a, b sortKey) int {
	if c := compareLabel(a.job, b.job, a.hasJob, b.hasJob); c != 0 {
		return c
	}
	if c := compareLabel(a.instance, b.instance, a.hasInstance, b.hasInstance); c != 0 {
		return c
	}
	switch {
	case labelsBefore(a.a.Labels, b.a.Labels):
		return -1
	case labelsBefore(b.a.Labels, a.a.Labels):
		return 1
	}
	return 0
}

// compareLabel orders by one label: an alert with it first, then by value.
func compareLabel(av, bv string, aok, bok bool) int {
	switch {
	case !aok && !bok:
		return 0
	case !aok:
		return 1
	case !bok:
		return -1
	}
	return strings.Compare(av, bv)
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

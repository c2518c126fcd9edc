package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/timeinterval"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/store"
)

// Muter says whether an alert is muted, and by what: silence IDs or the
// fingerprints of inhibiting alerts. A non-empty result means muted.
type Muter interface {
	Mutes(lset labels.Labels) []string
}

// Integration is one configured notifier, e.g. webhook_configs[1] of a
// receiver. Its methods must be safe for concurrent use: flushes of
// different groups run at the same time.
type Integration interface {
	// Name is the kind: "webhook", later "email", "slack", "pagerduty".
	Name() string
	// Index is the integration's index among those of its kind in the
	// receiver.
	Index() int
	// SendResolved reports whether resolved alerts are sent.
	SendResolved() bool
	// Notify sends d, which holds only what to send (no resolved alerts
	// when SendResolved is false) and must not be modified. retry says
	// whether a failure may succeed if tried again; an *Error tells the
	// failure's Reason and the receiver's Retry-After.
	Notify(ctx context.Context, d *Data) (retry bool, err error)
}

// AlertsIntegration is an Integration that writes its message straight
// from the alerts rather than from their Data: the webhook, whose JSON
// needs none of the maps Data builds for templates. The pipeline calls
// NotifyAlerts instead of Notify; both must send the same message.
type AlertsIntegration interface {
	Integration
	NotifyAlerts(ctx context.Context, a *Alerts) (retry bool, err error)
}

// Stateful is an Integration that keeps data per aggregation group from one
// notification to the next: Slack's posted message, so that later
// notifications of the group update it. The pipeline keeps the data in the
// group's notification log entry (Alertmanager's receiver_data), so it
// survives restarts and expires with the entry.
type Stateful interface {
	Integration
	// NotifyState is Notify given the state that the last successful
	// notification of this group returned (nil if none, or if the entry
	// has expired); it returns the state to keep, which replaces it when
	// the notification succeeds (nil keeps none).
	NotifyState(ctx context.Context, d *Data, state []byte) (next []byte, retry bool, err error)
}

// GCInterval is how often Run removes expired notification log entries,
// Alertmanager's --data.maintenance-interval default.
const GCInterval = 15 * time.Minute

// Options configure a Pipeline. The zero value is valid: no receivers, no
// inhibition or silences, a notification log in memory, no logs, no
// metrics.
type Options struct {
	// Receivers are the integrations of each receiver, by receiver name
	// (BuildReceivers makes them). A receiver with none accepts every
	// flush and sends nothing, like Alertmanager's "null" receiver.
	Receivers map[string][]Integration
	// Inhibitor and Silencer mute single alerts; nil mutes none.
	Inhibitor Muter
	Silencer  Muter
	// TimeIntervals are the named time intervals that routes'
	// active_time_intervals and mute_time_intervals refer to
	// (TimeIntervals makes them from Alertmanager's configuration).
	TimeIntervals map[string][]timeinterval.TimeInterval
	// Store persists the notification log; nil keeps it in memory only.
	Store *store.Store
	// Retention bounds how long a notification log entry is kept: an
	// entry expires after min(Retention, 2×repeat_interval). Zero means
	// DefaultRetention.
	Retention time.Duration
	// LogFlushInterval, when positive, keeps the notification log in
	// memory and writes it to the store in the background every interval
	// (and when Run returns), one transaction for all new entries: a
	// flush then never waits for the disk. A crash can lose the last
	// interval's entries, so those notifications may be sent once more.
	// Zero writes each entry before Notify returns. Only one Pipeline may
	// use a store this way at a time: build the next one after the
	// previous one's Run has returned.
	LogFlushInterval time.Duration
	// ExternalURL is the Data's ExternalURL, the URL alertd is reached at.
	ExternalURL string
	// Logger receives the retry loop's and GC's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the alertd_notification* metrics; nil registers
	// none. Collectors already registered (by the Pipeline this one
	// replaces on reload) are reused.
	Registerer prometheus.Registerer
	// History receives the outcome of every notification sent; nil
	// records none.
	History History
}

// Pipeline runs aggregation group flushes through inhibition, time
// intervals, silences, deduplication, retries and the integrations. Its
// methods are safe for concurrent use.
type Pipeline struct {
	receivers   map[string][]Integration
	inhibitor   Muter
	silencer    Muter
	intervals   map[string][]timeinterval.TimeInterval
	externalURL string
	logger      *slog.Logger
	metrics     *metrics
	nflog       *nflog
	history     History

	flushInterval time.Duration // LogFlushInterval

	// The retry backoff; tests shorten it.
	backoffInitial, backoffMax time.Duration
}

// New builds a Pipeline and checks the notification log already in the
// store, removing entries it cannot read. It starts nothing.
func New(o Options) (*Pipeline, error) {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "notify")
	if o.Retention < 0 {
		return nil, fmt.Errorf("negative notification log retention %s", o.Retention)
	}
	retention := o.Retention
	if retention == 0 {
		retention = DefaultRetention
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	for _, igs := range o.Receivers {
		for _, ig := range igs {
			m.initIntegration(ig.Name())
		}
	}
	l, removed, err := openNflog(o.Store, retention, o.LogFlushInterval > 0)
	if err != nil {
		return nil, err
	}
	if removed > 0 {
		logger.Warn("removed unreadable notification log entries", "entries", removed)
	}
	return &Pipeline{
		receivers:      o.Receivers,
		inhibitor:      o.Inhibitor,
		silencer:       o.Silencer,
		intervals:      o.TimeIntervals,
		externalURL:    o.ExternalURL,
		logger:         logger,
		metrics:        m,
		nflog:          l,
		history:        o.History,
		flushInterval:  o.LogFlushInterval,
		backoffInitial: DefaultBackoffInitial,
		backoffMax:     DefaultBackoffMax,
	}, nil
}

// FlushLog writes the notification log entries not yet in the store
// (with Options.LogFlushInterval) and folds its journal, so that the store
// holds the whole log as one bucket. Run does so when it ends; a flush that
// completes after that, while the dispatcher stops, leaves its entry to
// this call, which the owner makes once nothing notifies any more.
func (p *Pipeline) FlushLog() error {
	return p.nflog.flush()
}

// Run removes expired notification log entries every GCInterval until ctx
// ends, then returns nil.
func (p *Pipeline) Run(ctx context.Context) error {
	t := time.NewTicker(GCInterval)
	defer t.Stop()
	var flushC <-chan time.Time
	if p.flushInterval > 0 {
		ft := time.NewTicker(p.flushInterval)
		defer ft.Stop()
		flushC = ft.C
	}
	write := func(w func() error) {
		if err := w(); err != nil {
			p.logger.Error("notification log write", "err", err)
		}
	}
	defer write(p.nflog.flush)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-flushC:
			write(p.nflog.persist)
		case <-t.C:
			if n, err := p.nflog.gc(time.Now()); err != nil {
				p.logger.Error("notification log gc", "err", err)
			} else {
				p.logger.Debug("notification log gc", "removed", n)
			}
		}
	}
}

// Notify runs one flush of an aggregation group through the pipeline. A
// nil error means the dispatcher may delete the group's resolved alerts:
// "nothing to send" outcomes (all muted, outside the active time
// intervals, deduplicated) are successes; any integration that failed
// makes it an error, joined with the others'. ctx carries the flush
// deadline: the retries of every integration stop at it.
func (p *Pipeline) Notify(ctx context.Context, n *alert.Notification) error {
	integrations, ok := p.receivers[n.Receiver]
	if !ok {
		return fmt.Errorf("notify: unknown receiver %q", n.Receiver)
	}

	alerts := p.mute(p.inhibitor, n.Alerts, suppressedInhibition)
	if len(alerts) == 0 {
		return nil
	}
	if len(n.ActiveTimeIntervals) > 0 {
		active, err := p.inIntervals(n.ActiveTimeIntervals, n.Now)
		if err != nil {
			return fmt.Errorf("notify: active_time_intervals: %w", err)
		}
		if !active {
			p.metrics.suppressed.WithLabelValues(suppressedActiveTimeInterval).Add(float64(len(alerts)))
			return nil
		}
	}
	if len(n.MuteTimeIntervals) > 0 {
		muted, err := p.inIntervals(n.MuteTimeIntervals, n.Now)
		if err != nil {
			return fmt.Errorf("notify: mute_time_intervals: %w", err)
		}
		if muted {
			p.metrics.suppressed.WithLabelValues(suppressedMuteTimeInterval).Add(float64(len(alerts)))
			return nil
		}
	}
	alerts = p.mute(p.silencer, alerts, suppressedSilence)
	if len(alerts) == 0 || len(integrations) == 0 {
		return nil
	}

	f := &flush{
		n:           n,
		alerts:      alerts,
		hashes:      hashAlerts(alerts, n.Now),
		externalURL: p.externalURL,
	}

	if len(integrations) == 1 {
		return p.notifyIntegration(ctx, f, integrations[0])
	}
	errs := make([]error, len(integrations))
	var wg sync.WaitGroup
	for i, ig := range integrations {
		wg.Go(func() { errs[i] = p.notifyIntegration(ctx, f, ig) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sendFunc makes one attempt to send a flush: an integration's Notify or
// NotifyState, with its data.
type sendFunc func(ctx context.Context, state []byte) (next []byte, retry bool, err error)

// sender returns the attempt of ig for f: its alerts, or only the firing
// ones when all is false.
func (p *Pipeline) sender(ig Integration, f *flush, all bool) sendFunc {
	if ai, ok := ig.(AlertsIntegration); ok {
		a := &Alerts{
			Receiver:    f.n.Receiver,
			GroupKey:    f.n.GroupKey,
			GroupLabels: f.n.GroupLabels,
			ExternalURL: p.externalURL,
			Now:         f.n.Now,
			Alerts:      f.alerts,
		}
		if !all {
			a.Alerts = firingAlerts(f.alerts, f.n.Now)
		}
		return func(ctx context.Context, _ []byte) ([]byte, bool, error) {
			retry, err := ai.NotifyAlerts(ctx, a)
			return nil, retry, err
		}
	}
	d := f.allData
	if !all {
		d = f.firingData
	}
	if st, ok := ig.(Stateful); ok {
		return func(ctx context.Context, state []byte) ([]byte, bool, error) {
			return st.NotifyState(ctx, d(), state)
		}
	}
	return func(ctx context.Context, _ []byte) ([]byte, bool, error) {
		retry, err := ig.Notify(ctx, d())
		return nil, retry, err
	}
}

// flush is what the integrations of one flush share.
type flush struct {
	n           *alert.Notification
	alerts      []*alert.Alert // after muting
	hashes      hashes
	externalURL string
	// The data of every alert, and of the firing ones only (for
	// send_resolved false), built when first needed: integrations that
	// write their message from the alerts (AlertsIntegration) need none.
	allOnce, firingOnce sync.Once
	all, firing         *Data
}

func (f *flush) allData() *Data {
	f.allOnce.Do(func() { f.all = newData(f.n, f.externalURL, f.alerts) })
	return f.all
}

func (f *flush) firingData() *Data {
	f.firingOnce.Do(func() { f.firing = newData(f.n, f.externalURL, firingAlerts(f.alerts, f.n.Now)) })
	return f.firing
}

// mute returns the alerts m does not mute, as a new slice when it mutes
// any.
func (p *Pipeline) mute(m Muter, alerts []*alert.Alert, reason string) []*alert.Alert {
	if m == nil {
		return alerts
	}
	var kept []*alert.Alert
	for i, a := range alerts {
		if len(m.Mutes(a.Labels)) == 0 {
			if kept != nil {
				kept = append(kept, a)
			}
			continue
		}
		if kept == nil {
			kept = append(make([]*alert.Alert, 0, len(alerts)-1), alerts[:i]...)
		}
	}
	if kept == nil {
		return alerts
	}
	p.metrics.suppressed.WithLabelValues(reason).Add(float64(len(alerts) - len(kept)))
	return kept
}

// MutedBy names the time intervals that mute a group at now, by the rules
// Notify applies: all active intervals when none of them contains now,
// and the mute intervals that do. The API shows them as mutedBy.
func (p *Pipeline) MutedBy(mute, active []string, now time.Time) []string {
	iv := timeinterval.NewIntervener(p.intervals)
	var out []string
	if len(active) > 0 {
		if in, _, err := iv.Mutes(active, now); err == nil && !in {
			out = append(out, active...)
		}
	}
	if len(mute) > 0 {
		if in, names, err := iv.Mutes(mute, now); err == nil && in {
			out = append(out, names...)
		}
	}
	return out
}

// inIntervals reports whether any of the named time intervals contains
// now, as Alertmanager's timeinterval.Intervener.
func (p *Pipeline) inIntervals(names []string, now time.Time) (bool, error) {
	in, _, err := timeinterval.NewIntervener(p.intervals).Mutes(names, now)
	return in, err
}

// notifyIntegration is one branch of the fan-out: dedup, retry, log.
func (p *Pipeline) notifyIntegration(ctx context.Context, f *flush, ig Integration) error {
	n := f.n
	key := stateKey(n.GroupKey, n.Receiver, ig.Name(), ig.Index())
	fail := func(err error) error {
		p.metrics.failed.WithLabelValues(ig.Name(), string(reasonOf(err))).Inc()
		return fmt.Errorf("%s/%s[%d]: %w", n.Receiver, ig.Name(), ig.Index(), err)
	}

	prev, err := p.nflog.get(key)
	if err != nil {
		return fail(err)
	}
	why := needsUpdate(prev, f.hashes, ig.SendResolved(), n.RepeatInterval, n.Now)
	if why == reasonNone {
		return nil
	}
	p.metrics.integration(ig.Name()).notifications.Inc()
	logger := &flushLogger{p: p, n: n, ig: ig}
	if p.logger.Enabled(ctx, slog.LevelDebug) {
		logger.get().Debug("notify", "reason", why.String())
	}

	// With send_resolved false, the resolved alerts are not sent, and a
	// flush with only resolved alerts only clears the log.
	var prevState, state []byte
	if prev != nil {
		prevState, state = prev.state, prev.state
	}
	var start time.Time
	if p.history != nil {
		start = time.Now()
	}
	switch {
	case ig.SendResolved():
		state, err = p.retry(ctx, ig, p.sender(ig, f, true), len(f.alerts), prevState, logger)
		if p.history != nil {
			p.record(f, ig, len(f.hashes.resolved), start, err)
		}
	case len(f.hashes.firing) > 0:
		state, err = p.retry(ctx, ig, p.sender(ig, f, false), len(f.hashes.firing), prevState, logger)
		if p.history != nil {
			p.record(f, ig, 0, start, err)
		}
	}
	if err != nil {
		return fail(err)
	}
	if err := p.nflog.log(key, n.Now, n.RepeatInterval, f.hashes, state); err != nil {
		return fail(err)
	}
	return nil
}

// flushLogger is the logger of one integration's notification of a
// flush, made when first needed: With formats its attributes at once, a
// cost every flush would otherwise pay. One goroutine uses it.
type flushLogger struct {
	p  *Pipeline
	n  *alert.Notification
	ig Integration
	l  *slog.Logger
}

func (fl *flushLogger) get() *slog.Logger {
	if fl.l == nil {
		fl.l = fl.p.logger.With("receiver", fl.n.Receiver, "integration", fmt.Sprintf("%s[%d]", fl.ig.Name(), fl.ig.Index()), "group_key", fl.n.GroupKey)
	}
	return fl.l
}

// record tells the history the outcome of ig's notification of f, begun
// at start, with resolved resolved alerts.
func (p *Pipeline) record(f *flush, ig Integration, resolved int, start time.Time, err error) {
	e := HistoryEntry{
		Time:        time.Now(),
		Receiver:    f.n.Receiver,
		Integration: ig.Name(),
		Index:       ig.Index(),
		GroupKey:    f.n.GroupKey,
		GroupLabels: f.n.GroupLabels,
		Firing:      len(f.hashes.firing),
		Resolved:    resolved,
	}
	e.Duration = e.Time.Sub(start)
	if err != nil {
		e.Error = err.Error()
	}
	p.history.Record(e)
}

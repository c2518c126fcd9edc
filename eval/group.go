package eval

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/eval/datasource"
	"github.com/alertd/alertd/rules"
)

// Sink receives the alerts Prometheus would send to its Alertmanagers, once
// per rule and evaluation. Send must not block for long.
type Sink interface {
	Send(alerts ...*alert.Alert)
}

// NotEvaluatedError is the last error of a recording rule: alertd has no
// remote write, so recording rules are listed but not evaluated.
const NotEvaluatedError = "not evaluated: no remote write configured"

// RecordingRule is a recording rule of a rule file. It is listed, with
// NotEvaluatedError, and never evaluated.
type RecordingRule struct {
	name   string
	expr   string
	labels labels.Labels
}

// Settings are the evaluation settings of alertd.yml's global section.
type Settings struct {
	DefaultInterval    time.Duration
	DefaultQueryOffset time.Duration
	ResendDelay        time.Duration
	ExternalLabels     labels.Labels
	ExternalURL        string
}

func (s Settings) equal(o Settings) bool {
	return s.DefaultInterval == o.DefaultInterval && s.DefaultQueryOffset == o.DefaultQueryOffset &&
		s.ResendDelay == o.ResendDelay && s.ExternalURL == o.ExternalURL && labels.Equal(s.ExternalLabels, o.ExternalLabels)
}

// groupDeps are what a group uses from its manager.
type groupDeps struct {
	query   datasource.QueryFunc
	sink    Sink
	logger  *slog.Logger
	metrics *metrics
	state   StateStore // nil: nothing is saved
	restore restoreOptions
}

// Group is a rule group: its rules run in order at one timestamp per slot.
type Group struct {
	name        string
	file        string
	interval    time.Duration
	queryOffset time.Duration
	limit       int
	src         *rules.Group
	alerting    []*AlertingRule
	recording   []*RecordingRule
	order       []any // *AlertingRule or *RecordingRule, in file order
	settings    Settings
	deps        *groupDeps
	logger      *slog.Logger

	mu             sync.Mutex
	lastEvaluation time.Time
	evalDuration   time.Duration

	iterations       atomic.Uint64
	iterationsMissed atomic.Uint64
	evaluations      atomic.Uint64
	failures         atomic.Uint64

	// saved is the state to restore at the first evaluation after a
	// start (Manager.Update sets it); nil once restored.
	saved *savedGroup

	cancel context.CancelFunc
	done   chan struct{}
}

func newGroup(g *rules.Group, s Settings, deps *groupDeps) (*Group, error) {
	ng := &Group{
		name:        g.Name,
		file:        g.File,
		interval:    g.Interval,
		queryOffset: s.DefaultQueryOffset,
		limit:       g.Limit,
		src:         g,
		settings:    s,
		deps:        deps,
		logger:      deps.logger.With("file", g.File, "group", g.Name),
	}
	if ng.interval <= 0 {
		ng.interval = s.DefaultInterval
	}
	if g.QueryOffset != nil {
		ng.queryOffset = *g.QueryOffset
	}
	for i := range g.Rules {
		r := &g.Rules[i]
		if r.Record != "" {
			rr := &RecordingRule{name: r.Record, expr: r.Expr, labels: labels.FromMap(r.Labels)}
			ng.recording = append(ng.recording, rr)
			ng.order = append(ng.order, rr)
			continue
		}
		ar, err := NewAlertingRule(g, r, RuleSettings{
			ExternalLabels: s.ExternalLabels,
			ExternalURL:    s.ExternalURL,
			Logger:         ng.logger,
		})
		if err != nil {
			return nil, &rules.Error{File: g.File, Line: r.Line, Msg: "group " + g.Name + ", rule " + r.Alert + ": " + err.Error()}
		}
		ng.alerting = append(ng.alerting, ar)
		ng.order = append(ng.order, ar)
	}
	return ng, nil
}

// Name returns the group name.
func (g *Group) Name() string { return g.name }

// File returns the rule file of the group.
func (g *Group) File() string { return g.file }

// Interval returns the evaluation interval of the group.
func (g *Group) Interval() time.Duration { return g.interval }

func (g *Group) key() string { return g.file + ";" + g.name }

// hash is Prometheus's group hash, which places the group's slot.
func (g *Group) hash() uint64 {
	return labels.FromStrings("name", g.name, "file", g.file).Hash()
}

// EvalTimestamp returns the last slot at or before now: slots are
// k*interval + hash%interval on the Unix epoch, as in Prometheus.
func (g *Group) EvalTimestamp(now time.Time) time.Time {
	ns := now.UnixNano()
	offset := int64(g.hash() % uint64(g.interval))
	adj := ns - offset
	base := adj - adj%int64(g.interval)
	return time.Unix(0, base+offset).UTC()
}

// start runs the group until ctx is done.
func (g *Group) start(ctx context.Context) {
	ctx, g.cancel = context.WithCancel(ctx)
	g.done = make(chan struct{})
	go func() {
		defer close(g.done)
		g.run(ctx)
	}()
}

// stop stops the group and waits for its evaluation to end.
func (g *Group) stop() {
	if g.cancel == nil {
		return
	}
	g.cancel()
	<-g.done
}

func (g *Group) run(ctx context.Context) {
	// The first evaluation is at the next slot.
	evalTS := g.EvalTimestamp(time.Now()).Add(g.interval)
	wait := time.NewTimer(time.Until(evalTS))
	select {
	case <-ctx.Done():
		wait.Stop()
		return
	case <-wait.C:
	}
	// The ticker starts at the slot, before the first evaluation, as in
	// Prometheus: ticks stay just after each slot even if the first
	// evaluation is slow.
	tick := time.NewTicker(g.interval)
	defer tick.Stop()
	g.iterate(ctx, evalTS)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			missed := int64(time.Since(evalTS)/g.interval) - 1
			if missed > 0 {
				g.iterationsMissed.Add(uint64(missed))
				g.iterations.Add(uint64(missed))
				g.logger.Warn("rule group evaluation missed iterations", "missed", missed)
			} else {
				missed = 0
			}
			evalTS = evalTS.Add(time.Duration(missed+1) * g.interval)
			g.iterate(ctx, evalTS)
		}
	}
}

func (g *Group) iterate(ctx context.Context, ts time.Time) {
	g.iterations.Add(1)
	start := time.Now()
	g.Eval(ctx, ts)
	d := time.Since(start)
	g.mu.Lock()
	g.lastEvaluation = ts
	g.evalDuration = d
	g.mu.Unlock()
}

// Eval evaluates every alerting rule of the group at ts, in order, saves
// the group's state if it changed, then sends what Prometheus would send: a
// restart after the send never forgets what was sent. A failing rule does
// not stop the group.
func (g *Group) Eval(ctx context.Context, ts time.Time) {
	if g.saved != nil {
		kept := g.restore(g.saved, ts, g.deps.restore)
		g.logger.Info("restored alert state", "alerts", kept, "down_for", ts.Sub(g.saved.lastEval).Round(time.Second))
		g.saved = nil
	}
	var out []*alert.Alert
	defer func() {
		g.saveState(ts)
		if len(out) > 0 && g.deps.sink != nil {
			g.deps.sink.Send(out...)
		}
	}()
	for _, r := range g.alerting {
		if ctx.Err() != nil {
			return
		}
		start := time.Now()
		err := r.Eval(ctx, g.queryOffset, ts, g.deps.query, g.limit)
		d := time.Since(start)
		g.evaluations.Add(1)
		if g.deps.metrics != nil {
			g.deps.metrics.evalDuration.Observe(d.Seconds())
		}
		if err != nil && ctx.Err() != nil {
			// Shutting down or reloading: not a rule failure.
			return
		}
		r.setStatus(err, ts, d)
		if err != nil {
			g.failures.Add(1)
			g.logger.Warn("evaluating rule failed", "alertname", r.name, "err", err)
			if qe, ok := errors.AsType[*datasource.QueryError](err); ok && qe.Retryable {
				// The datasource did not answer: the state is frozen,
				// and its alerts are sent on their resend cadence as if
				// evaluated, so that receivers do not resolve them when
				// their EndsAt passes (Prometheus stops sending, and an
				// outage longer than 4×resend_delay resolves everything).
				out = r.sendAlerts(ts, g.settings.ResendDelay, g.interval, out)
			}
			continue
		}
		out = r.sendAlerts(ts, g.settings.ResendDelay, g.interval, out)
	}
}

// copyState takes over the state of the previous version of the group, as
// Prometheus's Group.CopyState: rules are matched by name and unexpanded
// labels.
func (g *Group) copyState(old *Group) {
	g.iterations.Store(old.iterations.Load())
	g.iterationsMissed.Store(old.iterationsMissed.Load())
	g.evaluations.Store(old.evaluations.Load())
	g.failures.Store(old.failures.Load())
	old.mu.Lock()
	g.lastEvaluation, g.evalDuration = old.lastEvaluation, old.evalDuration
	old.mu.Unlock()
	used := make([]bool, len(old.alerting))
	for _, nr := range g.alerting {
		for i, or := range old.alerting {
			if used[i] || or.name != nr.name || !labels.Equal(or.rawLabels, nr.rawLabels) {
				continue
			}
			used[i] = true
			nr.copyState(or)
			break
		}
	}
}

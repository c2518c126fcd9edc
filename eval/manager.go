package eval

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertd/alertd/eval/datasource"
	"github.com/alertd/alertd/rules"
)

// ManagerOptions configure a Manager. The zero value is safe but evaluates
// nothing useful: Query must be set for rules to succeed.
type ManagerOptions struct {
	Query      datasource.QueryFunc // the datasource; called from every group concurrently
	Sink       Sink                 // nil: alerts are dropped
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// State keeps the alert state across restarts; nil keeps none.
	State StateStore
	// OutageTolerance and ForGracePeriod are Prometheus's
	// --rules.alert.for-outage-tolerance and --rules.alert.for-grace-period:
	// what a restart keeps of pending alerts (see Group.restore). Zero
	// means DefaultOutageTolerance and DefaultForGracePeriod.
	OutageTolerance, ForGracePeriod time.Duration
}

// Manager runs rule groups, each on its own schedule, and swaps them on
// reload keeping the state of changed groups.
type Manager struct {
	deps *groupDeps

	mu       sync.Mutex
	ctx      context.Context // set while Run runs
	groups   map[string]*Group
	settings Settings
	// restored says the saved states have been read (by the first
	// Update).
	restored bool
}

// NewManager returns a manager with no groups. It starts nothing.
func NewManager(o ManagerOptions) *Manager {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	query := o.Query
	if query == nil {
		query = func(context.Context, string, time.Time) (datasource.Vector, error) {
			return nil, errors.New("no datasource configured")
		}
	}
	ro := restoreOptions{outageTolerance: o.OutageTolerance, gracePeriod: o.ForGracePeriod}
	if ro.outageTolerance <= 0 {
		ro.outageTolerance = DefaultOutageTolerance
	}
	if ro.gracePeriod <= 0 {
		ro.gracePeriod = DefaultForGracePeriod
	}
	m := &Manager{
		deps:   &groupDeps{query: query, sink: o.Sink, logger: logger.With("component", "eval"), state: o.State, restore: ro},
		groups: map[string]*Group{},
	}
	m.deps.metrics = newMetrics(m)
	if o.Registerer != nil {
		o.Registerer.MustRegister(m.deps.metrics)
	}
	return m
}

// Update replaces the rule groups. Every group is built first; on error
// nothing changes. Unchanged groups keep running untouched; changed groups
// are restarted on their new slot with the state of their rules copied;
// removed groups stop.
func (m *Manager) Update(s Settings, groups []*rules.Group) error {
	built := make(map[string]*Group, len(groups))
	var errs []error
	for _, rg := range groups {
		g, err := newGroup(rg, s, m.deps)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := built[g.key()]; dup {
			errs = append(errs, &rules.Error{File: rg.File, Line: rg.Line, Msg: "group " + rg.Name + " is repeated in the same file"})
			continue
		}
		built[g.key()] = g
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.restored {
		m.restoreSaved(built)
		m.restored = true
	}
	settingsChanged := !m.settings.equal(s)
	m.settings = s
	next := make(map[string]*Group, len(built))
	var start []*Group
	for k, ng := range built {
		old, ok := m.groups[k]
		if ok && !settingsChanged && old.src.Equal(ng.src) {
			next[k] = old
			continue
		}
		if ok {
			old.stop()
			ng.copyState(old)
		}
		next[k] = ng
		start = append(start, ng)
	}
	var gone []string
	for k, old := range m.groups {
		if _, ok := next[k]; !ok {
			old.stop()
			gone = append(gone, k, lastEvalKey(k))
		}
	}
	if len(gone) > 0 && m.deps.state != nil {
		if err := m.deps.state.Delete(gone); err != nil {
			m.deps.logger.Error("removing the saved state of removed groups failed", "err", err)
		}
	}
	m.groups = next
	if m.ctx != nil {
		for _, g := range start {
			g.start(m.ctx)
		}
	}
	return nil
}

// restoreSaved reads the saved states and gives each group of the first
// configuration its own, to restore at its first evaluation. States that
// cannot be read, or of groups no longer configured, are removed: a
// removed group forgets its alerts, as in Prometheus.
func (m *Manager) restoreSaved(groups map[string]*Group) {
	if m.deps.state == nil {
		return
	}
	saved, err := m.deps.state.Load()
	if err != nil {
		m.deps.logger.Error("reading the saved alert state failed; alerts start anew", "err", err)
		return
	}
	var gone []string
	lastEval := map[string]time.Time{}
	for k, b := range saved {
		gk, ok := strings.CutPrefix(k, lastEvalPrefix)
		if !ok {
			continue
		}
		t, err := decodeLastEval(b)
		if _, known := groups[gk]; err != nil || !known || saved[gk] == nil {
			gone = append(gone, k)
			continue
		}
		lastEval[gk] = t
	}
	for k, b := range saved {
		if strings.HasPrefix(k, lastEvalPrefix) {
			continue
		}
		g, ok := groups[k]
		if !ok {
			gone = append(gone, k)
			continue
		}
		sg, err := decodeState(b)
		if err != nil {
			m.deps.logger.Error("unreadable saved alert state; the group's alerts start anew", "group_key", k, "err", err)
			gone = append(gone, k, lastEvalKey(k))
			continue
		}
		if t := lastEval[k]; t.After(sg.lastEval) {
			sg.lastEval = t
		}
		g.saved = sg
	}
	if len(gone) > 0 {
		if err := m.deps.state.Delete(gone); err != nil {
			m.deps.logger.Error("removing saved alert state failed", "err", err)
		}
	}
}

// Run starts the groups and blocks until ctx is done, then stops them.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	m.ctx = ctx
	for _, g := range m.groups {
		g.start(ctx)
	}
	m.mu.Unlock()
	<-ctx.Done()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, g := range m.groups {
		g.stop()
	}
	m.ctx = nil
	return nil
}

// Groups returns the groups, sorted by file and name.
func (m *Manager) Groups() []*Group {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Group, 0, len(m.groups))
	for _, g := range m.groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *Group) int {
		if c := strings.Compare(a.file, b.file); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	return out
}

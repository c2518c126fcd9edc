package inhibit

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
)

// GCInterval is how often Run drops resolved source alerts, as
// Alertmanager's inhibitor does.
const GCInterval = 15 * time.Minute

// Options are the Inhibitor's optional dependencies; the zero value is
// usable.
type Options struct {
	// Now returns the current time; nil means time.Now. A source alert
	// inhibits while it is not resolved at Now().
	Now func() time.Time
	// Logger receives Run's debug messages; nil discards them.
	Logger *slog.Logger
}

// Inhibitor holds the inhibition rules and the source alerts each rule has
// seen, and tells whether a label set is inhibited. It is safe for
// concurrent use.
type Inhibitor struct {
	now    func() time.Time
	logger *slog.Logger

	rules   []*rule
	equals  [][]string // the distinct equal lists, by equalID
	targets ruleIndex  // rules by target matchers
	sources ruleIndex  // rules by source matchers

	// mu guards the rules' sources, live and nLive.
	mu sync.RWMutex
	// live lists, per equal list (by equalID) and fingerprint of equal
	// labels, the rules that hold sources with those equal labels, in
	// ascending order.
	live []map[uint64][]int32
	// nLive counts the rules' source buckets: the entries in live.
	nLive int
}

// New compiles rules, as Alertmanager does, into an Inhibitor with no
// source alerts. It starts nothing.
func New(rules []amcommoncfg.InhibitRule, o Options) (*Inhibitor, error) {
	ih := &Inhibitor{now: o.Now, logger: o.Logger}
	if ih.now == nil {
		ih.now = time.Now
	}
	if ih.logger == nil {
		ih.logger = slog.New(slog.DiscardHandler)
	}
	ih.logger = ih.logger.With("component", "inhibit")

	ih.rules = make([]*rule, 0, len(rules))
	tgts := make([]amlabels.Matchers, 0, len(rules))
	srcs := make([]amlabels.Matchers, 0, len(rules))
	equalIDs := make(map[string]int)
	for i := range rules {
		r, err := compileRule(&rules[i])
		if err != nil {
			return nil, fmt.Errorf("inhibit rule %d %q: %w", i, rules[i].Name, err)
		}
		r.id = int32(i)
		key := strings.Join(r.equal, "\xff")
		id, ok := equalIDs[key]
		if !ok {
			id = len(ih.equals)
			equalIDs[key] = id
			ih.equals = append(ih.equals, r.equal)
			ih.live = append(ih.live, make(map[uint64][]int32))
		}
		r.equalID = id
		ih.rules = append(ih.rules, r)
		tgts = append(tgts, r.target)
		srcs = append(srcs, r.source)
	}
	ih.targets = newRuleIndex(tgts)
	ih.sources = newRuleIndex(srcs)
	return ih, nil
}

// Put records alerts, each the current state of an alert the daemon
// received (new or updated; the merged alert as stored, since the last Put
// of an alert replaces its previous state). Every rule whose source
// matchers match an alert remembers it under the values of the rule's equal
// labels; an alert resolved at Now() is forgotten instead. Silences play no
// part: a silenced source alert still inhibits.
func (ih *Inhibitor) Put(alerts ...*alert.Alert) {
	type update struct {
		r  *rule
		eq uint64
		s  source
	}
	var ups []update
	for _, a := range alerts {
		if a == nil {
			continue
		}
		var (
			fp  uint64
			hex string
		)
		ih.sources.each(a.Labels, func(i int32) bool {
			r := ih.rules[i]
			if !matches(r.source, a.Labels) {
				return true
			}
			if hex == "" {
				fp = alert.Fingerprint(a.Labels)
				hex = hex16(fp)
			}
			ups = append(ups, update{r: r, eq: equalFingerprint(r.equal, a.Labels), s: source{
				fp:     fp,
				hex:    hex,
				labels: a.Labels,
				endsAt: a.EndsAt,
				target: matches(r.target, a.Labels),
			}})
			return true
		})
	}
	if len(ups) == 0 {
		return
	}
	now := ih.now()
	ih.mu.Lock()
	defer ih.mu.Unlock()
	for i := range ups {
		u := &ups[i]
		if d := u.r.set(u.eq, u.s, now); d != 0 {
			ih.link(u.r, u.eq, d)
		}
	}
}

// link records in live that r's bucket eq came into being (delta > 0) or
// vanished (delta < 0).
func (ih *Inhibitor) link(r *rule, eq uint64, delta int) {
	m := ih.live[r.equalID]
	l := m[eq]
	i, found := slices.BinarySearch(l, r.id)
	switch {
	case delta > 0 && !found:
		m[eq] = slices.Insert(l, i, r.id)
		ih.nLive++
	case delta < 0 && found:
		if l = slices.Delete(l, i, i+1); len(l) == 0 {
			delete(m, eq)
		} else {
			m[eq] = l
		}
		ih.nLive--
	}
}

// Mutes returns the fingerprints, as 16 lowercase hex digits, of the source
// alerts that inhibit an alert with labels lset, or nil if it is not
// inhibited. As in Alertmanager the first rule, in configuration order,
// that inhibits lset decides, and it names one source alert: among the
// firing ones with lset's values of the equal labels (missing counting as
// empty), the one with the latest EndsAt. When lset matches both sides of
// the rule, sources that also match both sides are skipped.
//
// Only candidate rules are evaluated: those whose target equality matcher
// used as index key matches lset (and those without one), or, when they
// are fewer, those holding sources with lset's values of their equal
// labels.
func (ih *Inhibitor) Mutes(lset labels.Labels) []string {
	ih.mu.RLock()
	defer ih.mu.RUnlock()
	if ih.nLive == 0 {
		return nil
	}
	var abuf [8][]int32
	a := ih.targets.lists(lset, abuf[:0])
	an := total(a)
	if an == 0 {
		return nil
	}

	// The rules holding sources with lset's equal labels, unless finding
	// them costs more than going through the target candidates.
	var (
		bbuf [8][]int32
		fbuf [8]uint64
	)
	b, fps := bbuf[:0], fbuf[:0]
	bn, cost, useB := 0, 0, true
	for e, m := range ih.live {
		if len(m) == 0 {
			continue
		}
		if cost++; cost+bn >= an {
			useB = false
			break
		}
		fp := equalFingerprint(ih.equals[e], lset)
		if l := m[fp]; len(l) > 0 {
			b = append(b, l)
			fps = append(fps, fp)
			bn += len(l)
		}
	}
	if useB && bn == 0 {
		return nil
	}

	var by string
	now := ih.now()
	if useB {
		merge(b, func(j int, i int32) bool {
			r := ih.rules[i]
			if !matches(r.target, lset) {
				return true
			}
			hex, ok := r.find(r.sources[fps[j]], lset, now)
			by = hex
			return !ok
		})
	} else {
		// The fingerprint of lset's equal labels for the equal list eqID.
		eqID, eqFP := -1, uint64(0)
		merge(a, func(_ int, i int32) bool {
			r := ih.rules[i]
			if len(r.sources) == 0 || !matches(r.target, lset) {
				return true
			}
			if r.equalID != eqID {
				eqID, eqFP = r.equalID, equalFingerprint(r.equal, lset)
			}
			bucket := r.sources[eqFP]
			if len(bucket) == 0 {
				return true
			}
			hex, ok := r.find(bucket, lset, now)
			by = hex
			return !ok
		})
	}
	if by == "" {
		return nil
	}
	return []string{by}
}

// GC drops the source alerts resolved at Now() and returns how many it
// dropped, counting an alert once per rule that held it.
func (ih *Inhibitor) GC() int {
	now := ih.now()
	ih.mu.Lock()
	defer ih.mu.Unlock()
	n := 0
	for _, r := range ih.rules {
		n += r.gc(now, func(eq uint64) { ih.link(r, eq, -1) })
	}
	return n
}

// Run calls GC every GCInterval until ctx is done, then returns nil.
func (ih *Inhibitor) Run(ctx context.Context) error {
	t := time.NewTicker(GCInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if n := ih.GC(); n > 0 {
				ih.logger.Debug("dropped resolved source alerts", "count", n)
			}
		}
	}
}

package inhibit

import (
	"context"
	"fmt"
	"log/slog"
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
	targets ruleIndex // rules by target matchers
	sources ruleIndex // rules by source matchers

	// mu guards the rules' sources.
	mu sync.RWMutex
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
		key := strings.Join(r.equal, "\xff")
		id, ok := equalIDs[key]
		if !ok {
			id = len(equalIDs)
			equalIDs[key] = id
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
		ih.sources.each(a.Labels, func(i int) bool {
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
		ups[i].r.set(ups[i].eq, ups[i].s, now)
	}
}

// Mutes returns the fingerprints, as 16 lowercase hex digits, of the source
// alerts that inhibit an alert with labels lset, or nil if it is not
// inhibited. As in Alertmanager the first rule, in configuration order,
// that inhibits lset decides, and it names one source alert: among the
// firing ones with lset's values of the equal labels (missing counting as
// empty), the one with the latest EndsAt. When lset matches both sides of
// the rule, sources that also match both sides are skipped.
func (ih *Inhibitor) Mutes(lset labels.Labels) []string {
	var (
		by      string
		now     time.Time
		haveNow bool
		// The fingerprint of lset's equal labels for the equal list eqID.
		eqID = -1
		eqFP uint64
	)
	ih.mu.RLock()
	defer ih.mu.RUnlock()
	ih.targets.each(lset, func(i int) bool {
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
		if !haveNow {
			now, haveNow = ih.now(), true
		}
		hex, ok := r.find(bucket, lset, now)
		if ok {
			by = hex
		}
		return !ok
	})
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
		n += r.gc(now)
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

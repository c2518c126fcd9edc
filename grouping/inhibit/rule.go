package inhibit

import (
	"fmt"
	"slices"
	"time"

	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"
)

// rule is one compiled inhibition rule.
type rule struct {
	id     int32 // position in the configuration
	source amlabels.Matchers
	target amlabels.Matchers
	// equal is the rule's equal list, sorted and without duplicates.
	equal []string
	// equalID is the same for rules with the same equal list, so that
	// Mutes computes a label set's fingerprint once for all of them.
	equalID int

	// sources holds the rule's source alerts by the fingerprint of their
	// equal labels, until Put or GC finds them resolved. Each bucket is sorted by EndsAt, latest first (a
	// zero EndsAt, which never resolves, before all others), then by
	// fingerprint. Guarded by Inhibitor.mu.
	sources map[uint64][]source
}

// source is a source alert as a rule remembers it.
type source struct {
	fp     uint64
	hex    string // fp as Alertmanager prints a model.Fingerprint
	labels labels.Labels
	endsAt time.Time
	// target reports whether the alert also matches the rule's target side.
	target bool
}

func (s *source) resolved(now time.Time) bool {
	return !s.endsAt.IsZero() && !s.endsAt.After(now)
}

// before reports whether s sorts before o in a bucket.
func (s *source) before(o *source) bool {
	switch {
	case s.endsAt.Equal(o.endsAt):
		return s.fp < o.fp
	case s.endsAt.IsZero():
		return true
	case o.endsAt.IsZero():
		return false
	default:
		return s.endsAt.After(o.endsAt)
	}
}

// compileRule builds the rule of cr as Alertmanager's NewInhibitRule does:
// the deprecated source_match and source_match_re (in label name order)
// followed by source_matchers, the same for the target side.
func compileRule(cr *amcommoncfg.InhibitRule) (*rule, error) {
	src, err := compileMatchers(cr.SourceMatch, cr.SourceMatchRE, cr.SourceMatchers)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	tgt, err := compileMatchers(cr.TargetMatch, cr.TargetMatchRE, cr.TargetMatchers)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	eq := slices.Clone(cr.Equal)
	slices.Sort(eq)
	eq = slices.Compact(eq)
	return &rule{
		source:  src,
		target:  tgt,
		equal:   eq,
		sources: make(map[uint64][]source),
	}, nil
}

func compileMatchers(match map[string]string, matchRE amcommoncfg.MatchRegexps, ms amcommoncfg.Matchers) (amlabels.Matchers, error) {
	out := make(amlabels.Matchers, 0, len(match)+len(matchRE)+len(ms))
	for _, name := range sortedKeys(match) {
		m, err := amlabels.NewMatcher(amlabels.MatchEqual, name, match[name])
		if err != nil {
			return nil, fmt.Errorf("match %q: %w", name, err)
		}
		out = append(out, m)
	}
	for _, name := range sortedKeys(matchRE) {
		re := matchRE[name]
		if re.Regexp == nil {
			return nil, fmt.Errorf("match_re %q: no compiled regular expression", name)
		}
		// Alertmanager passes the already anchored expression; anchoring
		// it twice matches the same strings.
		m, err := amlabels.NewMatcher(amlabels.MatchRegexp, name, re.String())
		if err != nil {
			return nil, fmt.Errorf("match_re %q: %w", name, err)
		}
		out = append(out, m)
	}
	for i, m := range ms {
		if m == nil {
			return nil, fmt.Errorf("matcher %d is nil", i)
		}
		out = append(out, m)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// matches reports whether all of ms match lset, a missing label matching
// as the empty value (Alertmanager's labels.Matchers.Matches).
func matches(ms amlabels.Matchers, lset labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

// FNV-1a, as prometheus/common's model.LabelSet.Fingerprint.
const (
	offset64 = 14695981039346656037
	prime64  = 1099511628211
	sep      = 0xff
)

// equalFingerprint returns the fingerprint Alertmanager gives the equal
// labels of lset: that of the model.LabelSet {n: lset[n] for n in equal},
// where a missing label is present with the empty value. equal must be
// sorted and without duplicates.
func equalFingerprint(equal []string, lset labels.Labels) uint64 {
	h := uint64(offset64)
	for _, n := range equal {
		h = hashString(h, n)
		h ^= sep
		h *= prime64
		h = hashString(h, lset.Get(n))
		h ^= sep
		h *= prime64
	}
	return h
}

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime64
	}
	return h
}

// sameEqual reports whether a and b have the same values of the equal
// labels; it guards against fingerprint collisions.
func sameEqual(equal []string, a, b labels.Labels) bool {
	for _, n := range equal {
		if a.Get(n) != b.Get(n) {
			return false
		}
	}
	return true
}

// hex16 formats fp as 16 lowercase hex digits, as model.Fingerprint's
// String method does.
func hex16(fp uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[fp&0xf]
		fp >>= 4
	}
	return string(b[:])
}

// set records s under the equal-labels fingerprint eq, replacing the
// previous state of the same alert; a source resolved at now is only
// removed. It returns +1 if the bucket eq came into being, -1 if it
// vanished, else 0.
func (r *rule) set(eq uint64, s source, now time.Time) int {
	b := r.sources[eq]
	had := len(b) > 0
	if i := slices.IndexFunc(b, func(o source) bool { return o.fp == s.fp }); i >= 0 {
		b = slices.Delete(b, i, i+1)
	}
	if !s.resolved(now) {
		i, _ := slices.BinarySearchFunc(b, &s, func(o source, t *source) int {
			if o.before(t) {
				return -1
			}
			return 1
		})
		b = slices.Insert(b, i, s)
	}
	switch {
	case len(b) > 0:
		r.sources[eq] = b
		if !had {
			return +1
		}
	case had:
		delete(r.sources, eq)
		return -1
	}
	return 0
}

// find returns the hex fingerprint of the source alert that inhibits lset,
// whose equal labels have the fingerprint of bucket: the firing one with the
// latest EndsAt, skipping, when lset matches both sides of the rule, the
// sources that also match both sides.
func (r *rule) find(bucket []source, lset labels.Labels, now time.Time) (string, bool) {
	var selfChecked, self bool
	for i := range bucket {
		s := &bucket[i]
		if s.resolved(now) {
			// The bucket is sorted latest EndsAt first: all others
			// resolved earlier.
			return "", false
		}
		if !sameEqual(r.equal, s.labels, lset) {
			continue
		}
		if s.target {
			if !selfChecked {
				self, selfChecked = matches(r.source, lset), true
			}
			if self {
				continue
			}
		}
		return s.hex, true
	}
	return "", false
}

// gc drops the sources resolved at now and returns how many, calling
// vanished with each bucket it empties.
func (r *rule) gc(now time.Time, vanished func(eq uint64)) int {
	n := 0
	for eq, b := range r.sources {
		keep := slices.IndexFunc(b, func(s source) bool { return s.resolved(now) })
		if keep < 0 {
			continue
		}
		n += len(b) - keep
		if keep == 0 {
			delete(r.sources, eq)
			vanished(eq)
			continue
		}
		clear(b[keep:])
		r.sources[eq] = b[:keep]
	}
	return n
}

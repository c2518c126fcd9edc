package silences

import (
	"regexp"
	"slices"
	"strings"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"
)

// entry is one silence held by Silences. Its sil has compiled matchers.
// Writers change sil in place while holding Silences.mu for writing; the
// matchers of an entry never change (a matcher change makes a new silence).
type entry struct {
	sil Silence
	// prefixes[i] is a literal every value matching regular expression
	// matcher i starts with, or "": a cheap test before the regexp.
	prefixes []string
	// keys are the index buckets the entry is in; nil means index.rest.
	keys []indexKey
}

// newEntry returns an entry for sil, whose matchers compileMatchers
// returned with prefixes.
func newEntry(sil *Silence, prefixes []string) *entry {
	return &entry{sil: *sil, prefixes: prefixes}
}

// matches reports whether all of the entry's matchers match lset, a
// missing label being "".
func (e *entry) matches(lset labels.Labels) bool {
	for i, m := range e.sil.Matchers {
		v := lset.Get(m.Name)
		if i < len(e.prefixes) && e.prefixes[i] != "" && !strings.HasPrefix(v, e.prefixes[i]) {
			// The regexp cannot match v.
			if m.Type == amlabels.MatchRegexp {
				return false
			}
			continue
		}
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

type indexKey struct{ name, value string }

// index finds the silences that may match a label set without looking at
// the others. A silence with an equality matcher name="value" (value not
// empty) can only match label sets that have that label, so it is filed
// under that name and value; a regular expression that is a plain
// alternation of literals (name=~"a|b") is filed under each literal.
// Silences with neither (only negative matchers, real regular expressions,
// or name="") are in rest and checked for every label set.
//
// Buckets and rest are sorted by silence ID, so that the IDs found in one
// bucket come out sorted.
type index struct {
	byName map[string]map[string][]*entry
	rest   []*entry
}

func newIndex() *index {
	return &index{byName: map[string]map[string][]*entry{}}
}

func byID(e *entry, id string) int { return strings.Compare(e.sil.ID, id) }

func insertSorted(s []*entry, e *entry) []*entry {
	i, _ := slices.BinarySearchFunc(s, e.sil.ID, byID)
	return slices.Insert(s, i, e)
}

func removeSorted(s []*entry, e *entry) []*entry {
	if i, ok := slices.BinarySearchFunc(s, e.sil.ID, byID); ok && s[i] == e {
		return slices.Delete(s, i, i+1)
	}
	return s
}

// add files e under the key that costs least: the equality matcher whose
// bucket is smallest, else the literal alternation whose buckets are
// smallest in total, else rest.
func (ix *index) add(e *entry) {
	e.keys = ix.chooseKeys(e.sil.Matchers)
	if e.keys == nil {
		ix.rest = insertSorted(ix.rest, e)
		return
	}
	for _, k := range e.keys {
		values := ix.byName[k.name]
		if values == nil {
			values = map[string][]*entry{}
			ix.byName[k.name] = values
		}
		values[k.value] = insertSorted(values[k.value], e)
	}
}

func (ix *index) chooseKeys(ms amlabels.Matchers) []indexKey {
	var (
		best     []indexKey
		bestCost = -1
		bestEq   bool
	)
	for _, m := range ms {
		var (
			keys []indexKey
			eq   bool
		)
		switch m.Type {
		case amlabels.MatchEqual:
			if m.Value == "" {
				continue
			}
			keys, eq = []indexKey{{m.Name, m.Value}}, true
		case amlabels.MatchRegexp:
			lits := literalAlternation(m.Value)
			if lits == nil {
				continue
			}
			keys = make([]indexKey, len(lits))
			for i, v := range lits {
				keys[i] = indexKey{m.Name, v}
			}
		default:
			continue
		}
		if bestEq && !eq {
			continue
		}
		cost := 0
		for _, k := range keys {
			cost += len(ix.byName[k.name][k.value])
		}
		if best == nil || (eq && !bestEq) || cost < bestCost {
			best, bestCost, bestEq = keys, cost, eq
		}
	}
	return best
}

// literalAlternation returns the strings an anchored regular expression
// matches if it is an alternation of non-empty literals ("a", "a|b"), and
// nil otherwise.
func literalAlternation(re string) []string {
	if re == "" {
		return nil
	}
	parts := strings.Split(re, "|")
	for _, p := range parts {
		if p == "" || regexp.QuoteMeta(p) != p {
			return nil
		}
	}
	slices.Sort(parts)
	return slices.Compact(parts)
}

// remove takes e out of the index.
func (ix *index) remove(e *entry) {
	if e.keys == nil {
		ix.rest = removeSorted(ix.rest, e)
		return
	}
	for _, k := range e.keys {
		values := ix.byName[k.name]
		b := removeSorted(values[k.value], e)
		switch {
		case len(b) > 0:
			values[k.value] = b
		case len(values) == 1:
			delete(ix.byName, k.name)
		default:
			delete(values, k.value)
		}
	}
}

package inhibit

import (
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"
)

// ruleIndex finds the rules whose matchers (of one side) could match a
// label set without evaluating all of them: each rule with an equality
// matcher is filed under one of them, by label name and value; the others
// are always candidates.
type ruleIndex struct {
	keys []indexKey
	// rest holds, in ascending order, the rules without an equality
	// matcher.
	rest []int32
}

// indexKey files rules under the value an equality matcher on name wants.
type indexKey struct {
	name string
	// rules holds, per value, the rules in ascending order.
	rules map[string][]int32
}

// newRuleIndex indexes the rules whose matchers are sides[i]. A rule is
// filed under the equality matcher shared by the fewest rules, then the one
// whose label name most rules use (fewer names to look up), then the first
// by name and value.
func newRuleIndex(sides []amlabels.Matchers) ruleIndex {
	type pair struct{ name, value string }
	pairs := make(map[pair]int)
	names := make(map[string]int)
	for _, ms := range sides {
		seen := make(map[string]bool, len(ms))
		for _, m := range ms {
			if m.Type != amlabels.MatchEqual {
				continue
			}
			pairs[pair{m.Name, m.Value}]++
			if !seen[m.Name] {
				seen[m.Name] = true
				names[m.Name]++
			}
		}
	}

	var ix ruleIndex
	byName := make(map[string]int) // index into ix.keys
	for i, ms := range sides {
		var best *amlabels.Matcher
		for _, m := range ms {
			if m.Type != amlabels.MatchEqual {
				continue
			}
			if best == nil || better(m, best, pairs[pair{m.Name, m.Value}], pairs[pair{best.Name, best.Value}], names) {
				best = m
			}
		}
		if best == nil {
			ix.rest = append(ix.rest, int32(i))
			continue
		}
		k, ok := byName[best.Name]
		if !ok {
			k = len(ix.keys)
			byName[best.Name] = k
			ix.keys = append(ix.keys, indexKey{name: best.Name, rules: make(map[string][]int32)})
		}
		ix.keys[k].rules[best.Value] = append(ix.keys[k].rules[best.Value], int32(i))
	}
	return ix
}

// better reports whether equality matcher m, shared by mn rules, is a
// better index key than b, shared by bn rules.
func better(m, b *amlabels.Matcher, mn, bn int, names map[string]int) bool {
	if mn != bn {
		return mn < bn
	}
	if names[m.Name] != names[b.Name] {
		return names[m.Name] > names[b.Name]
	}
	if m.Name != b.Name {
		return m.Name < b.Name
	}
	return m.Value < b.Value
}

// lists appends to dst the lists of rules whose equality matcher used as
// key matches lset (a missing label has the empty value, as in the
// matchers) and the rules without one; each list is ascending, and no rule
// is in two lists.
func (ix *ruleIndex) lists(lset labels.Labels, dst [][]int32) [][]int32 {
	for k := range ix.keys {
		if l := ix.keys[k].rules[lset.Get(ix.keys[k].name)]; len(l) > 0 {
			dst = append(dst, l)
		}
	}
	if len(ix.rest) > 0 {
		dst = append(dst, ix.rest)
	}
	return dst
}

// each calls fn with the candidate rules for lset (see lists) in ascending
// order until fn returns false.
func (ix *ruleIndex) each(lset labels.Labels, fn func(rule int32) bool) {
	var buf [8][]int32
	merge(ix.lists(lset, buf[:0]), func(_ int, i int32) bool { return fn(i) })
}

// merge calls fn with the rules of lists, which are disjoint and each
// ascending, in ascending order, and the index in lists of the list each
// comes from, until fn returns false. It consumes lists.
func merge(lists [][]int32, fn func(list int, rule int32) bool) {
	if len(lists) == 1 {
		for _, i := range lists[0] {
			if !fn(0, i) {
				return
			}
		}
		return
	}
	for {
		low := -1
		for j, l := range lists {
			if len(l) > 0 && (low < 0 || l[0] < lists[low][0]) {
				low = j
			}
		}
		if low < 0 {
			return
		}
		i := lists[low][0]
		lists[low] = lists[low][1:]
		if !fn(low, i) {
			return
		}
	}
}

// total returns the number of rules in lists.
func total(lists [][]int32) int {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	return n
}

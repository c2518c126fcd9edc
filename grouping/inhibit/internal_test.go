package inhibit

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
)

// TestEqualFingerprint checks that equalFingerprint is the fingerprint of
// the model.LabelSet Alertmanager builds with lset[l] for each equal label.
func TestEqualFingerprint(t *testing.T) {
	lset := labels.FromStrings("alertname", "A", "cluster", "c1", "instance", "i:9090")
	tests := []struct {
		name  string
		equal []string
	}{
		{name: "none"},
		{name: "one present", equal: []string{"cluster"}},
		{name: "several present, unsorted", equal: []string{"instance", "cluster", "alertname"}},
		{name: "one missing", equal: []string{"zone"}},
		{name: "present and missing", equal: []string{"zone", "cluster", "a"}},
		{name: "duplicates", equal: []string{"cluster", "cluster", "zone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ams := make(model.LabelSet, len(tt.equal))
			for _, n := range tt.equal {
				ams[model.LabelName(n)] = model.LabelValue(lset.Get(n))
			}
			r, err := compileRule(&amcommoncfg.InhibitRule{Equal: tt.equal})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := equalFingerprint(r.equal, lset), uint64(ams.Fingerprint()); got != want {
				t.Errorf("equalFingerprint = %x, want %x", got, want)
			}
		})
	}
}

func TestHex16(t *testing.T) {
	for _, fp := range []uint64{0, 1, 0xabc, 0xfedcba9876543210, alert.Fingerprint(labels.FromStrings("a", "b"))} {
		if got, want := hex16(fp), model.Fingerprint(fp).String(); got != want {
			t.Errorf("hex16(%x) = %q, want %q", fp, got, want)
		}
	}
}

func TestRuleIndex(t *testing.T) {
	eq := func(n, v string) *amlabels.Matcher {
		return &amlabels.Matcher{Type: amlabels.MatchEqual, Name: n, Value: v}
	}
	ne := func(n, v string) *amlabels.Matcher {
		return &amlabels.Matcher{Type: amlabels.MatchNotEqual, Name: n, Value: v}
	}
	sides := []amlabels.Matchers{
		0: {eq("alertname", "A"), eq("severity", "warning")},
		1: {ne("alertname", "A")},
		2: {eq("severity", "warning")},
		3: {eq("alertname", "B"), eq("severity", "warning")},
		4: nil,
		5: {eq("team", "")},
		6: {eq("alertname", "A")},
	}
	ix := newRuleIndex(sides)
	tests := []struct {
		name string
		lset []string
		want []int
	}{
		{name: "alertname A", lset: []string{"alertname", "A"}, want: []int{0, 1, 4, 5, 6}},
		{name: "severity filed under the rarer alertname", lset: []string{"severity", "warning"}, want: []int{1, 2, 4, 5}},
		{name: "alertname B", lset: []string{"alertname", "B", "team", "x"}, want: []int{1, 3, 4}},
		{name: "empty label set", want: []int{1, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			ix.each(labels.FromStrings(tt.lset...), func(i int32) bool {
				got = append(got, int(i))
				return true
			})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("candidates (-want +got):\n%s", diff)
			}
			// Candidates are a superset of the matching rules.
			for i, ms := range sides {
				if matches(ms, labels.FromStrings(tt.lset...)) && !slices.Contains(got, i) {
					t.Errorf("rule %d matches but is no candidate", i)
				}
			}
		})
	}
	stop := 0
	ix.each(labels.FromStrings("alertname", "A"), func(int32) bool { stop++; return stop < 2 })
	if stop != 2 {
		t.Errorf("each went on after false: %d calls", stop)
	}
}

// reference is Alertmanager v0.34.2's inhibition algorithm written
// naively: every source alert kept by fingerprint, rules tried in order,
// matchers applied to model.LabelSets, equal labels compared by the
// fingerprint of the model.LabelSet Alertmanager builds.
type reference struct {
	rules  []refRule
	alerts map[model.Fingerprint]*alert.Alert
}

type refRule struct {
	source, target amlabels.Matchers
	equal          []string
}

func toModel(ls labels.Labels) model.LabelSet {
	m := make(model.LabelSet, ls.Len())
	ls.Range(func(l labels.Label) { m[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
	return m
}

func (r *refRule) eqFP(ls model.LabelSet) model.Fingerprint {
	s := make(model.LabelSet, len(r.equal))
	for _, n := range r.equal {
		s[model.LabelName(n)] = ls[model.LabelName(n)]
	}
	return s.Fingerprint()
}

func newReference(t *testing.T, rules []amcommoncfg.InhibitRule) *reference {
	t.Helper()
	ref := &reference{alerts: make(map[model.Fingerprint]*alert.Alert)}
	side := func(match map[string]string, ms amcommoncfg.Matchers) amlabels.Matchers {
		out := slices.Clone(amlabels.Matchers(ms))
		for n, v := range match {
			m, err := amlabels.NewMatcher(amlabels.MatchEqual, n, v)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
		return out
	}
	for _, cr := range rules {
		ref.rules = append(ref.rules, refRule{
			source: side(cr.SourceMatch, cr.SourceMatchers),
			target: side(cr.TargetMatch, cr.TargetMatchers),
			equal:  cr.Equal,
		})
	}
	return ref
}

func (ref *reference) put(a *alert.Alert) {
	ref.alerts[toModel(a.Labels).Fingerprint()] = a
}

// mutes returns the fingerprints of the source alerts the first inhibiting
// rule could name; nil if none inhibits.
func (ref *reference) mutes(ls labels.Labels, now time.Time) []string {
	lset := toModel(ls)
	for _, r := range ref.rules {
		if !r.target.Matches(lset) {
			continue
		}
		excludeTwoSided := r.source.Matches(lset)
		eq := r.eqFP(lset)
		var found []string
		for fp, a := range ref.alerts {
			als := toModel(a.Labels)
			if !r.source.Matches(als) || r.eqFP(als) != eq || a.Resolved(now) {
				continue
			}
			if excludeTwoSided && r.target.Matches(als) {
				continue
			}
			found = append(found, fp.String())
		}
		if len(found) > 0 {
			return found
		}
	}
	return nil
}

// TestAgainstReference compares Mutes with the reference on random rules,
// alerts and clock steps.
func TestAgainstReference(t *testing.T) {
	names := []string{"a", "b", "c", "d"}
	values := []string{"1", "2", "3"}
	types := []amlabels.MatchType{amlabels.MatchEqual, amlabels.MatchEqual, amlabels.MatchNotEqual, amlabels.MatchRegexp, amlabels.MatchNotRegexp}
	for seed := range uint64(200) {
		rnd := rand.New(rand.NewPCG(seed, 42))
		matcher := func() *amlabels.Matcher {
			typ := types[rnd.IntN(len(types))]
			v := values[rnd.IntN(len(values))]
			if typ == amlabels.MatchRegexp || typ == amlabels.MatchNotRegexp {
				v += "|" + values[rnd.IntN(len(values))]
			}
			if rnd.IntN(8) == 0 {
				v = ""
			}
			m, err := amlabels.NewMatcher(typ, names[rnd.IntN(len(names))], v)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		matchers := func() amcommoncfg.Matchers {
			var ms amcommoncfg.Matchers
			for range rnd.IntN(3) {
				ms = append(ms, matcher())
			}
			return ms
		}
		lset := func() labels.Labels { return randomLabels(rnd, names, values) }

		rules := make([]amcommoncfg.InhibitRule, 1+rnd.IntN(20))
		for i := range rules {
			r := &rules[i]
			r.SourceMatchers = matchers()
			r.TargetMatchers = matchers()
			if rnd.IntN(4) == 0 {
				r.SourceMatch = map[string]string{names[rnd.IntN(len(names))]: values[rnd.IntN(len(values))]}
			}
			if rnd.IntN(4) == 0 {
				r.TargetMatch = map[string]string{names[rnd.IntN(len(names))]: values[rnd.IntN(len(values))]}
			}
			for _, n := range names {
				if rnd.IntN(3) == 0 {
					r.Equal = append(r.Equal, n)
				}
			}
		}
		c := &clock{now: t0}
		ih, err := New(rules, Options{Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		ref := newReference(t, rules)

		var known []labels.Labels
		for step := range 20 {
			c.Set(t0.Add(time.Duration(step) * time.Minute))
			for range rnd.IntN(5) {
				var ls labels.Labels
				if len(known) > 0 && rnd.IntN(3) == 0 {
					ls = known[rnd.IntN(len(known))]
				} else {
					ls = lset()
					known = append(known, ls)
				}
				var ends time.Time
				if rnd.IntN(6) > 0 {
					ends = c.Now().Add(time.Duration(rnd.IntN(8)-2) * time.Minute)
				}
				a := &alert.Alert{Labels: ls, EndsAt: ends}
				ih.Put(a)
				ref.put(a)
			}
			if rnd.IntN(4) == 0 {
				ih.GC()
			}
			checkLive(t, ih)
			for range 10 {
				ls := lset()
				got := ih.Mutes(ls)
				want := ref.mutes(ls, c.Now())
				switch {
				case (got == nil) != (want == nil):
					t.Fatalf("seed %d step %d: Mutes(%v) = %v, reference %v\nrules: %+v", seed, step, ls, got, want, rules)
				case got != nil && (len(got) != 1 || !slices.Contains(want, got[0])):
					t.Fatalf("seed %d step %d: Mutes(%v) = %v, not among the reference's %v", seed, step, ls, got, want)
				case got != nil && len(want) > 1:
					// Among several, the latest EndsAt is named.
					latest := ref.alerts[mustParseFP(t, got[0])].EndsAt
					for _, fp := range want {
						e := ref.alerts[mustParseFP(t, fp)].EndsAt
						if !latest.IsZero() && (e.IsZero() || e.After(latest)) {
							t.Fatalf("seed %d step %d: Mutes(%v) = %v (EndsAt %v), but %s ends later (%v)", seed, step, ls, got, latest, fp, e)
						}
					}
				}
			}
		}
	}
}

func mustParseFP(t *testing.T, s string) model.Fingerprint {
	t.Helper()
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return model.Fingerprint(v)
}

// TestFingerprintCollision checks that a source filed under the target's
// equal-labels fingerprint with other equal labels (a hash collision) does
// not inhibit, where Alertmanager would.
func TestFingerprintCollision(t *testing.T) {
	ih, err := New([]amcommoncfg.InhibitRule{{Equal: []string{"cluster"}}}, Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	tgt := labels.FromStrings("alertname", "Tgt", "cluster", "a")
	src := labels.FromStrings("alertname", "Src", "cluster", "b")
	r := ih.rules[0]
	eq := equalFingerprint(r.equal, tgt)
	ih.link(r, eq, r.set(eq, source{fp: 1, hex: hex16(1), labels: src}, t0))
	if ih.nLive != 1 {
		t.Fatalf("nLive = %d, want 1", ih.nLive)
	}
	if got := ih.Mutes(tgt); got != nil {
		t.Errorf("Mutes = %v, want nil", got)
	}
}

// checkLive checks that ih.live and ih.nLive list exactly the rules'
// source buckets.
func checkLive(t *testing.T, ih *Inhibitor) {
	t.Helper()
	ih.mu.RLock()
	defer ih.mu.RUnlock()
	want := make([]map[uint64][]int32, len(ih.live))
	for e := range want {
		want[e] = make(map[uint64][]int32)
	}
	n := 0
	for _, r := range ih.rules {
		for eq, b := range r.sources {
			if len(b) == 0 {
				t.Errorf("rule %d: empty bucket %x", r.id, eq)
			}
			want[r.equalID][eq] = append(want[r.equalID][eq], r.id)
			n++
		}
	}
	if !slices.EqualFunc(want, ih.live, func(a, b map[uint64][]int32) bool {
		return maps.EqualFunc(a, b, slices.Equal)
	}) {
		t.Errorf("live = %v, want %v", ih.live, want)
	}
	if ih.nLive != n {
		t.Errorf("nLive = %d, want %d", ih.nLive, n)
	}
}

// randomLabels picks, for each name, a random value or no label at all
// (one time in three).
func randomLabels(rnd *rand.Rand, names, values []string) labels.Labels {
	b := labels.NewScratchBuilder(len(names))
	for _, n := range names {
		if rnd.IntN(3) > 0 {
			b.Add(n, values[rnd.IntN(len(values))])
		}
	}
	return b.Labels()
}

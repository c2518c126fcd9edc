package inhibit

import (
	"strconv"
	"testing"
	"time"

	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
)

// BenchmarkMutes measures Mutes with n rules shaped as Alertmanager's own
// inhibit benchmark: rule i has source src=i, target dst=0 and equal
// [cluster]; the sources have no cluster label.
//
//   - first: every rule has a firing source, the first rule inhibits
//     (Alertmanager's "n inhibition rules, 1 inhibiting alert");
//   - last: only the last rule has a source (Alertmanager's "last rule
//     matches");
//   - none: every rule has a source but the target has another cluster,
//     so none inhibits;
//   - distinct_targets: rule i targets alertname=Ti, only the last one
//     matches and inhibits;
//   - expired_sources: every rule's target matches and every rule holds a
//     source with the target's equal labels, but all ended without an
//     update and GC has not run yet, so all n rules are evaluated (the
//     linear worst case).
func BenchmarkMutes(b *testing.B) {
	all := func(int) bool { return true }
	for _, n := range []int{10, 100, 1000, 10000} {
		last := func(i int) bool { return i == n-1 }
		cases := []struct {
			name string
			mb   mutesBench
		}{
			{"first", mutesBench{hasSource: all, want: true}},
			{"last", mutesBench{hasSource: last, want: true}},
			{"none", mutesBench{hasSource: all, cluster: "other"}},
			{"distinct_targets", mutesBench{distinctTargets: true, hasSource: last, want: true}},
			{"expired_sources", mutesBench{hasSource: all, expired: true}},
		}
		for _, c := range cases {
			b.Run("rules="+strconv.Itoa(n)+"/"+c.name, func(b *testing.B) {
				benchmarkMutes(b, n, c.mb)
			})
		}
	}
}

type mutesBench struct {
	// distinctTargets makes rule i target alertname=Ti, and Mutes ask
	// about the last one, instead of all rules targeting dst=0.
	distinctTargets bool
	// hasSource tells which rules get a source alert.
	hasSource func(rule int) bool
	// expired makes the sources end before Mutes is asked.
	expired bool
	// cluster is the target's cluster label, if any.
	cluster string
	// want is whether Mutes inhibits.
	want bool
}

func benchmarkMutes(b *testing.B, n int, mb mutesBench) {
	now := time.Now()
	rules := make([]amcommoncfg.InhibitRule, n)
	var sources []*alert.Alert
	for i := range rules {
		tgt := &amlabels.Matcher{Type: amlabels.MatchEqual, Name: "dst", Value: "0"}
		if mb.distinctTargets {
			tgt = &amlabels.Matcher{Type: amlabels.MatchEqual, Name: "alertname", Value: "T" + strconv.Itoa(i)}
		}
		rules[i] = amcommoncfg.InhibitRule{
			SourceMatchers: amcommoncfg.Matchers{{Type: amlabels.MatchEqual, Name: "src", Value: strconv.Itoa(i)}},
			TargetMatchers: amcommoncfg.Matchers{tgt},
			Equal:          []string{"cluster"},
		}
		if mb.hasSource(i) {
			sources = append(sources, &alert.Alert{
				Labels: labels.FromStrings("src", strconv.Itoa(i)),
				EndsAt: now.Add(time.Hour),
			})
		}
	}
	clock := now
	ih, err := New(rules, Options{Now: func() time.Time { return clock }})
	if err != nil {
		b.Fatal(err)
	}
	ih.Put(sources...)
	if mb.expired {
		clock = now.Add(2 * time.Hour)
	}

	lset := labels.FromStrings("dst", "0")
	if mb.distinctTargets {
		lset = labels.FromStrings("alertname", "T"+strconv.Itoa(n-1))
	}
	if mb.cluster != "" {
		lset = labels.NewBuilder(lset).Set("cluster", mb.cluster).Labels()
	}
	b.ReportAllocs()
	for b.Loop() {
		if got := ih.Mutes(lset) != nil; got != mb.want {
			b.Fatalf("Mutes(%v) inhibited = %v, want %v", lset, got, mb.want)
		}
	}
}

// BenchmarkPut measures Put of one alert that is the source of one of n
// rules.
func BenchmarkPut(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			rules := make([]amcommoncfg.InhibitRule, n)
			for i := range rules {
				rules[i] = amcommoncfg.InhibitRule{
					SourceMatchers: amcommoncfg.Matchers{{Type: amlabels.MatchEqual, Name: "src", Value: strconv.Itoa(i)}},
					TargetMatchers: amcommoncfg.Matchers{{Type: amlabels.MatchEqual, Name: "dst", Value: "0"}},
					Equal:          []string{"cluster"},
				}
			}
			now := time.Now()
			ih, err := New(rules, Options{Now: func() time.Time { return now }})
			if err != nil {
				b.Fatal(err)
			}
			a := &alert.Alert{
				Labels: labels.FromStrings("alertname", "A", "cluster", "c", "src", strconv.Itoa(n/2)),
				EndsAt: now.Add(time.Hour),
			}
			b.ReportAllocs()
			for b.Loop() {
				ih.Put(a)
			}
		})
	}
}

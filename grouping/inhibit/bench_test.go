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
// inhibit benchmark: rule i has source src=i and target dst=0.
//
//   - first: every rule has a firing source, the first rule inhibits
//     (Alertmanager's "n inhibition rules, 1 inhibiting alert");
//   - last: only the last rule has a source (Alertmanager's "last rule
//     matches");
//   - none: every rule has a source but with another value of the equal
//     label, so every rule is evaluated and none inhibits;
//   - distinct_targets: rule i targets alertname=Ti, only the last one
//     matches and inhibits (the target index at work).
func BenchmarkMutes(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			b.Run("first", func(b *testing.B) {
				benchmarkMutes(b, n, "dst", func(int) bool { return true }, "", true)
			})
			b.Run("last", func(b *testing.B) {
				benchmarkMutes(b, n, "dst", func(i int) bool { return i == n-1 }, "", true)
			})
			b.Run("none", func(b *testing.B) {
				benchmarkMutes(b, n, "dst", func(int) bool { return true }, "other", false)
			})
			b.Run("distinct_targets", func(b *testing.B) {
				benchmarkMutes(b, n, "alertname", func(i int) bool { return i == n-1 }, "", true)
			})
		})
	}
}

// benchmarkMutes builds n rules src=i → target; when target is "dst" all
// rules target dst=0, else rule i targets alertname=T<i> and Mutes asks
// about the last one. Rules for which hasSource is true get a source
// alert; the target's cluster label is cluster (equal: [cluster]) while
// the sources have none.
func benchmarkMutes(b *testing.B, n int, target string, hasSource func(int) bool, cluster string, want bool) {
	now := time.Now()
	rules := make([]amcommoncfg.InhibitRule, n)
	var sources []*alert.Alert
	for i := range rules {
		tgt := &amlabels.Matcher{Type: amlabels.MatchEqual, Name: "dst", Value: "0"}
		if target != "dst" {
			tgt = &amlabels.Matcher{Type: amlabels.MatchEqual, Name: "alertname", Value: "T" + strconv.Itoa(i)}
		}
		rules[i] = amcommoncfg.InhibitRule{
			SourceMatchers: amcommoncfg.Matchers{{Type: amlabels.MatchEqual, Name: "src", Value: strconv.Itoa(i)}},
			TargetMatchers: amcommoncfg.Matchers{tgt},
			Equal:          []string{"cluster"},
		}
		if hasSource(i) {
			sources = append(sources, &alert.Alert{
				Labels: labels.FromStrings("src", strconv.Itoa(i)),
				EndsAt: now.Add(time.Hour),
			})
		}
	}
	ih, err := New(rules, Options{Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	ih.Put(sources...)

	lset := labels.FromStrings("dst", "0")
	if target != "dst" {
		lset = labels.FromStrings("alertname", "T"+strconv.Itoa(n-1))
	}
	if cluster != "" {
		lset = labels.NewBuilder(lset).Set("cluster", cluster).Labels()
	}
	b.ReportAllocs()
	for b.Loop() {
		if got := ih.Mutes(lset) != nil; got != want {
			b.Fatalf("Mutes(%v) inhibited = %v, want %v", lset, got, want)
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

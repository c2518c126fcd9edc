package silences

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkMutes is Alertmanager's BenchmarkMutes: one label set
// {foo="bar"} against N silences of which M (foo="bar") match and the
// others (job="jobI") do not.
func BenchmarkMutes(b *testing.B) {
	b.Run("silences=0", func(b *testing.B) { benchmarkMutes(b, 0, 0) })
	for _, total := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("silences=%d", total), func(b *testing.B) {
			for _, matching := range []int{0, 1, 10, 100, 1000} {
				if matching == 100 && total != 1000 || matching == 1000 && total != 10000 {
					continue
				}
				b.Run(fmt.Sprintf("matching=%d", matching), func(b *testing.B) {
					benchmarkMutes(b, total, matching)
				})
			}
		})
	}
}

func benchmarkMutes(b *testing.B, total, matching int) {
	c := newClock()
	s := newSilences(b, c)
	for i := range total {
		m := fmt.Sprintf(`job="job%d"`, i)
		if i < matching {
			m = `foo="bar"`
		}
		mustSet(b, s, &Silence{Matchers: matchers(b, m), EndsAt: t0.Add(24 * time.Hour)})
	}
	lset := labelsOf("foo", "bar")
	if got := len(s.Mutes(lset)); got != matching {
		b.Fatalf("%d silences match, want %d", got, matching)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Mutes(lset)
	}
}

// BenchmarkMutesUnindexed is the worst case for the index: silences with
// no equality matcher, which are checked for every label set.
func BenchmarkMutesUnindexed(b *testing.B) {
	for _, total := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("silences=%d/matching=10", total), func(b *testing.B) {
			c := newClock()
			s := newSilences(b, c)
			for i := range total {
				m := fmt.Sprintf(`job=~"job%d.*"`, i)
				if i < 10 {
					m = `foo=~"ba.*"`
				}
				mustSet(b, s, &Silence{Matchers: matchers(b, m), EndsAt: t0.Add(24 * time.Hour)})
			}
			lset := labelsOf("alertname", "Down", "foo", "bar", "job", "api")
			if got := len(s.Mutes(lset)); got != 10 {
				b.Fatalf("%d silences match, want 10", got)
			}
			b.ReportAllocs()
			for b.Loop() {
				s.Mutes(lset)
			}
		})
	}
}

// BenchmarkSet measures creating a silence among 10,000 (in memory).
func BenchmarkSet(b *testing.B) {
	c := newClock()
	s := newSilences(b, c)
	for i := range 10000 {
		mustSet(b, s, &Silence{Matchers: matchers(b, `alertname="Down"`, fmt.Sprintf(`job="job%d"`, i)), EndsAt: t0.Add(24 * time.Hour)})
	}
	sil := &Silence{Matchers: matchers(b, `alertname="Down"`, `instance=~"host-1|host-2"`), EndsAt: t0.Add(24 * time.Hour)}
	b.ReportAllocs()
	for b.Loop() {
		mustSet(b, s, sil)
	}
}

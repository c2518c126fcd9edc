package silences

import (
	"errors"
	"testing"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
)

// FuzzSilence sends matchers parsed by Alertmanager's parser, and raw
// matchers that skipped it, through Set, Get, Mutes and Expire: nothing
// panics, a rejected silence is a *ValidationError, and Mutes agrees with
// the matchers.
func FuzzSilence(f *testing.F) {
	f.Add(`foo="bar"`, `baz=~"a|b"`, "bar", uint8(0), "name", "value")
	f.Add(`foo!=""`, `bar=""`, "", uint8(2), "x", "(")
	f.Add(`foo=~".*"`, `{a="b"}`, "a\nb", uint8(3), "", "\xff")
	f.Add(`foo!~"x.*"`, `a = "b\"c"`, "xyz", uint8(9), "n", "v")
	f.Add(`foo=~"(?i)BAR"`, `instance=~"host-[0-9]+"`, "host-1", uint8(1), "instance", "host-1")
	f.Fuzz(func(t *testing.T, m1, m2, labelValue string, typ uint8, name, value string) {
		var ms amlabels.Matchers
		for _, in := range []string{m1, m2} {
			if m, err := amlabels.ParseMatcher(in); err == nil {
				ms = append(ms, m)
			}
		}
		ms = append(ms, &amlabels.Matcher{Type: amlabels.MatchType(typ % 5), Name: name, Value: value})

		c := newClock()
		s := newSilences(t, c)
		for _, set := range []amlabels.Matchers{ms[:len(ms)-1], ms} {
			sil := &Silence{Matchers: set, EndsAt: c.Now().Add(time.Hour)}
			id, err := s.Set(sil)
			if err != nil {
				var verr *ValidationError
				if !errors.As(err, &verr) {
					t.Fatalf("Set(%v): %v is not a *ValidationError", set, err)
				}
				continue
			}
			got := mustGet(t, s, id)
			lset := labelsOf()
			if len(set) > 0 {
				lset = labelsOf(set[0].Name, labelValue)
			}
			want := true
			for _, m := range got.Matchers {
				want = want && m.Matches(lset.Get(m.Name))
			}
			if muted := len(s.Mutes(lset)) > 0; muted != want {
				t.Fatalf("Mutes(%v) = %v, want %v for %v", lset, muted, want, got.Matchers)
			}
			if err := s.Expire(id); err != nil {
				t.Fatal(err)
			}
			// A silence that ends now is still active now.
			c.Add(time.Nanosecond)
		}
	})
}

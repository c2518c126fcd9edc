package inhibit

import (
	"fmt"
	"slices"
	"testing"
	"time"

	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"go.yaml.in/yaml/v2"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/internal/yamltest"
)

// FuzzInhibitMatchers writes fuzzed matcher strings into the
// source_matchers and target_matchers of inhibit_rules (and a fuzzed equal
// label), parses them as Alertmanager's configuration does and builds an
// Inhibitor. The rules must parse exactly when Alertmanager's classic
// matcher parser accepts every string and the equal label is a valid
// name; then, with source alerts built from the matchers' own names and
// values and fuzzed values, Mutes must agree with the reference model
// (every rule, every stored alert) and with Alertmanager's own inhibitor,
// naming the source the reference names where it finds only one.
func FuzzInhibitMatchers(f *testing.F) {
	for _, s := range [][5]string{
		{`severity="critical"`, `severity="warning"`, "alertname", "critical", "warning"},
		{`{alertname="Down",severity=~"page|critical"}`, `severity!="page"`, "cluster", "page", ""},
		{`alertname=~".+"`, `alertname=~".+"`, "instance", "a", "a"},
		{`a=""`, `b!~"x.*"`, "a", "", "xy"},
		{`a="b\"c"`, `a=~"\\d+"`, "0bad", "12", `b"c`},
		{`"foo bar"="x"`, `a=~"("`, "", "x", "("},
		{`a="\n"`, "", "a", "\n", "\xff"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	f.Fuzz(func(t *testing.T, src, tgt, equal, v1, v2 string) {
		src, tgt, equal = yamltest.ValidUTF8(src), yamltest.ValidUTF8(tgt), yamltest.ValidUTF8(equal)
		in := fmt.Sprintf(`
- source_matchers: [%s]
  target_matchers: [%s]
  equal: [%s]
- source_matchers: [%[2]s]
  target_matchers: [%[1]s]
- source_matchers: [%[1]s]
  target_match: {a: %[4]s}
`, yamltest.Quote(src), yamltest.Quote(tgt), yamltest.Quote(equal), yamltest.Quote(yamltest.ValidUTF8(v1)))

		var parsed amlabels.Matchers
		valid := model.LegacyValidation.IsValidLabelName(equal)
		for _, s := range []string{src, tgt} {
			ms, err := amlabels.ParseMatchers(s)
			if err != nil {
				valid = false
			}
			parsed = append(parsed, ms...)
		}
		var rules []amcommoncfg.InhibitRule
		err := yaml.UnmarshalStrict([]byte(in), &rules)
		if (err == nil) != valid {
			t.Fatalf("parse rules: error %v, want valid=%v for%s", err, valid, in)
		}
		if err != nil {
			return
		}
		ih, err := New(rules, Options{})
		if err != nil {
			t.Fatalf("New: %v for%s", err, in)
		}

		// Label sets each matcher wants, refuses or does not see, with
		// and without the equal label (labels are never empty: received
		// alerts lose their empty labels).
		base := labels.NewBuilder(labels.FromStrings("alertname", "A")).Set(equal, v2).Labels()
		sets := []labels.Labels{base, labels.NewBuilder(base).Del(equal).Labels()}
		for _, m := range parsed {
			for _, v := range []string{m.Value, v1, v2, ""} {
				sets = append(sets, labels.NewBuilder(base).Set(m.Name, v).Labels())
			}
		}
		// Alertmanager's inhibitor reads the wall clock: alerts end hours
		// away from now.
		now := time.Now()
		ends := []time.Duration{-2 * time.Hour, 2 * time.Hour, 3 * time.Hour}
		var alerts []*alert.Alert
		seen := make(map[uint64]bool)
		for i, ls := range sets {
			if fp := alert.Fingerprint(ls); !seen[fp] {
				seen[fp] = true
				alerts = append(alerts, &alert.Alert{Labels: ls, StartsAt: now.Add(-3 * time.Hour), EndsAt: now.Add(ends[i%len(ends)])})
			}
		}
		ih.Put(alerts...)
		ref := newReference(t, rules)
		for _, a := range alerts {
			ref.put(a)
		}
		am := newAlertmanagerInhibitor(t, rules, alerts)
		for _, ls := range sets {
			got := ih.Mutes(ls)
			want := ref.mutes(ls, time.Now())
			amMuted, amBy := am.mutes(ls)
			switch {
			case (got != nil) != (want != nil) || amMuted != (want != nil):
				t.Fatalf("Mutes(%v) = %v, reference %v, Alertmanager %v by %v\nrules:%s", ls, got, want, amMuted, amBy, in)
			case got != nil && (len(got) != 1 || !slices.Contains(want, got[0])):
				t.Fatalf("Mutes(%v) = %v, not among the reference's %v\nrules:%s", ls, got, want, in)
			case len(want) == 1 && !slices.Equal(amBy, want):
				t.Fatalf("Mutes(%v): Alertmanager names %v, the reference %v\nrules:%s", ls, amBy, want, in)
			}
		}
	})
}

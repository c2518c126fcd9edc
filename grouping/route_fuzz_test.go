package grouping

import (
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	amdispatch "github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/matcher/compat"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/config"
	"github.com/alertd/alertd/internal/yamltest"
)

// FuzzRouteMatchers writes fuzzed matcher strings into the matchers of
// routes (and a fuzzed match_re) of an alertd.yml, loads it with
// config.Load and builds the tree with NewRoute. The file must be accepted
// exactly when Alertmanager's matcher parser (pkg/labels.ParseMatchers,
// the classic syntax that config.Load gets through Alertmanager's loader)
// accepts every string and the match_re compiles; whenever it is, Alertmanager
// 0.34's default parser (the UTF-8 one falling back to the classic one)
// yields the same matchers, and the tree routes label sets built from the
// matchers as Alertmanager's own dispatch.NewRoute does: same route keys,
// same group labels.
func FuzzRouteMatchers(f *testing.F) {
	for _, s := range [][5]string{
		{`team="db"`, `severity=~"page|critical"`, `instance!="x"`, "db-.*", "db-1"},
		{`{team="db",env!~"dev|test"}`, `job=""`, `foo=bar`, "", ""},
		{`a="b\"c"`, `a=~"\\d+"`, `a!~"(?i)X"`, "(", "12"},
		{`a="\n"`, "b=~\"x\ny\"", `c=~"[[:alpha:]]+"`, ".*", "\n"},
		{`0a="x"`, `a=`, `a="unterminated`, "a{2,1001}", "a"},
		{`"foo bar"="x"`, `a="b}`, `{}`, "", "é"},
		{`a=~"(?s).*"`, `,`, `a="b",`, "x|", "\xff"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	fallback := compat.FallbackMatchersParser(slog.New(slog.DiscardHandler))
	f.Fuzz(func(t *testing.T, m1, m2, m3, re, value string) {
		m1, m2, m3, re = yamltest.ValidUTF8(m1), yamltest.ValidUTF8(m2), yamltest.ValidUTF8(m3), yamltest.ValidUTF8(re)
		in := fmt.Sprintf(`route:
  receiver: r
  group_by: [alertname]
  routes:
  - receiver: a
    matchers: [%s, %s]
    group_by: ['...']
    continue: true
    routes:
    - receiver: b
      matchers: [%s]
  - receiver: b
    match_re: {instance: %s}
    group_by: [instance]
  - receiver: a
    matchers: [%[3]s]
receivers: [{name: r}, {name: a}, {name: b}]
`, yamltest.Quote(m1), yamltest.Quote(m2), yamltest.Quote(m3), yamltest.Quote(re))

		var parsed amlabels.Matchers
		valid := true
		for _, s := range []string{m1, m2, m3} {
			ms, err := amlabels.ParseMatchers(s)
			if err != nil {
				valid = false
				continue
			}
			parsed = append(parsed, ms...)
			am, err := fallback(s, "fuzz")
			if err != nil || !reflect.DeepEqual(amlabels.Matchers(ms), am) {
				t.Fatalf("%q: classic parser %v, Alertmanager 0.34's default %v, %v", s, ms, am, err)
			}
		}
		if _, err := regexp.Compile("^(?:" + re + ")$"); err != nil {
			valid = false
		}
		c, err := config.Load([]byte(in), "")
		if (err == nil) != valid {
			t.Fatalf("Load: error %v, want valid=%v for\n%s", err, valid, in)
		}
		if err != nil {
			return
		}

		ours := NewRoute(c.Alertmanager.Route, nil)
		theirs := amdispatch.NewRoute(c.Alertmanager.Route, nil)
		// Label sets each matcher wants, refuses or does not see (labels
		// are never empty: received alerts lose their empty labels).
		sets := []labels.Labels{labels.NewBuilder(labels.FromStrings("alertname", "A")).Set("instance", value).Labels()}
		for _, m := range parsed {
			for _, v := range []string{m.Value, value, ""} {
				b := labels.NewBuilder(sets[0]).Set(m.Name, v)
				sets = append(sets, b.Labels(), b.Del("alertname").Labels())
			}
		}
		for _, ls := range sets {
			m := model.LabelSet{}
			ls.Range(func(l labels.Label) { m[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
			var want, got []string
			for _, r := range theirs.Match(m) {
				gl := model.LabelSet{}
				for ln, lv := range m {
					if _, ok := r.RouteOpts.GroupBy[ln]; ok || r.RouteOpts.GroupByAll {
						gl[ln] = lv
					}
				}
				want = append(want, r.Key()+":"+r.RouteOpts.Receiver+":"+gl.String())
			}
			for _, r := range ours.Match(ls) {
				got = append(got, r.Key()+":"+r.Opts.Receiver+":"+labelSetString(r.groupLabels(ls)))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s: routes (-alertmanager +alertd):\n%s\nconfig:\n%s", ls, diff, in)
			}
		}
	})
}

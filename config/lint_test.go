package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/dispatch"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
)

var allRoutingLints = map[string]bool{LintUnreachableRoute: true, LintUnusedReceiver: true}

const routingConfig = `datasource: {url: http://a:1}
route:
  receiver: default
  routes:
  - matchers: [team="db"]
    receiver: db
    routes:
    - matchers: [severity="page"]
      receiver: db-pager
    - matchers: [severity="page", service="pg"]
      receiver: pg-pager
  - matchers: [team="db", severity="ticket"]
    receiver: db-tickets
  - matchers: [team="web", team="api"]
    receiver: web
  - match: {env: prod}
    match_re: {env: "staging|dev"}
  - matchers: [severity=~"warning|critical"]
    receiver: chat
    continue: true
  - matchers: [severity="critical"]
    receiver: critical
  - matchers: [severity=~"warn.*"]
    receiver: warn
  - matchers: [a=~"x.*", a!~"x.*"]
    receiver: never
  - receiver: catch-all
  - matchers: [team="late"]
    receiver: late
    routes:
    - receiver: late-child
receivers:
- name: default
- name: db
- name: db-pager
- name: pg-pager
- name: db-tickets
- name: web
- name: chat
- name: critical
- name: warn
- name: never
- name: catch-all
- name: late
- name: late-child
- name: forgotten
`

func TestLintRouting(t *testing.T) {
	c, err := Load([]byte(routingConfig), "")
	if err != nil {
		t.Fatal(err)
	}
	got := c.LintRouting([]byte(routingConfig), allRoutingLints)
	var lines []string
	for _, f := range got {
		lines = append(lines, fmt.Sprintf("%d %s %s %s: %s", f.Line, f.Lint, f.Route, f.Receiver, f.Msg))
	}
	want := []string{
		`10 unreachable-route route.routes[0].routes[1] pg-pager: route.routes[0].routes[1] {service="pg",severity="page"} is never reached: the earlier sibling route.routes[0].routes[0] {severity="page"} (line 8) matches every alert it would match and does not continue`,
		`12 unreachable-route route.routes[1] db-tickets: route.routes[1] {severity="ticket",team="db"} is never reached: the earlier sibling route.routes[0] {team="db"} (line 5) matches every alert it would match and does not continue`,
		`14 unreachable-route route.routes[2] web: route.routes[2] {team="api",team="web"} is never reached: no value of label "team" matches all of {team="api",team="web"}`,
		`16 unreachable-route route.routes[3] : route.routes[3] {env="prod",env=~"staging|dev"} is never reached: no value of label "env" matches all of {env="prod",env=~"staging|dev"}`,
		`25 unreachable-route route.routes[7] never: route.routes[7] {a=~"x.*",a!~"x.*"} is never reached: no value of label "a" matches all of {a=~"x.*",a!~"x.*"}`,
		`28 unreachable-route route.routes[9] late: route.routes[9] {team="late"} is never reached: the earlier sibling route.routes[8] (no matchers) (line 27) matches every alert it would match and does not continue`,
		`36 unused-receiver  pg-pager: receiver "pg-pager" is named only by unreachable routes (route.routes[0].routes[1]): no alert is sent to it`,
		`37 unused-receiver  db-tickets: receiver "db-tickets" is named only by unreachable routes (route.routes[1]): no alert is sent to it`,
		`38 unused-receiver  web: receiver "web" is named only by unreachable routes (route.routes[2]): no alert is sent to it`,
		`42 unused-receiver  never: receiver "never" is named only by unreachable routes (route.routes[7]): no alert is sent to it`,
		`44 unused-receiver  late: receiver "late" is named only by unreachable routes (route.routes[9]): no alert is sent to it`,
		`45 unused-receiver  late-child: receiver "late-child" is named only by unreachable routes (route.routes[9].routes[0]): no alert is sent to it`,
		`46 unused-receiver  forgotten: receiver "forgotten" is named by no route: no alert is sent to it`,
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	// routes[5] (critical) follows a sibling that continues, and
	// routes[6] (warn.*) is not implied by =~"warning|critical": both are
	// reachable, so their receivers are used.
	checkSound(t, c)

	if got := c.LintRouting(nil, map[string]bool{LintUnusedReceiver: true}); len(got) != 7 || got[0].Line != 0 {
		t.Errorf("without source, unused-receiver only: %+v", got)
	}
	if got := c.LintRouting([]byte(routingConfig), nil); len(got) != 0 {
		t.Errorf("no lint enabled: %+v", got)
	}
	noRouting, err := Load([]byte("datasource: {url: http://a:1}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := noRouting.LintRouting(nil, allRoutingLints); got != nil {
		t.Errorf("no routing: %+v", got)
	}
}

// checkSound routes label sets built from every value the routing tree's
// matchers name through Alertmanager's own routing (dispatch), and fails
// if any reaches a route LintRouting calls unreachable, or a receiver it
// calls unused.
func checkSound(t *testing.T, c *Config) {
	t.Helper()
	findings := c.LintRouting(nil, allRoutingLints)
	root := dispatch.NewRoute(c.Alertmanager.Route, nil)
	paths := map[*dispatch.Route]string{}
	var index func(r *dispatch.Route, path string)
	index = func(r *dispatch.Route, path string) {
		paths[r] = path
		for i, ch := range r.Routes {
			index(ch, fmt.Sprintf("%s.routes[%d]", path, i))
		}
	}
	index(root, "route")
	unreachable := map[string]bool{}
	unused := map[string]bool{}
	for _, f := range findings {
		if f.Lint == LintUnreachableRoute {
			unreachable[f.Route] = true
		} else {
			unused[f.Receiver] = true
		}
	}
	values := map[string][]string{}
	var collect func(r *dispatch.Route)
	collect = func(r *dispatch.Route) {
		for _, m := range r.Matchers {
			vs := []string{m.Value, "", "other"}
			if m.Type == amlabels.MatchRegexp || m.Type == amlabels.MatchNotRegexp {
				if lang, ok := finiteLanguage(m.Value); ok {
					vs = append(vs, lang...)
				}
				vs = append(vs, strings.Trim(m.Value, ".*+"), strings.Trim(m.Value, ".*+")+"x")
			}
			values[m.Name] = append(values[m.Name], vs...)
		}
		for _, ch := range r.Routes {
			collect(ch)
		}
	}
	collect(root)
	names := slices.Sorted(maps.Keys(values))
	for _, n := range names {
		slices.Sort(values[n])
		values[n] = slices.Compact(values[n])
	}
	const maxSets = 50000
	total := 1
	for _, n := range names {
		total *= len(values[n])
		if total > maxSets {
			total = maxSets
			break
		}
	}
	for i := range total {
		ls := model.LabelSet{}
		k := i
		for _, n := range names {
			vs := values[n]
			if v := vs[k%len(vs)]; v != "" {
				ls[model.LabelName(n)] = model.LabelValue(v)
			}
			k /= len(vs)
		}
		for _, r := range root.Match(ls) {
			if p := paths[r]; unreachable[p] || unused[r.RouteOpts.Receiver] {
				t.Fatalf("%v reaches %s (receiver %q), which the lint calls unreachable or unused", ls, p, r.RouteOpts.Receiver)
			}
		}
	}
}

func TestUnsatisfiable(t *testing.T) {
	tests := []struct {
		matchers []string
		unsat    bool
	}{
		{[]string{`a="x"`, `a="y"`}, true},
		{[]string{`a="x"`, `a="x"`}, false},
		{[]string{`a="x"`, `a!="x"`}, true},
		{[]string{`a=""`, `a!=""`}, true},
		{[]string{`a="x"`, `a=~"y|z"`}, true},
		{[]string{`a="x"`, `a=~"x|z"`}, false},
		{[]string{`a=~"x|y"`, `a=~"y|z"`}, false},
		{[]string{`a=~"x|y"`, `a=~"z|w"`}, true},
		{[]string{`a=~"x|y"`, `a!~"x|y"`}, true},
		{[]string{`a=~"x.*"`, `a!~"x.*"`}, true},
		{[]string{`a=~"x.*"`, `a!~"y.*"`}, false},
		{[]string{`a=~"x.*"`, `a=~"y.*"`}, false}, // unsatisfiable, but beyond this reading
		{[]string{`a="x"`, `a=~"X"`}, true},
		{[]string{`a="x"`, `a=~"(?i)X"`}, false},
		{[]string{`a="x"`, `b="y"`}, false},
		{[]string{`a!="x"`, `a!="y"`}, false},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.matchers, ","), func(t *testing.T) {
			ms := parseMatchers(t, tc.matchers...)
			if got := unsatisfiable(ms) != ""; got != tc.unsat {
				t.Errorf("unsatisfiable = %v, want %v", got, tc.unsat)
			}
		})
	}
}

func TestImplies(t *testing.T) {
	tests := []struct {
		have []string
		want string
		ok   bool
	}{
		{[]string{`a="x"`, `b="y"`}, `a="x"`, true},
		{[]string{`a="x"`}, `a=~"x|y"`, true},
		{[]string{`a="x"`}, `a!="y"`, true},
		{[]string{`a="x"`}, `a!~"y.*"`, true},
		{[]string{`a=~"x|y"`}, `a=~"x|y|z"`, true},
		{[]string{`a=~"x|y|z"`}, `a=~"x|y"`, false},
		{[]string{`a=~"x.*"`}, `a=~"x.*"`, true},
		{[]string{`a=~"xa.*"`}, `a=~"x.*"`, false}, // true, but beyond this reading
		{[]string{}, `a=~".*"`, true},
		{[]string{}, `a=""`, false},
		{[]string{`b="x"`}, `a!="x"`, false},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.have, ",")+"=>"+tc.want, func(t *testing.T) {
			if got := implies(parseMatchers(t, tc.have...), parseMatchers(t, tc.want)[0]); got != tc.ok {
				t.Errorf("implies = %v, want %v", got, tc.ok)
			}
		})
	}
}

func TestFiniteLanguage(t *testing.T) {
	tests := []struct {
		re   string
		want []string // nil: not finite
	}{
		{`x`, []string{"x"}},
		{`critical|warning`, []string{"critical", "warning"}},
		{`ab|ac`, []string{"ab", "ac"}},
		{`(a|b)(c|d)`, []string{"ac", "ad", "bc", "bd"}},
		{`colou?r`, []string{"color", "colour"}},
		{`[0-2]`, []string{"0", "1", "2"}},
		{`^x$`, []string{"x"}},
		{``, []string{""}},
		{`x.*`, nil},
		{`x+`, nil},
		{`(?i)x`, nil},
		{`[a-z][a-z]`, nil}, // 676 values: too many
		{`(`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.re, func(t *testing.T) {
			got, ok := finiteLanguage(tc.re)
			if ok != (tc.want != nil) || !slices.Equal(got, tc.want) {
				t.Errorf("got %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}

func parseMatchers(t *testing.T, ss ...string) amlabels.Matchers {
	t.Helper()
	ms := amlabels.Matchers{}
	for _, s := range ss {
		m, err := amlabels.ParseMatcher(s)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

// FuzzLintRouting builds routing trees from fuzzed matchers and checks that
// every route and receiver LintRouting reports is one Alertmanager's own
// routing never reaches with label sets made of the values the matchers
// name.
func FuzzLintRouting(f *testing.F) {
	f.Add(`a="x"`, `a="y"`, `a=~"x|y"`, `b!="z"`, false, true)
	f.Add(`a=~"x.*"`, `a!~"x.*"`, ``, `a="x"`, true, false)
	f.Add(``, `a="x"`, `b="y"`, `a="x"`, false, false)
	f.Fuzz(func(t *testing.T, m1, m2, m3, m4 string, c1, c2 bool) {
		var yaml strings.Builder
		yaml.WriteString("datasource: {url: http://a:1}\nroute:\n  receiver: r0\n  routes:\n")
		ms := []string{m1, m2, m3, m4}
		for i, m := range ms {
			if strings.ContainsAny(m, "\n\r'\t") {
				t.Skip()
			}
			fmt.Fprintf(&yaml, "  - receiver: r%d\n    continue: %v\n", i+1, (i == 0 && c1) || (i == 1 && c2))
			if m != "" {
				fmt.Fprintf(&yaml, "    matchers: ['%s']\n", m)
			}
			if i == 1 {
				fmt.Fprintf(&yaml, "    routes:\n    - receiver: r5\n      matchers: ['%s']\n", m1)
			}
		}
		yaml.WriteString("receivers: [{name: r0}, {name: r1}, {name: r2}, {name: r3}, {name: r4}, {name: r5}, {name: r6}]\n")
		c, err := Load([]byte(yaml.String()), "")
		if err != nil {
			t.Skip()
		}
		checkSound(t, c)
	})
}

package ruleload

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Load is R rules × S series in G groups at an interval.
type Load struct {
	Rules    int
	Series   int
	Groups   int
	Interval time.Duration
}

// Alerts is how many alerts fire: one per rule and series.
func (l Load) Alerts() int { return l.Rules * l.Series }

// Values returns the series the scrape target serves, in PromQL notation,
// with their values: bench_metric{job="bench",rule="r<R>",instance="host-<S>:9100"},
// all above zero so that every rule fires for every series.
func (l Load) Values() map[string]float64 {
	values := make(map[string]float64, l.Alerts())
	for r := range l.Rules {
		for s := range l.Series {
			values[fmt.Sprintf(`bench_metric{job="bench",rule="r%d",instance="host-%d:9100"}`, r, s)] = float64(s + 1)
		}
	}
	return values
}

// RuleFile returns the rule file: groups bench-<g>, each with its share of
// the rules BenchAlert<r> (expr bench_metric{rule="r<r>"} > 0), a label and
// two templated annotations.
func (l Load) RuleFile() string {
	var b strings.Builder
	b.WriteString("groups:\n")
	groups := max(l.Groups, 1)
	per := (l.Rules + groups - 1) / groups
	for g := range groups {
		fmt.Fprintf(&b, "- name: bench-%d\n  interval: %s\n  rules:\n", g, l.Interval)
		for r := g * per; r < min((g+1)*per, l.Rules); r++ {
			fmt.Fprintf(&b, `  - alert: BenchAlert%d
    expr: bench_metric{rule="r%d"} > 0
    labels: {severity: warning}
    annotations:
      summary: "Instance {{ $labels.instance }} of job {{ $labels.job }} is firing"
      description: "Value is {{ $value | humanize }}"
`, r, r)
		}
	}
	return b.String()
}

// Alert is one alert a system reports: its name, instance label and state
// as the system spells it ("firing" in Prometheus's API, "active" in
// Alertmanager's).
type Alert struct {
	Name, Instance, State string
}

// Check returns an error unless alerts are exactly the load's: every rule
// BenchAlert<r> with every instance host-<s>:9100 once, each in state
// want. The error says what is missing or extra.
func (l Load) Check(alerts []Alert, want string) error {
	type key struct{ rule, series int }
	seen := make(map[key]int, l.Alerts())
	var extra, wrongState, dup int
	var example string
	note := func(s string) {
		if example == "" {
			example = s
		}
	}
	for _, a := range alerts {
		r, okR := index(a.Name, "BenchAlert")
		s, okS := index(strings.TrimSuffix(a.Instance, ":9100"), "host-")
		if !okR || !okS || r >= l.Rules || s >= l.Series || !strings.HasSuffix(a.Instance, ":9100") {
			extra++
			note(fmt.Sprintf("unexpected alert %s{instance=%q}", a.Name, a.Instance))
			continue
		}
		if a.State != want {
			wrongState++
			note(fmt.Sprintf("%s{instance=%q} is %q", a.Name, a.Instance, a.State))
		}
		k := key{r, s}
		if seen[k]++; seen[k] == 2 {
			dup++
			note(fmt.Sprintf("%s{instance=%q} listed twice", a.Name, a.Instance))
		}
	}
	missing := l.Alerts() - len(seen)
	if missing > 0 && example == "" {
		for r := range l.Rules {
			for s := range l.Series {
				if seen[key{r, s}] == 0 && example == "" {
					note(fmt.Sprintf("BenchAlert%d{instance=\"host-%d:9100\"} missing", r, s))
				}
			}
		}
	}
	if missing == 0 && extra == 0 && wrongState == 0 && dup == 0 {
		return nil
	}
	return fmt.Errorf("%d alerts, want %d %s: %d missing, %d unexpected, %d not %s, %d listed twice (e.g. %s)",
		len(alerts), l.Alerts(), want, missing, extra, wrongState, want, dup, example)
}

// index returns n of prefix<n>.
func index(s, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0 && strconv.Itoa(n) == rest
}

// Exposition returns Values in the Prometheus text exposition format, one
// gauge family, for a scrape target whose series never change: rendered
// once, it costs the harness nothing per scrape, which matters at 100,000
// series on a machine the systems measured share.
func (l Load) Exposition() []byte {
	var b []byte
	b = append(b, "# TYPE bench_metric gauge\n"...)
	for r := range l.Rules {
		for s := range l.Series {
			b = fmt.Appendf(b, "bench_metric{instance=\"host-%d:9100\",job=\"bench\",rule=\"r%d\"} %d\n", s, r, s+1)
		}
	}
	return b
}

// CheckFiring returns an error unless firing, the number of firing
// alerts by rule name, is exactly the load's: Series for each of the rules
// BenchAlert<r>, and no other rule.
func (l Load) CheckFiring(firing map[string]float64) error {
	var wrong []string
	for r := range l.Rules {
		name := "BenchAlert" + strconv.Itoa(r)
		if n := firing[name]; n != float64(l.Series) {
			wrong = append(wrong, fmt.Sprintf("%s has %v", name, n))
		}
	}
	for name := range firing {
		if r, ok := index(name, "BenchAlert"); !ok || r >= l.Rules {
			wrong = append(wrong, "unexpected rule "+name)
		}
	}
	if len(wrong) == 0 {
		return nil
	}
	slices.Sort(wrong)
	return fmt.Errorf("%d rules not firing %d alerts each (e.g. %s)", len(wrong), l.Series, wrong[0])
}

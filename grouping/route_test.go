package grouping

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	amconfig "github.com/prometheus/alertmanager/config"
	amdispatch "github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

const routingConfig = `
route:
  receiver: default
  group_by: [alertname]
  routes:
  - matchers: ['team="db"', 'severity=~"page|critical"']
    receiver: db-pager
    group_by: [alertname, cluster]
    continue: true
    routes:
    - match: {env: prod}
      receiver: db-prod
      group_wait: 10s
  - match_re: {service: "mysql|cassandra"}
    receiver: db
    group_by: ['...']
    mute_time_intervals: [nights]
  - matchers: ['team="db"']
    receiver: db-all
    repeat_interval: 1h
  - matchers: ['instance!="x"', 'job=""']
    receiver: nojob
receivers: [{name: default}, {name: db-pager}, {name: db-prod}, {name: db}, {name: db-all}, {name: nojob}]
time_intervals:
- name: nights
  time_intervals: [{times: [{start_time: "22:00", end_time: "24:00"}]}]
`

// TestRouteIsAlertmanagers builds the same configuration with
// Alertmanager's own dispatch.NewRoute and compares keys, matches and
// options.
func TestRouteIsAlertmanagers(t *testing.T) {
	cfg, err := amconfig.Load(routingConfig)
	if err != nil {
		t.Fatal(err)
	}
	ours := NewRoute(cfg.Route, nil)
	theirs := amdispatch.NewRoute(cfg.Route, nil)

	type view struct {
		Key, Receiver          string
		GroupBy                []string
		GroupByAll             bool
		Wait, Interval, Repeat string
		Mute                   []string
	}
	var ov, tv []view
	ours.Walk(func(r *Route) {
		ov = append(ov, view{r.Key(), r.Opts.Receiver, r.Opts.GroupBy, r.Opts.GroupByAll, r.Opts.GroupWait.String(), r.Opts.GroupInterval.String(), r.Opts.RepeatInterval.String(), r.Opts.MuteTimeIntervals})
	})
	theirs.Walk(func(r *amdispatch.Route) {
		var gb []string
		for ln := range r.RouteOpts.GroupBy {
			gb = append(gb, string(ln))
		}
		if gb == nil {
			gb = []string{}
		}
		sortStrings(gb)
		ov0 := view{r.Key(), r.RouteOpts.Receiver, gb, r.RouteOpts.GroupByAll, r.RouteOpts.GroupWait.String(), r.RouteOpts.GroupInterval.String(), r.RouteOpts.RepeatInterval.String(), r.RouteOpts.MuteTimeIntervals}
		tv = append(tv, ov0)
	})
	for i := range ov {
		if ov[i].GroupBy == nil {
			ov[i].GroupBy = []string{}
		}
	}
	if diff := cmp.Diff(tv, ov); diff != "" {
		t.Errorf("routes (-alertmanager +alertd):\n%s", diff)
	}

	for _, ls := range []labels.Labels{
		labels.FromStrings("alertname", "A"),
		labels.FromStrings("alertname", "A", "team", "db", "severity", "page", "env", "prod", "cluster", "c1"),
		labels.FromStrings("alertname", "A", "team", "db", "severity", "info"),
		labels.FromStrings("alertname", "A", "service", "mysql", "job", "j"),
		labels.FromStrings("alertname", "A", "service", "mysqlx"),
		labels.FromStrings("alertname", "A", "instance", "y"),
		labels.FromStrings("alertname", "A", "instance", "x"),
	} {
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
			want = append(want, r.Key()+":"+gl.String())
		}
		for _, r := range ours.Match(ls) {
			got = append(got, r.Key()+":"+labelSetString(r.groupLabels(ls)))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: group keys (-alertmanager +alertd):\n%s", ls, diff)
		}
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

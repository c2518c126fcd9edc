package grouping

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"
)

// Alertmanager's route defaults (dispatch.DefaultRouteOpts).
const (
	DefaultGroupWait      = 30 * time.Second
	DefaultGroupInterval  = 5 * time.Minute
	DefaultRepeatInterval = 4 * time.Hour
)

// RouteOpts are the options an alert gets from the route it lands in.
type RouteOpts struct {
	Receiver            string
	GroupBy             []string // sorted
	GroupByAll          bool
	GroupWait           time.Duration
	GroupInterval       time.Duration
	RepeatInterval      time.Duration
	MuteTimeIntervals   []string
	ActiveTimeIntervals []string
}

// Route is a node of the routing tree, built from Alertmanager's
// configuration with Alertmanager's inheritance rules.
type Route struct {
	parent   *Route
	Opts     RouteOpts
	Matchers amlabels.Matchers
	Continue bool
	Routes   []*Route
	key      string
}

// NewRoute builds the routing tree of cr (the root when parent is nil).
func NewRoute(cr *amconfig.Route, parent *Route) *Route {
	opts := RouteOpts{GroupWait: DefaultGroupWait, GroupInterval: DefaultGroupInterval, RepeatInterval: DefaultRepeatInterval}
	if parent != nil {
		opts = parent.Opts
	}
	if cr.Receiver != "" {
		opts.Receiver = cr.Receiver
	}
	if cr.GroupBy != nil {
		opts.GroupBy = make([]string, 0, len(cr.GroupBy))
		for _, ln := range cr.GroupBy {
			opts.GroupBy = append(opts.GroupBy, string(ln))
		}
		slices.Sort(opts.GroupBy)
		opts.GroupByAll = false
	} else if cr.GroupByAll {
		opts.GroupByAll = true
	}
	if cr.GroupWait != nil {
		opts.GroupWait = time.Duration(*cr.GroupWait)
	}
	if cr.GroupInterval != nil {
		opts.GroupInterval = time.Duration(*cr.GroupInterval)
	}
	if cr.RepeatInterval != nil {
		opts.RepeatInterval = time.Duration(*cr.RepeatInterval)
	}
	// Time intervals are not inherited (Alertmanager assigns them as is).
	opts.MuteTimeIntervals = cr.MuteTimeIntervals
	opts.ActiveTimeIntervals = cr.ActiveTimeIntervals

	var ms amlabels.Matchers
	for ln, lv := range cr.Match {
		m, err := amlabels.NewMatcher(amlabels.MatchEqual, ln, lv)
		if err == nil { // validated by the configuration
			ms = append(ms, m)
		}
	}
	for ln, lv := range cr.MatchRE {
		m, err := amlabels.NewMatcher(amlabels.MatchRegexp, ln, lv.String())
		if err == nil {
			ms = append(ms, m)
		}
	}
	ms = append(ms, cr.Matchers...)
	sort.Sort(ms)

	r := &Route{parent: parent, Opts: opts, Matchers: ms, Continue: cr.Continue}
	if parent != nil {
		r.key = parent.key + "/" + ms.String()
	} else {
		r.key = ms.String()
	}
	for _, child := range cr.Routes {
		r.Routes = append(r.Routes, NewRoute(child, r))
	}
	return r
}

// Key is Alertmanager's route key: the matchers of the route and its
// parents, e.g. {}/{team="db"}. Sibling routes with the same matchers
// share it, as in Alertmanager.
func (r *Route) Key() string { return r.key }

// ID is unique: the key with the child index of each level.
func (r *Route) ID() string {
	if r.parent == nil {
		return r.key
	}
	for i, s := range r.parent.Routes {
		if s == r {
			return r.parent.ID() + "/" + r.Matchers.String() + "/" + strconv.Itoa(i)
		}
	}
	return r.key
}

// Matches reports whether every matcher of the route matches lset; a
// missing label is matched as the empty string.
func (r *Route) Matches(lset labels.Labels) bool { return matches(r.Matchers, lset) }

func matches(ms amlabels.Matchers, lset labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

// Match returns the routes an alert with lset goes to: depth first, left
// to right, the first matching child ends the search unless it has
// continue; a node none of whose children match is itself the match.
func (r *Route) Match(lset labels.Labels) []*Route {
	if !r.Matches(lset) {
		return nil
	}
	var all []*Route
	for _, c := range r.Routes {
		m := c.Match(lset)
		all = append(all, m...)
		if m != nil && !c.Continue {
			break
		}
	}
	if len(all) == 0 {
		all = append(all, r)
	}
	return all
}

// Walk visits the tree depth first.
func (r *Route) Walk(visit func(*Route)) {
	visit(r)
	for _, c := range r.Routes {
		c.Walk(visit)
	}
}

// groupLabels returns the labels of lset the route groups by.
func (r *Route) groupLabels(lset labels.Labels) labels.Labels {
	if r.Opts.GroupByAll {
		return lset
	}
	if len(r.Opts.GroupBy) == 0 {
		return labels.EmptyLabels()
	}
	b := labels.NewScratchBuilder(len(r.Opts.GroupBy))
	for _, n := range r.Opts.GroupBy {
		if v := lset.Get(n); v != "" {
			b.Add(n, v)
		}
	}
	return b.Labels() // GroupBy is sorted, so the labels are too
}

// labelSetString is prometheus/common's model.LabelSet.String(): sorted,
// ", " separated, values quoted.
func labelSetString(ls labels.Labels) string {
	var b strings.Builder
	b.WriteByte('{')
	i := 0
	ls.Range(func(l labels.Label) {
		if i > 0 {
			b.WriteString(", ")
		}
		i++
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	})
	b.WriteByte('}')
	return b.String()
}

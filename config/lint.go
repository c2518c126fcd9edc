package config

import (
	"cmp"
	"fmt"
	"maps"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	amconfig "github.com/prometheus/alertmanager/config"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	yamlv3 "go.yaml.in/yaml/v3"
)

// The lints of LintRouting, by the names --lint takes.
const (
	LintUnreachableRoute = "unreachable-route"
	LintUnusedReceiver   = "unused-receiver"
)

// RoutingLints lists the lints of LintRouting in the order they are
// documented.
var RoutingLints = []string{LintUnreachableRoute, LintUnusedReceiver}

// RoutingFinding is one finding of LintRouting.
type RoutingFinding struct {
	Lint string // one of RoutingLints
	Line int    // 0 when not known
	// Route is the path of the route in the tree, e.g.
	// route.routes[1].routes[0]; "" for a finding about a receiver.
	Route string
	// Receiver is the receiver of a finding about a receiver.
	Receiver string
	Msg      string
}

// LintRouting checks the routing tree for routes no alert can reach and
// receivers no reachable route names; docs/check.md defines both. src is
// the text the configuration was loaded from, for line numbers (nil: no
// lines). enabled selects the lints by name.
func (c *Config) LintRouting(src []byte, enabled map[string]bool) []RoutingFinding {
	if c.Alertmanager == nil || c.Alertmanager.Route == nil {
		return nil
	}
	l := &routeLint{used: map[string]bool{}, unreachableUse: map[string][]string{}}
	var root, receivers *yamlv3.Node
	var doc yamlv3.Node
	if src != nil && yamlv3.Unmarshal(src, &doc) == nil && len(doc.Content) > 0 {
		root = mapValue(doc.Content[0], "route")
		receivers = mapValue(doc.Content[0], "receivers")
	}
	r := c.Alertmanager.Route
	l.used[r.Receiver] = true
	l.walk(r, root, "route", nil)
	var out []RoutingFinding
	if enabled[LintUnreachableRoute] {
		out = append(out, l.findings...)
	}
	if enabled[LintUnusedReceiver] {
		for i, rc := range c.Alertmanager.Receivers {
			if l.used[rc.Name] {
				continue
			}
			f := RoutingFinding{Lint: LintUnusedReceiver, Receiver: rc.Name, Line: seqItemLine(receivers, i, "name")}
			if paths := l.unreachableUse[rc.Name]; len(paths) > 0 {
				f.Msg = fmt.Sprintf("receiver %q is named only by unreachable routes (%s): no alert is sent to it", rc.Name, strings.Join(paths, ", "))
			} else {
				f.Msg = fmt.Sprintf("receiver %q is named by no route: no alert is sent to it", rc.Name)
			}
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b RoutingFinding) int { return cmp.Compare(a.Line, b.Line) })
	return out
}

type routeLint struct {
	findings []RoutingFinding
	// used holds the receivers of reachable routes.
	used map[string]bool
	// unreachableUse lists, per receiver, the unreachable routes naming it.
	unreachableUse map[string][]string
}

// walk visits the children of the reachable route r at path, whose
// matchers and its parents' are inherited.
func (l *routeLint) walk(r *amconfig.Route, node *yamlv3.Node, path string, inherited amlabels.Matchers) {
	all := append(slices.Clone(inherited), routeMatchers(r)...)
	children := mapValue(node, "routes")
	var live []int // the children that can match
	for i, child := range r.Routes {
		if child == nil {
			continue
		}
		cpath := fmt.Sprintf("%s.routes[%d]", path, i)
		cnode := seqItem(children, i)
		own := routeMatchers(child)
		call := append(slices.Clone(all), own...)
		reason := unsatisfiable(call)
		if reason == "" {
			for _, j := range live {
				sib := r.Routes[j]
				if !sib.Continue && impliesAll(call, routeMatchers(sib)) {
					sibNode := seqItem(children, j)
					where := ""
					if sibNode != nil {
						where = " (line " + strconv.Itoa(sibNode.Line) + ")"
					}
					reason = fmt.Sprintf("the earlier sibling %s.routes[%d] %s%s matches every alert it would match and does not continue", path, j, describe(routeMatchers(sib)), where)
					break
				}
			}
		}
		if reason == "" {
			live = append(live, i)
			if child.Receiver != "" {
				l.used[child.Receiver] = true
			}
			l.walk(child, cnode, cpath, all)
			continue
		}
		line := 0
		if cnode != nil {
			line = cnode.Line
		}
		l.findings = append(l.findings, RoutingFinding{
			Lint: LintUnreachableRoute, Line: line, Route: cpath, Receiver: child.Receiver,
			Msg: fmt.Sprintf("%s %s is never reached: %s", cpath, describe(own), reason),
		})
		l.markUnreachable(child, cpath)
	}
}

func (l *routeLint) markUnreachable(r *amconfig.Route, path string) {
	if r.Receiver != "" {
		l.unreachableUse[r.Receiver] = append(l.unreachableUse[r.Receiver], path)
	}
	for i, c := range r.Routes {
		if c != nil {
			l.markUnreachable(c, fmt.Sprintf("%s.routes[%d]", path, i))
		}
	}
}

// describe shows the matchers of a route for messages.
func describe(ms amlabels.Matchers) string {
	if len(ms) == 0 {
		return "(no matchers)"
	}
	return ms.String()
}

// routeMatchers returns the matchers of a route as Alertmanager's routing
// builds them: match, match_re and matchers together.
func routeMatchers(r *amconfig.Route) amlabels.Matchers {
	var ms amlabels.Matchers
	for _, k := range slices.Sorted(maps.Keys(r.Match)) {
		if m, err := amlabels.NewMatcher(amlabels.MatchEqual, k, r.Match[k]); err == nil {
			ms = append(ms, m)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.MatchRE)) {
		if m, err := amlabels.NewMatcher(amlabels.MatchRegexp, k, r.MatchRE[k].Original); err == nil {
			ms = append(ms, m)
		}
	}
	return append(ms, r.Matchers...)
}

// maxValues bounds the values enumerated from a regular expression.
const maxValues = 256

// possibleValues returns the values of label name that every matcher of ms
// on that name accepts, when the matchers confine it to a finite set
// (an equality, or a regular expression like "a|b"); ok is false when they
// do not.
func possibleValues(ms amlabels.Matchers, name string) (vals []string, ok bool) {
	var set map[string]bool
	for _, m := range ms {
		if m.Name != name {
			continue
		}
		var these []string
		switch m.Type {
		case amlabels.MatchEqual:
			these = []string{m.Value}
		case amlabels.MatchRegexp:
			var fin bool
			if these, fin = finiteLanguage(m.Value); !fin {
				continue
			}
		default:
			continue
		}
		if set == nil {
			set = map[string]bool{}
			for _, v := range these {
				set[v] = true
			}
			continue
		}
		next := map[string]bool{}
		for _, v := range these {
			if set[v] {
				next[v] = true
			}
		}
		set = next
	}
	if set == nil {
		return nil, false
	}
	for _, v := range slices.Sorted(maps.Keys(set)) {
		if matchesAll(ms, name, v) {
			vals = append(vals, v)
		}
	}
	return vals, true
}

func matchesAll(ms amlabels.Matchers, name, v string) bool {
	for _, m := range ms {
		if m.Name == name && !m.Matches(v) {
			return false
		}
	}
	return true
}

// unsatisfiable says why no label set matches all of ms, or "" if some
// may.
func unsatisfiable(ms amlabels.Matchers) string {
	var names []string
	for _, m := range ms {
		if !slices.Contains(names, m.Name) {
			names = append(names, m.Name)
		}
	}
	for _, name := range names {
		var on amlabels.Matchers
		for _, m := range ms {
			if m.Name == name {
				on = append(on, m)
			}
		}
		if len(on) < 2 {
			continue
		}
		if vals, ok := possibleValues(on, name); ok && len(vals) == 0 {
			return fmt.Sprintf("no value of label %q matches all of %s", name, on)
		}
		for _, a := range on {
			for _, b := range on {
				if a.Value == b.Value && (a.Type == amlabels.MatchRegexp && b.Type == amlabels.MatchNotRegexp) {
					return fmt.Sprintf("no value of label %q matches all of %s", name, on)
				}
			}
		}
	}
	return ""
}

// impliesAll reports whether every label set matching all of have matches
// all of want too.
func impliesAll(have, want amlabels.Matchers) bool {
	for _, w := range want {
		if !implies(have, w) {
			return false
		}
	}
	return true
}

func implies(have amlabels.Matchers, w *amlabels.Matcher) bool {
	for _, h := range have {
		if h.Name == w.Name && h.Type == w.Type && h.Value == w.Value {
			return true
		}
	}
	if w.Type == amlabels.MatchRegexp && (w.Value == ".*" || w.Value == "(.*)") {
		return true
	}
	vals, ok := possibleValues(have, w.Name)
	if !ok {
		return false
	}
	for _, v := range vals {
		if !w.Matches(v) {
			return false
		}
	}
	return true
}

// finiteLanguage returns the strings a regular expression fully matches
// (Alertmanager anchors them) when they are few; ok is false when they are
// many or infinite, or the expression is beyond this simple reading.
func finiteLanguage(expr string) ([]string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false
	}
	vals, ok := language(re.Simplify())
	if !ok {
		return nil, false
	}
	slices.Sort(vals)
	return slices.Compact(vals), true
}

func language(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine:
		// Anchors match the empty string at the ends, which is where a
		// fully anchored match puts them; elsewhere they make the
		// enumeration a superset, which callers filter.
		return []string{""}, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if int(re.Rune[i+1]-re.Rune[i])+len(out) >= maxValues {
				return nil, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				out = append(out, string(r))
			}
		}
		return out, true
	case syntax.OpCapture:
		return language(re.Sub[0])
	case syntax.OpQuest:
		sub, ok := language(re.Sub[0])
		return append(sub, ""), ok
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			sub, ok := language(s)
			if !ok || len(out)+len(sub) > maxValues {
				return nil, false
			}
			out = append(out, sub...)
		}
		return out, true
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range re.Sub {
			sub, ok := language(s)
			if !ok || len(out)*len(sub) > maxValues {
				return nil, false
			}
			next := make([]string, 0, len(out)*len(sub))
			for _, a := range out {
				for _, b := range sub {
					next = append(next, a+b)
				}
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

func mapValue(n *yamlv3.Node, key string) *yamlv3.Node {
	if n == nil || n.Kind != yamlv3.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func seqItem(n *yamlv3.Node, i int) *yamlv3.Node {
	if n == nil || n.Kind != yamlv3.SequenceNode || i >= len(n.Content) {
		return nil
	}
	return n.Content[i]
}

// seqItemLine is the line of key in item i of sequence n, else of the
// item, else 0.
func seqItemLine(n *yamlv3.Node, i int, key string) int {
	item := seqItem(n, i)
	if v := mapValue(item, key); v != nil {
		return v.Line
	}
	if item != nil {
		return item.Line
	}
	return 0
}

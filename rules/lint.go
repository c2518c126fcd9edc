package rules

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/template/parse"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// The lints of Lint, by the names --lint takes. DuplicateRules is
// promtool's name for the same check.
const (
	LintDuplicateRules = "duplicate-rules"
	LintTemplateRender = "template-render"
	LintLabelChurn     = "label-churn"
	LintLabelOverride  = "label-override"
)

// Lints lists the lints of Lint in the order they are documented.
var Lints = []string{LintDuplicateRules, LintTemplateRender, LintLabelChurn, LintLabelOverride}

// SampleValue is the $value templates are rendered with by the
// template-render lint.
const SampleValue = 1.5

// SampleLabelValues are the values the template-render lint gives, in
// turn, to the series labels whose value the expression does not fix: a
// number, which humanize and friends accept, then a duration, which
// parseDuration accepts. A template fails the lint only if it fails with
// each.
var SampleLabelValues = []string{"1", "1m"}

// Finding is one lint finding: a problem that does not stop the file from
// loading.
type Finding struct {
	Lint  string // one of Lints
	File  string
	Line  int
	Group string
	// Rule is the 1-based index of the rule in its group, 0 for a finding
	// about the group.
	Rule     int
	RuleName string
	Msg      string
}

// String formats the finding as rules.Error formats errors, with the lint's
// name at the end: file:line: group "g", rule 2, "Name": msg [lint].
func (f *Finding) String() string {
	e := Error{File: f.File, Line: f.Line, Msg: f.Msg + " [" + f.Lint + "]"}
	switch {
	case f.Rule > 0:
		e.Msg = fmt.Sprintf("group %q, rule %d, %q: %s", f.Group, f.Rule, f.RuleName, e.Msg)
	case f.Group != "":
		e.Msg = fmt.Sprintf("group %q: %s", f.Group, e.Msg)
	}
	return e.Error()
}

// RenderFunc expands one alert label or annotation template text of the
// alert named alert, with series as $labels and value as $value, the way
// rule evaluation does, and returns the execution error if any.
type RenderFunc func(alert, text string, series map[string]string, value float64) error

// LintOptions selects the lints Lint runs.
type LintOptions struct {
	// Enabled holds the names of the lints to run; nil or empty runs none.
	Enabled map[string]bool
	// Render is the template expansion of the template-render lint; nil
	// disables that lint. It is given, not imported, because template
	// expansion belongs to eval.
	Render RenderFunc
}

// Lint checks loaded groups (of one or more files, in load order) for what
// loads but misbehaves on call: see docs/check.md for each lint's exact
// definition. Findings are sorted by file (in the order files first appear
// in groups), line and lint.
func Lint(groups []*Group, opts LintOptions) []Finding {
	var out []Finding
	if opts.Enabled[LintDuplicateRules] {
		out = append(out, lintDuplicates(groups)...)
	}
	p := parser.NewParser(parser.Options{})
	for _, g := range groups {
		if opts.Enabled[LintLabelChurn] {
			out = append(out, lintGroupChurn(g)...)
		}
		for ri := range g.Rules {
			r := &g.Rules[ri]
			expr, err := p.ParseExpr(r.Expr)
			if err != nil {
				continue // Parse rejected it already
			}
			rl := ruleLint{g: g, r: r, idx: ri + 1, res: resultLabels(expr), opts: &opts}
			out = append(out, rl.run()...)
		}
	}
	order := map[string]int{}
	for _, g := range groups {
		if _, ok := order[g.File]; !ok {
			order[g.File] = len(order)
		}
	}
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(order[a.File], order[b.File]),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(slices.Index(Lints, a.Lint), slices.Index(Lints, b.Lint)),
			strings.Compare(a.Msg, b.Msg),
		)
	})
	return out
}

// lintDuplicates reports every rule after the first with the same name and
// the same labels (group labels overridden by rule labels), across all
// groups: promtool's duplicate-rules lint, over a set of files.
func lintDuplicates(groups []*Group) []Finding {
	type first struct {
		file string
		line int
	}
	seen := map[string]first{}
	var out []Finding
	for _, g := range groups {
		for ri, r := range g.Rules {
			merged := map[string]string{}
			maps.Copy(merged, g.Labels)
			maps.Copy(merged, r.Labels)
			ls := labels.FromMap(merged)
			key := r.Name() + "\xff" + ls.String()
			f, ok := seen[key]
			if !ok {
				seen[key] = first{g.File, r.Line}
				continue
			}
			where := fmt.Sprintf("line %d", f.line)
			if f.file != g.File {
				where = fmt.Sprintf("%s:%d", f.file, f.line)
			}
			kind := "alert"
			if r.Alert == "" {
				kind = "recording rule"
			}
			out = append(out, Finding{
				Lint: LintDuplicateRules, File: g.File, Line: r.Line, Group: g.Name, Rule: ri + 1, RuleName: r.Name(),
				Msg: fmt.Sprintf("duplicate %s: same name and labels %s as at %s; their alerts or series are indistinguishable", kind, ls.String(), where),
			})
		}
	}
	return out
}

type ruleLint struct {
	g    *Group
	r    *Rule
	idx  int
	res  labelSet
	opts *LintOptions
}

func (l *ruleLint) finding(lint, msg string) Finding {
	return Finding{Lint: lint, File: l.g.File, Line: l.r.Line, Group: l.g.Name, Rule: l.idx, RuleName: l.r.Name(), Msg: msg}
}

// label is one label an alert or record gets from its rule, with where it
// was written.
type label struct {
	name, value string
	group       bool // a group label not overridden by the rule
}

func (l *ruleLint) labels() []label {
	var out []label
	for _, k := range slices.Sorted(maps.Keys(l.g.Labels)) {
		if _, ok := l.r.Labels[k]; !ok {
			out = append(out, label{name: k, value: l.g.Labels[k], group: true})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(l.r.Labels)) {
		out = append(out, label{name: k, value: l.r.Labels[k]})
	}
	slices.SortFunc(out, func(a, b label) int { return strings.Compare(a.name, b.name) })
	return out
}

func (lb label) what() string {
	if lb.group {
		return fmt.Sprintf("group label %q", lb.name)
	}
	return fmt.Sprintf("label %q", lb.name)
}

func (l *ruleLint) run() []Finding {
	var out []Finding
	lbls := l.labels()
	alerting := l.r.Alert != ""
	// Prometheus expands templates in alerting rules' labels and
	// annotations only; a recording rule's labels are literal.
	tmpls := map[string]templateInfo{}
	if alerting {
		for _, lb := range lbls {
			tmpls["l\xff"+lb.name] = inspectTemplate(lb.value)
		}
		for k, v := range l.r.Annotations {
			tmpls["a\xff"+k] = inspectTemplate(v)
		}
	}
	if l.opts.Enabled[LintLabelOverride] {
		for _, lb := range lbls {
			info, ok := l.res.known[lb.name]
			if !ok || (info.fixed && info.value == lb.value) || (alerting && tmpls["l\xff"+lb.name].readsLabel(lb.name)) {
				continue
			}
			msg := fmt.Sprintf("%s replaces the series label %q that the expression's result carries (%s)", lb.what(), lb.name, info.why)
			if info.fixed {
				msg += fmt.Sprintf(": %q becomes %q", info.value, lb.value)
			} else {
				msg += ": the series' values are lost"
			}
			out = append(out, l.finding(LintLabelOverride, msg))
		}
	}
	if !alerting {
		return out
	}
	if l.opts.Enabled[LintLabelChurn] {
		for _, lb := range lbls {
			// Group labels are reported once, by lintGroupChurn.
			if src := tmpls["l\xff"+lb.name].churn; src != "" && !lb.group {
				out = append(out, l.finding(LintLabelChurn, churnMsg(lb.what(), src)))
			}
		}
	}
	if l.opts.Enabled[LintTemplateRender] && l.opts.Render != nil {
		render := func(what, text string, ti templateInfo) {
			var (
				series map[string]string
				err    error
			)
			for i := len(SampleLabelValues) - 1; i >= 0; i-- {
				series = l.sampleSeries(tmpls, SampleLabelValues[i])
				if err = l.opts.Render(l.r.Alert, text, series, SampleValue); err == nil {
					return
				}
			}
			// series and err are those of the first sample value.
			msg := fmt.Sprintf("%s does not render with $labels=%s $value=%v: %v", what, labels.FromMap(series), SampleValue, err)
			var missing []string
			for _, k := range ti.labelRefs {
				if _, ok := series[k]; !ok {
					missing = append(missing, strconv.Quote(k))
				}
			}
			if len(missing) > 0 {
				msg += fmt.Sprintf(" (the expression's result has no label %s)", strings.Join(missing, ", "))
			}
			out = append(out, l.finding(LintTemplateRender, msg))
		}
		for _, lb := range lbls {
			render(lb.what(), lb.value, tmpls["l\xff"+lb.name])
		}
		for _, k := range slices.Sorted(maps.Keys(l.r.Annotations)) {
			render(fmt.Sprintf("annotation %q", k), l.r.Annotations[k], tmpls["a\xff"+k])
		}
	}
	return out
}

func churnMsg(what, src string) string {
	return fmt.Sprintf("%s prints %s: every new value makes a new alert, which resolves the old one and restarts 'for'", what, src)
}

// lintGroupChurn reports the churning group labels of a group once, when
// some alerting rule of the group does not override them (recording rules'
// labels are not templates).
func lintGroupChurn(g *Group) []Finding {
	var out []Finding
	for _, k := range slices.Sorted(maps.Keys(g.Labels)) {
		used := slices.ContainsFunc(g.Rules, func(r Rule) bool {
			_, overridden := r.Labels[k]
			return r.Alert != "" && !overridden
		})
		if !used {
			continue
		}
		if src := inspectTemplate(g.Labels[k]).churn; src != "" {
			lb := label{name: k, group: true}
			out = append(out, Finding{Lint: LintLabelChurn, File: g.File, Line: g.Line, Group: g.Name, Msg: churnMsg(lb.what(), src)})
		}
	}
	return out
}

// sampleSeries returns the $labels the template-render lint uses: the
// labels the expression's result is known to carry, with their fixed
// value or sample, plus, when the result may carry labels beyond those,
// every label a template reads, as sample.
func (l *ruleLint) sampleSeries(tmpls map[string]templateInfo, sample string) map[string]string {
	series := map[string]string{}
	for k, info := range l.res.known {
		if info.fixed {
			series[k] = info.value
		} else {
			series[k] = sample
		}
	}
	if !l.res.closed {
		for _, ti := range tmpls {
			for _, k := range ti.labelRefs {
				if _, ok := series[k]; !ok && k != model.MetricNameLabel {
					series[k] = sample
				}
			}
		}
	}
	return series
}

// templatePrefix is what Prometheus prepends to every alert template; its
// variables must be declared for the text to parse.
const templatePrefix = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// templateInfo is what the lints need to know of one template text.
type templateInfo struct {
	// labelRefs are the series labels it reads: $labels.x, .Labels.x,
	// index $labels "x".
	labelRefs []string
	// churn names what makes its output change from one evaluation to
	// the next without the series changing ("$value", "now", ...), or ""
	// if nothing does.
	churn string
}

func (ti templateInfo) readsLabel(name string) bool { return slices.Contains(ti.labelRefs, name) }

// inspectTemplate parses text as an alert template (functions unchecked:
// Parse has checked them) and walks it. A text that does not parse gives
// the zero templateInfo.
func inspectTemplate(text string) templateInfo {
	if !strings.Contains(text, "{{") {
		return templateInfo{}
	}
	t := parse.New("lint")
	t.Mode = parse.SkipFuncCheck
	if _, err := t.Parse(templatePrefix+text, "", "", map[string]*parse.Tree{}); err != nil || t.Root == nil {
		return templateInfo{}
	}
	w := &tmplWalker{tainted: map[string]string{}}
	w.list(t.Root, dotRoot)
	slices.Sort(w.info.labelRefs)
	w.info.labelRefs = slices.Compact(w.info.labelRefs)
	return w.info
}

// tmplWalker follows where values that change on every evaluation (the
// sample value, the clock, query results' values) flow in a template: into
// variables, into the dot of with and range blocks, and into the output.
// Values used only in if conditions pick between texts and do not make the
// output churn.
// The dot of a template is the alert's data (dotRoot), query results
// (dotQuery), something else that does not change between evaluations
// (dotOther), or else a description of the changing value it holds.
const (
	dotRoot  = ""
	dotQuery = "\x00query"
	dotOther = "\x00"
)

type tmplWalker struct {
	info    templateInfo
	tainted map[string]string // variable → what it holds
}

func (w *tmplWalker) list(l *parse.ListNode, dot string) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		w.node(n, dot)
	}
}

func (w *tmplWalker) node(n parse.Node, dot string) {
	switch n := n.(type) {
	case *parse.ActionNode:
		src := w.pipe(n.Pipe, dot)
		if len(n.Pipe.Decl) > 0 {
			w.declare(n.Pipe, src)
		} else if src != "" && w.info.churn == "" {
			w.info.churn = src
		}
	case *parse.IfNode:
		w.pipe(n.Pipe, dot)
		w.list(n.List, dot)
		w.list(n.ElseList, dot)
	case *parse.WithNode:
		src := w.pipe(n.Pipe, dot)
		w.declare(n.Pipe, src)
		w.list(n.List, cmp.Or(src, blockDot(n.Pipe)))
		w.list(n.ElseList, dot)
	case *parse.RangeNode:
		src := w.pipe(n.Pipe, dot)
		w.declare(n.Pipe, src)
		w.list(n.List, cmp.Or(src, blockDot(n.Pipe)))
		w.list(n.ElseList, dot)
	case *parse.TemplateNode:
		if n.Pipe != nil {
			w.pipe(n.Pipe, dot)
		}
	case *parse.ListNode:
		w.list(n, dot)
	}
}

func (w *tmplWalker) declare(p *parse.PipeNode, src string) {
	if p == nil {
		return
	}
	for _, v := range p.Decl {
		if len(v.Ident) == 1 {
			w.tainted[v.Ident[0]] = src
		}
	}
}

// pipe returns what changing value the pipeline's result carries, and
// records the labels it reads.
func (w *tmplWalker) pipe(p *parse.PipeNode, dot string) string {
	if p == nil {
		return ""
	}
	src := ""
	for _, c := range p.Cmds {
		if s := w.cmd(c, dot); s != "" && src == "" {
			src = s
		}
	}
	return src
}

func (w *tmplWalker) cmd(c *parse.CommandNode, dot string) string {
	// index $labels "x" reads label x.
	if len(c.Args) == 3 {
		if id, ok := c.Args[0].(*parse.IdentifierNode); ok && id.Ident == "index" && isLabelsMap(c.Args[1]) {
			if s, ok := c.Args[2].(*parse.StringNode); ok {
				w.info.labelRefs = append(w.info.labelRefs, s.Text)
			}
		}
	}
	src := ""
	for _, a := range c.Args {
		if s := w.arg(a, dot); s != "" && src == "" {
			src = s
		}
	}
	return src
}

// taint is what changing value the dot holds, if any.
func taint(dot string) string {
	if dot == dotOther || dot == dotQuery {
		return ""
	}
	return dot
}

// blockDot is the unchanging dot of a with or range block over p: query
// results when p calls query.
func blockDot(p *parse.PipeNode) string {
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			if id, ok := a.(*parse.IdentifierNode); ok && id.Ident == "query" {
				return dotQuery
			}
		}
	}
	return dotOther
}

func isLabelsMap(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.VariableNode:
		return len(n.Ident) == 1 && n.Ident[0] == "$labels" || len(n.Ident) == 2 && n.Ident[0] == "$" && n.Ident[1] == "Labels"
	case *parse.FieldNode:
		return len(n.Ident) == 1 && n.Ident[0] == "Labels"
	}
	return false
}

func (w *tmplWalker) arg(n parse.Node, dot string) string {
	switch n := n.(type) {
	case *parse.VariableNode:
		id := n.Ident
		switch {
		case id[0] == "$labels" && len(id) >= 2:
			w.info.labelRefs = append(w.info.labelRefs, id[1])
			return ""
		case id[0] == "$" && len(id) >= 3 && id[1] == "Labels":
			w.info.labelRefs = append(w.info.labelRefs, id[2])
			return ""
		case id[0] == "$" && len(id) >= 2 && id[1] == "Value":
			return "$value"
		}
		return w.tainted[id[0]]
	case *parse.FieldNode:
		switch {
		case dot == dotRoot && n.Ident[0] == "Labels" && len(n.Ident) >= 2:
			w.info.labelRefs = append(w.info.labelRefs, n.Ident[1])
			return ""
		case dot == dotRoot && n.Ident[0] == "Value":
			return "$value"
		case dot == dotQuery && n.Ident[0] == "Value":
			return "a query result's value" // a sample's, in range query
		}
		return taint(dot)
	case *parse.DotNode:
		return taint(dot)
	case *parse.ChainNode:
		return w.arg(n.Node, dot)
	case *parse.PipeNode:
		return w.pipe(n, dot)
	case *parse.IdentifierNode:
		switch n.Ident {
		case "now":
			return "the time (now)"
		case "value", "strvalue":
			return "a query result's value"
		}
	}
	return ""
}

// labelInfo is what the result of an expression is known to carry for one
// label.
type labelInfo struct {
	fixed bool   // every result series has value
	value string // when fixed
	why   string // the part of the expression that puts the label there
}

// labelSet is what a static reading of an expression says about the labels
// of its result series.
type labelSet struct {
	// known labels are carried by every result series, with a non-empty
	// value.
	known map[string]labelInfo
	// closed: the result carries no label outside known.
	closed bool
}

func closedEmpty() labelSet { return labelSet{known: map[string]labelInfo{}, closed: true} }

func (s labelSet) clone() labelSet {
	return labelSet{known: maps.Clone(s.known), closed: s.closed}
}

// resultLabels reads the labels an expression's result carries, as
// Prometheus's evaluation builds them: selectors keep their series' labels
// (those matched non-empty are known), aggregations keep their by labels or
// drop their without labels, one-to-one binary operations with on keep only
// those labels, group_left/group_right add their labels, label_replace and
// label_join add their target label. It errs towards knowing less.
func resultLabels(e parser.Expr) labelSet {
	switch e := e.(type) {
	case *parser.VectorSelector:
		s := labelSet{known: map[string]labelInfo{}}
		for _, m := range e.LabelMatchers {
			if m.Name == model.MetricNameLabel || m.Matches("") {
				continue
			}
			info := s.known[m.Name]
			if !info.fixed {
				info = labelInfo{why: "matched by " + e.String()}
				if m.Type == labels.MatchEqual {
					info.fixed, info.value = true, m.Value
				}
			}
			s.known[m.Name] = info
		}
		return s
	case *parser.MatrixSelector:
		return resultLabels(e.VectorSelector)
	case *parser.SubqueryExpr:
		return resultLabels(e.Expr)
	case *parser.ParenExpr:
		return resultLabels(e.Expr)
	case *parser.StepInvariantExpr:
		return resultLabels(e.Expr)
	case *parser.UnaryExpr:
		return resultLabels(e.Expr)
	case *parser.Call:
		return callLabels(e)
	case *parser.AggregateExpr:
		return aggregateLabels(e)
	case *parser.BinaryExpr:
		return binaryLabels(e)
	}
	return closedEmpty() // literals
}

func isVector(e parser.Expr) bool {
	return e.Type() == parser.ValueTypeVector || e.Type() == parser.ValueTypeMatrix
}

func callLabels(e *parser.Call) labelSet {
	switch e.Func.Name {
	case "absent", "absent_over_time":
		s := closedEmpty()
		if len(e.Args) == 1 {
			if vs, ok := unwrapSelector(e.Args[0]); ok {
				// absent's result has the labels of its selector's
				// equality matchers, when they are unambiguous.
				count := map[string]int{}
				for _, m := range vs.LabelMatchers {
					if m.Type == labels.MatchEqual && m.Name != model.MetricNameLabel {
						count[m.Name]++
					}
				}
				for _, m := range vs.LabelMatchers {
					if m.Type == labels.MatchEqual && m.Name != model.MetricNameLabel && count[m.Name] == 1 && m.Value != "" {
						s.known[m.Name] = labelInfo{fixed: true, value: m.Value, why: "set by " + e.String()}
					}
				}
			}
		}
		return s
	}
	if e.Func.ReturnType != parser.ValueTypeVector {
		return closedEmpty()
	}
	i := slices.IndexFunc(e.Args, isVector)
	if i < 0 {
		return closedEmpty() // vector(s), time()-like
	}
	s := resultLabels(e.Args[i]).clone()
	switch e.Func.Name {
	case "label_replace", "label_join":
		if len(e.Args) > 1 {
			if dst, ok := e.Args[1].(*parser.StringLiteral); ok {
				s.known[dst.Val] = labelInfo{why: "set by " + e.Func.Name + "(…, " + strconv.Quote(dst.Val) + ", …)"}
			}
		}
	case "histogram_quantile", "histogram_fraction":
		delete(s.known, "le")
	case "info":
		s.closed = false
	}
	return s
}

func unwrapSelector(e parser.Expr) (*parser.VectorSelector, bool) {
	for {
		switch x := e.(type) {
		case *parser.VectorSelector:
			return x, true
		case *parser.MatrixSelector:
			e = x.VectorSelector
		case *parser.ParenExpr:
			e = x.Expr
		default:
			return nil, false
		}
	}
}

func aggregateLabels(e *parser.AggregateExpr) labelSet {
	in := resultLabels(e.Expr)
	switch e.Op {
	case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
		return in // they select series, labels and all
	}
	if e.Without {
		s := in.clone()
		for _, g := range e.Grouping {
			delete(s.known, g)
		}
		return s
	}
	s := closedEmpty()
	keep := func(name, why string) {
		if info, ok := in.known[name]; ok {
			s.known[name] = info
		} else if !in.closed {
			s.known[name] = labelInfo{why: why}
		}
	}
	by := "kept by by (" + strings.Join(e.Grouping, ", ") + ")"
	for _, g := range e.Grouping {
		keep(g, by)
	}
	if e.Op == parser.COUNT_VALUES {
		if p, ok := e.Param.(*parser.StringLiteral); ok {
			s.known[p.Val] = labelInfo{why: "set by count_values(" + strconv.Quote(p.Val) + ", …)"}
		}
	}
	return s
}

func binaryLabels(e *parser.BinaryExpr) labelSet {
	lv, rv := isVector(e.LHS), isVector(e.RHS)
	switch {
	case !lv && !rv:
		return closedEmpty()
	case !rv:
		return resultLabels(e.LHS)
	case !lv:
		return resultLabels(e.RHS)
	}
	l, r := resultLabels(e.LHS), resultLabels(e.RHS)
	switch e.Op {
	case parser.LAND, parser.LUNLESS:
		return l
	case parser.LOR:
		// Series from either side: known only what both sides carry.
		s := labelSet{known: map[string]labelInfo{}, closed: l.closed && r.closed}
		for k, li := range l.known {
			ri, ok := r.known[k]
			if !ok {
				continue
			}
			if li.fixed && (!ri.fixed || li.value != ri.value) {
				li.fixed, li.value = false, ""
			}
			s.known[k] = li
		}
		return s
	}
	vm := e.VectorMatching
	if vm == nil {
		return l
	}
	switch vm.Card {
	case parser.CardOneToOne:
		if !vm.On {
			s := l.clone()
			for _, k := range vm.MatchingLabels {
				delete(s.known, k)
			}
			return s
		}
		s := closedEmpty()
		why := "kept by on (" + strings.Join(vm.MatchingLabels, ", ") + ")"
		for _, k := range vm.MatchingLabels {
			li, lok := l.known[k]
			ri, rok := r.known[k]
			switch {
			case lok && (li.fixed || !rok || !ri.fixed):
				s.known[k] = li
			case rok:
				s.known[k] = ri
			case !l.closed && !r.closed:
				s.known[k] = labelInfo{why: why}
			}
		}
		return s
	case parser.CardManyToOne, parser.CardOneToMany:
		many, one, kw := l, r, "group_left"
		if vm.Card == parser.CardOneToMany {
			many, one, kw = r, l, "group_right"
		}
		s := many.clone()
		why := "copied by " + kw + " (" + strings.Join(vm.Include, ", ") + ")"
		for _, k := range vm.Include {
			if info, ok := one.known[k]; ok {
				s.known[k] = info
			} else {
				// The one side may lack it: then the result lacks it.
				delete(s.known, k)
				if !one.closed {
					s.known[k] = labelInfo{why: why}
				}
			}
		}
		return s
	}
	return l
}

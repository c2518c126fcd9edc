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
	LintMissingLabel   = "missing-label"
)

// Lints lists the lints of Lint in the order they are documented.
var Lints = []string{LintDuplicateRules, LintTemplateRender, LintLabelChurn, LintLabelOverride, LintMissingLabel}

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
	// Texts that fail to render: missing-label does not report them again.
	failed := map[string]bool{}
	if l.opts.Enabled[LintTemplateRender] && l.opts.Render != nil {
		render := func(what, key, text string) {
			ti := tmpls[key]
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
			failed[key] = true
			out = append(out, l.finding(LintTemplateRender, msg))
		}
		for _, lb := range lbls {
			render(lb.what(), "l\xff"+lb.name, lb.value)
		}
		for _, k := range slices.Sorted(maps.Keys(l.r.Annotations)) {
			render(fmt.Sprintf("annotation %q", k), "a\xff"+k, l.r.Annotations[k])
		}
	}
	if l.opts.Enabled[LintMissingLabel] {
		out = append(out, l.missingLabels(lbls, tmpls, failed)...)
	}
	return out
}

// missingLabels reports, once per label, the series labels that label and
// annotation templates print but that the expression's result can never
// carry: $labels holds the result series' labels only (not the rule's,
// nor alertname, nor external labels), so the label prints as "".
func (l *ruleLint) missingLabels(lbls []label, tmpls map[string]templateInfo, failed map[string]bool) []Finding {
	type texts struct{ labels, annots []string }
	where := map[string]*texts{} // series label → the texts printing it
	add := func(key string, to func(t *texts)) {
		if failed[key] {
			return
		}
		for _, k := range tmpls[key].printedRefs {
			if _, absent := l.res.absence(k); absent && !isMetadataLabel(k) {
				if where[k] == nil {
					where[k] = &texts{}
				}
				to(where[k])
			}
		}
	}
	for _, lb := range lbls {
		add("l\xff"+lb.name, func(t *texts) { t.labels = append(t.labels, lb.what()) })
	}
	for _, k := range slices.Sorted(maps.Keys(l.r.Annotations)) {
		add("a\xff"+k, func(t *texts) { t.annots = append(t.annots, strconv.Quote(k)) })
	}
	var out []Finding
	for _, k := range slices.Sorted(maps.Keys(where)) {
		t := where[k]
		parts := t.labels
		switch len(t.annots) {
		case 0:
		case 1:
			parts = append(parts, "annotation "+t.annots[0])
		default:
			parts = append(parts, "annotations "+andList(t.annots))
		}
		why, _ := l.res.absence(k)
		msg := fmt.Sprintf("%s is always empty in %s: the expression's result never carries label %q (%s)",
			labelRefText(k), andList(parts), k, why)
		if i := slices.IndexFunc(lbls, func(lb label) bool { return lb.name == k }); i >= 0 {
			msg += fmt.Sprintf("; $labels holds the result series' labels, not the rule's %s: write its value instead", lbls[i].what())
		}
		out = append(out, l.finding(LintMissingLabel, msg))
	}
	return out
}

// andList joins "a", "b" and "c".
func andList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// isMetadataLabel reports the labels whose presence depends on the
// engine's handling of metric names, which the analysis does not follow.
func isMetadataLabel(k string) bool {
	return k == model.MetricNameLabel || k == model.MetricTypeLabel || k == model.MetricUnitLabel
}

// labelRefText is how a template reads label k.
func labelRefText(k string) string {
	if model.LegacyValidation.IsValidLabelName(k) {
		return "$labels." + k
	}
	return fmt.Sprintf("index $labels %q", k)
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
// value or sample, those it may carry, as sample, plus, when the result
// may carry labels beyond those, every label a template reads that is not
// dropped, as sample.
func (l *ruleLint) sampleSeries(tmpls map[string]templateInfo, sample string) map[string]string {
	series := map[string]string{}
	for k, info := range l.res.known {
		if info.fixed {
			series[k] = info.value
		} else {
			series[k] = sample
		}
	}
	for k := range l.res.maybe {
		series[k] = sample
	}
	if !l.res.closed {
		for _, ti := range tmpls {
			for _, k := range ti.labelRefs {
				_, known := series[k]
				if _, absent := l.res.absence(k); !absent && !known && k != model.MetricNameLabel {
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
	// printedRefs are the labels of labelRefs whose value reaches the
	// output: printed, or piped through functions that print something
	// made of it (printf, reReplaceAll, toUpper…), and not under an if or
	// with that tests the same label. A label only compared, tested or
	// given a fallback (or, and) is not printed.
	printedRefs []string
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
	w := &tmplWalker{tainted: map[string]string{}, labelVars: map[string][]string{}, guarded: map[string]int{}}
	w.list(t.Root, dotRoot)
	for _, refs := range []*[]string{&w.info.labelRefs, &w.info.printedRefs} {
		slices.Sort(*refs)
		*refs = slices.Compact(*refs)
	}
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
// It follows series labels the same way, into variables and the output.
const (
	dotRoot  = ""
	dotQuery = "\x00query"
	dotOther = "\x00"
)

type tmplWalker struct {
	info    templateInfo
	tainted map[string]string // variable → what it holds
	// labelVars maps a variable to the labels whose text it holds.
	labelVars map[string][]string
	// guarded counts, for each label, the enclosing if, with and range
	// blocks whose pipeline reads it: there, printing it is deliberate.
	guarded map[string]int
}

// notPrinting are the template functions whose result is not made of
// their arguments' text: a truth value, a length, or (and, or) one of the
// arguments picked by whether it is empty — a label passed to them does not
// reach the output as such.
var notPrinting = map[string]bool{
	"and": true, "or": true, "not": true, "eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true,
	"len": true, "match": true,
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
		src, printed := w.pipe(n.Pipe, dot)
		if len(n.Pipe.Decl) > 0 {
			w.declare(n.Pipe, src, printed)
			return
		}
		if src != "" && w.info.churn == "" {
			w.info.churn = src
		}
		for _, k := range printed {
			if w.guarded[k] == 0 {
				w.info.printedRefs = append(w.info.printedRefs, k)
			}
		}
	case *parse.IfNode:
		read := len(w.info.labelRefs)
		w.pipe(n.Pipe, dot)
		w.block(w.info.labelRefs[read:], func() {
			w.list(n.List, dot)
			w.list(n.ElseList, dot)
		})
	case *parse.WithNode:
		read := len(w.info.labelRefs)
		src, printed := w.pipe(n.Pipe, dot)
		w.declare(n.Pipe, src, printed)
		w.block(w.info.labelRefs[read:], func() {
			w.list(n.List, cmp.Or(src, blockDot(n.Pipe)))
			w.list(n.ElseList, dot)
		})
	case *parse.RangeNode:
		read := len(w.info.labelRefs)
		src, _ := w.pipe(n.Pipe, dot)
		w.declare(n.Pipe, src, nil) // its variables hold elements, not the pipeline's value
		w.block(w.info.labelRefs[read:], func() {
			w.list(n.List, cmp.Or(src, blockDot(n.Pipe)))
			w.list(n.ElseList, dot)
		})
	case *parse.TemplateNode:
		if n.Pipe != nil {
			w.pipe(n.Pipe, dot)
		}
	case *parse.ListNode:
		w.list(n, dot)
	}
}

// block walks the lists of an if, with or range block whose pipeline read
// the labels guards. Variables declared in the block end with it; an outer
// one the block changes (by assignment, or by shadowing, which the walk
// does not tell apart) is forgotten, which errs towards reporting less.
func (w *tmplWalker) block(guards []string, walk func()) {
	guards = slices.Clone(guards)
	outer := maps.Clone(w.labelVars)
	for _, k := range guards {
		w.guarded[k]++
	}
	walk()
	for _, k := range guards {
		w.guarded[k]--
	}
	for v, refs := range outer {
		if !slices.Equal(w.labelVars[v], refs) {
			delete(outer, v)
		}
	}
	w.labelVars = outer
}

func (w *tmplWalker) declare(p *parse.PipeNode, src string, printed []string) {
	if p == nil {
		return
	}
	for _, v := range p.Decl {
		if len(v.Ident) == 1 {
			w.tainted[v.Ident[0]] = src
			w.labelVars[v.Ident[0]] = printed
		}
	}
}

// pipe returns what changing value the pipeline's result carries, and the
// labels whose text it carries, and records the labels it reads.
func (w *tmplWalker) pipe(p *parse.PipeNode, dot string) (string, []string) {
	if p == nil {
		return "", nil
	}
	src := ""
	var printed []string
	for _, c := range p.Cmds {
		s, pr := w.cmd(c, dot, printed)
		if s != "" && src == "" {
			src = s
		}
		printed = pr
	}
	return src, printed
}

// cmd walks one command of a pipeline, given the labels whose text the
// previous command's value (its last argument) carries.
func (w *tmplWalker) cmd(c *parse.CommandNode, dot string, prev []string) (string, []string) {
	var printed []string
	// index $labels "x" reads label x.
	if len(c.Args) == 3 {
		if id, ok := c.Args[0].(*parse.IdentifierNode); ok && id.Ident == "index" && isLabelsMap(c.Args[1]) {
			if s, ok := c.Args[2].(*parse.StringNode); ok {
				w.info.labelRefs = append(w.info.labelRefs, s.Text)
				printed = append(printed, s.Text)
			}
		}
	}
	src := ""
	for _, a := range c.Args {
		s, pr := w.arg(a, dot)
		if s != "" && src == "" {
			src = s
		}
		printed = append(printed, pr...)
	}
	printed = append(printed, prev...)
	if id, ok := c.Args[0].(*parse.IdentifierNode); ok && notPrinting[id.Ident] {
		printed = nil
	}
	return src, printed
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

// arg returns what changing value an argument carries and the labels
// whose text it carries, and records the labels it reads.
func (w *tmplWalker) arg(n parse.Node, dot string) (string, []string) {
	switch n := n.(type) {
	case *parse.VariableNode:
		id := n.Ident
		switch {
		case id[0] == "$labels" && len(id) >= 2:
			w.info.labelRefs = append(w.info.labelRefs, id[1])
			return "", id[1:2]
		case id[0] == "$" && len(id) >= 3 && id[1] == "Labels":
			w.info.labelRefs = append(w.info.labelRefs, id[2])
			return "", id[2:3]
		case id[0] == "$" && len(id) >= 2 && id[1] == "Value":
			return "$value", nil
		}
		var printed []string
		if len(id) == 1 {
			// Reading the variable reads the labels it holds, for the
			// guards of if and with.
			printed = w.labelVars[id[0]]
			w.info.labelRefs = append(w.info.labelRefs, printed...)
		}
		return w.tainted[id[0]], printed
	case *parse.FieldNode:
		switch {
		case dot == dotRoot && n.Ident[0] == "Labels" && len(n.Ident) >= 2:
			w.info.labelRefs = append(w.info.labelRefs, n.Ident[1])
			return "", n.Ident[1:2]
		case dot == dotRoot && n.Ident[0] == "Value":
			return "$value", nil
		case dot == dotQuery && n.Ident[0] == "Value":
			return "a query result's value", nil // a sample's, in range query
		}
		return taint(dot), nil
	case *parse.DotNode:
		return taint(dot), nil
	case *parse.ChainNode:
		src, _ := w.arg(n.Node, dot)
		return src, nil
	case *parse.PipeNode:
		return w.pipe(n, dot)
	case *parse.IdentifierNode:
		switch n.Ident {
		case "now":
			return "the time (now)", nil
		case "value", "strvalue":
			return "a query result's value", nil
		}
	}
	return "", nil
}

// labelInfo is what the result of an expression is known to carry for one
// label.
type labelInfo struct {
	fixed bool   // every result series has value
	value string // when fixed
	why   string // the part of the expression that puts the label there
}

// labelSet is what a static reading of an expression says about the labels
// of its result series. known, maybe and dropped have no label in common.
type labelSet struct {
	// known labels are carried by every result series, with a non-empty
	// value, as far as the expression says: a label named by by, on or
	// group_x is known unless the input is known to lack it.
	known map[string]labelInfo
	// maybe are labels that some result series may carry and others
	// not (what one side of or carries), with why; they matter only to
	// a closed set.
	maybe map[string]string
	// dropped labels are carried by no result series, with why.
	dropped map[string]string
	// closed: the result carries no label outside known and maybe;
	// closedWhy says what keeps the others out.
	closed    bool
	closedWhy string
}

func openSet() labelSet {
	return labelSet{known: map[string]labelInfo{}, maybe: map[string]string{}, dropped: map[string]string{}}
}

func closedEmpty(why string) labelSet {
	s := openSet()
	s.closed, s.closedWhy = true, why
	return s
}

func (s labelSet) clone() labelSet {
	return labelSet{known: maps.Clone(s.known), maybe: maps.Clone(s.maybe), dropped: maps.Clone(s.dropped), closed: s.closed, closedWhy: s.closedWhy}
}

// absence says whether no result series can carry label k, and why.
func (s labelSet) absence(k string) (string, bool) {
	if why, ok := s.dropped[k]; ok {
		return why, true
	}
	if _, ok := s.known[k]; ok {
		return "", false
	}
	if _, ok := s.maybe[k]; ok {
		return "", false
	}
	if s.closed {
		return s.closedWhy, true
	}
	return "", false
}

func (s labelSet) set(k string, info labelInfo) {
	s.known[k] = info
	delete(s.maybe, k)
	delete(s.dropped, k)
}

func (s labelSet) setMaybe(k, why string) {
	delete(s.known, k)
	s.maybe[k] = why
	delete(s.dropped, k)
}

func (s labelSet) drop(k, why string) {
	delete(s.known, k)
	delete(s.maybe, k)
	s.dropped[k] = why
}

// resultLabels reads the labels an expression's result carries, as
// Prometheus's evaluation builds them: selectors keep their series' labels
// (those matched non-empty are known, those matched only empty dropped),
// aggregations keep their by labels or drop their without labels,
// one-to-one binary operations with on keep only those labels, ignoring
// drops its labels, group_left/group_right copy their labels from the one
// side (or drop them when it lacks them), label_replace and label_join add
// their target label, absent carries its selector's equality-matched
// labels. It errs towards knowing less: a label is dropped only when no
// series of any data can carry it.
func resultLabels(e parser.Expr) labelSet {
	switch e := e.(type) {
	case *parser.VectorSelector:
		return selectorLabels(e)
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
	return closedEmpty("a scalar has no labels") // literals
}

func selectorLabels(e *parser.VectorSelector) labelSet {
	s := openSet()
	for _, m := range e.LabelMatchers {
		if m.Name == model.MetricNameLabel {
			continue
		}
		if m.Matches("") {
			// x="" and x=~"" match only the series without x.
			if m.Value == "" && (m.Type == labels.MatchEqual || m.Type == labels.MatchRegexp) {
				if _, ok := s.known[m.Name]; !ok {
					s.drop(m.Name, "the selector "+e.String()+" matches only series without it")
				}
			}
			continue
		}
		info := s.known[m.Name]
		if !info.fixed {
			info = labelInfo{why: "matched by " + e.String()}
			if m.Type == labels.MatchEqual {
				info.fixed, info.value = true, m.Value
			}
		}
		s.set(m.Name, info)
	}
	return s
}

func isVector(e parser.Expr) bool {
	return e.Type() == parser.ValueTypeVector || e.Type() == parser.ValueTypeMatrix
}

func callLabels(e *parser.Call) labelSet {
	switch e.Func.Name {
	case "absent", "absent_over_time":
		return absentLabels(e)
	}
	if e.Func.ReturnType != parser.ValueTypeVector {
		return closedEmpty(e.Func.Name + "(…) returns a scalar, which has no labels")
	}
	i := slices.IndexFunc(e.Args, isVector)
	if i < 0 {
		return closedEmpty(e.Func.Name + "(…) returns one series without labels") // vector(s), time()-like
	}
	s := resultLabels(e.Args[i]).clone()
	switch e.Func.Name {
	case "label_replace", "label_join":
		if len(e.Args) > 1 {
			if dst, ok := e.Args[1].(*parser.StringLiteral); ok {
				s.set(dst.Val, labelInfo{why: "set by " + e.Func.Name + "(…, " + strconv.Quote(dst.Val) + ", …)"})
			} else {
				s = openSet() // a target it cannot read: any label
			}
		}
	case "histogram_quantile", "histogram_fraction":
		// Of classic buckets, which have le, the result has none; native
		// histograms are not told apart, so only an le the input is
		// known to carry, or could only carry as a bucket, is dropped.
		_, known := s.known["le"]
		_, maybe := s.maybe["le"]
		if known || maybe || s.closed {
			s.drop("le", e.Func.Name+"(…) drops le")
		}
	case "info":
		// It adds the labels of info series, whichever they are.
		s.closed = false
		clear(s.dropped)
	}
	return s
}

// absentLabels reads the labels of absent and absent_over_time's result:
// those of the selector's equality matchers, as Prometheus's
// createLabelsForAbsentFunction builds them (a label matched again after
// its first equality matcher is left out), and nothing else.
func absentLabels(e *parser.Call) labelSet {
	s := closedEmpty(e.Func.Name + "(…) carries only the labels its selector matches with =")
	if len(e.Args) != 1 {
		return s
	}
	vs, ok := unwrapSelector(e.Args[0])
	if !ok {
		s.closedWhy = e.Func.Name + "(…) of anything but a selector carries no label"
		return s
	}
	has := map[string]bool{}
	set := map[string]string{}
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel || m.Name == model.MetricTypeLabel || m.Name == model.MetricUnitLabel {
			continue
		}
		if m.Type == labels.MatchEqual && !has[m.Name] {
			set[m.Name] = m.Value
			has[m.Name] = true
		} else {
			delete(set, m.Name)
		}
	}
	why := "set by " + e.String()
	for _, m := range vs.LabelMatchers {
		if v, ok := set[m.Name]; ok && v != "" {
			s.known[m.Name] = labelInfo{fixed: true, value: v, why: why}
		} else if m.Type == labels.MatchEqual && m.Value != "" && has[m.Name] {
			// Other engines may not leave it out.
			s.maybe[m.Name] = why
		}
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
	grouping := strings.Join(e.Grouping, ", ")
	var s labelSet
	if e.Without {
		s = in.clone()
		why := e.Op.String() + " without (" + grouping + ") drops it"
		for _, g := range e.Grouping {
			s.drop(g, why)
		}
	} else {
		switch {
		case len(e.Grouping) == 0:
			s = closedEmpty(e.Op.String() + "(…) aggregates every label away")
		case e.Op == parser.COUNT_VALUES:
			s = closedEmpty(e.Op.String() + " by (" + grouping + ") keeps only " + grouping + " and its own label")
		default:
			s = closedEmpty(e.Op.String() + " by (" + grouping + ") keeps only " + grouping)
		}
		by := "kept by by (" + grouping + ")"
		for _, g := range e.Grouping {
			if info, ok := in.known[g]; ok {
				s.known[g] = info
			} else if why, ok := in.maybe[g]; ok {
				s.maybe[g] = why
			} else if why, absent := in.absence(g); absent {
				s.dropped[g] = why
			} else {
				s.known[g] = labelInfo{why: by}
			}
		}
	}
	if e.Op == parser.COUNT_VALUES {
		p := e.Param
		for {
			pe, ok := p.(*parser.ParenExpr)
			if !ok {
				break
			}
			p = pe.Expr
		}
		if p, ok := p.(*parser.StringLiteral); ok {
			s.set(p.Val, labelInfo{why: "set by count_values(" + strconv.Quote(p.Val) + ", …)"})
		} else {
			s = openSet() // a label it cannot read
		}
	}
	return s
}

func binaryLabels(e *parser.BinaryExpr) labelSet {
	lv, rv := isVector(e.LHS), isVector(e.RHS)
	switch {
	case !lv && !rv:
		return closedEmpty("a scalar has no labels")
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
		return orLabels(l, r)
	}
	vm := e.VectorMatching
	if vm == nil {
		return l
	}
	if vm.FillValues.LHS != nil || vm.FillValues.RHS != nil {
		return openSet() // series of either side, unmatched: not followed
	}
	switch vm.Card {
	case parser.CardOneToOne:
		list := strings.Join(vm.MatchingLabels, ", ")
		if !vm.On {
			s := l.clone()
			for _, k := range vm.MatchingLabels {
				s.drop(k, "ignoring ("+list+") drops it")
			}
			return s
		}
		// The result has the left side's labels, kept to the on labels;
		// matching makes them equal to the right side's.
		s := closedEmpty("on (" + list + ") keeps only " + list)
		if list == "" {
			s.closedWhy = "on () keeps no label"
		}
		why := "kept by on (" + list + ")"
		for _, k := range vm.MatchingLabels {
			li, lok := l.known[k]
			ri, rok := r.known[k]
			lwhy, labsent := l.absence(k)
			rwhy, rabsent := r.absence(k)
			_, lmaybe := l.maybe[k]
			_, rmaybe := r.maybe[k]
			switch {
			case lok && (li.fixed || !rok || !ri.fixed):
				s.known[k] = li
			case rok:
				s.known[k] = ri
			case labsent:
				s.dropped[k] = lwhy
			case rabsent:
				s.dropped[k] = rwhy
			case lmaybe || rmaybe:
				s.maybe[k] = why
			default: // both open
				s.known[k] = labelInfo{why: why}
			}
		}
		return s
	case parser.CardManyToOne, parser.CardOneToMany:
		many, one, kw, side := l, r, "group_left", "right"
		if vm.Card == parser.CardOneToMany {
			many, one, kw, side = r, l, "group_right", "left"
		}
		s := many.clone()
		list := strings.Join(vm.Include, ", ")
		why := "copied by " + kw + " (" + list + ")"
		for _, k := range vm.Include {
			// It comes from the one side, or the result lacks it.
			if info, ok := one.known[k]; ok {
				s.set(k, info)
			} else if owhy, absent := one.absence(k); absent {
				s.drop(k, kw+" ("+list+") copies it from the "+side+" side, which lacks it: "+owhy)
			} else if _, ok := one.maybe[k]; ok {
				s.setMaybe(k, why)
			} else {
				s.set(k, labelInfo{why: why})
			}
		}
		return s
	}
	return l
}

// orLabels reads the labels of x or y: series from either side.
func orLabels(l, r labelSet) labelSet {
	s := openSet()
	s.closed = l.closed && r.closed
	s.closedWhy = "neither side of or carries it: " + joinWhy(l.closedWhy, r.closedWhy)
	names := map[string]bool{}
	for _, side := range []labelSet{l, r} {
		for k := range side.known {
			names[k] = true
		}
		for k := range side.maybe {
			names[k] = true
		}
		for k := range side.dropped {
			names[k] = true
		}
	}
	for k := range names {
		li, lok := l.known[k]
		ri, rok := r.known[k]
		lwhy, labsent := l.absence(k)
		rwhy, rabsent := r.absence(k)
		switch {
		case lok && rok:
			if li.fixed && (!ri.fixed || li.value != ri.value) {
				li.fixed, li.value = false, ""
			}
			s.known[k] = li
		case labsent && rabsent:
			s.dropped[k] = "neither side of or carries it: " + joinWhy(lwhy, rwhy)
		case lok:
			s.maybe[k] = li.why
		case rok:
			s.maybe[k] = ri.why
		default:
			s.maybe[k] = cmp.Or(l.maybe[k], r.maybe[k], "carried by one side of or")
		}
	}
	return s
}

func joinWhy(a, b string) string {
	if a == b {
		return a
	}
	return a + "; " + b
}

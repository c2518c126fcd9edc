package rules

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	yamlv2 "go.yaml.in/yaml/v2"
	"go.yaml.in/yaml/v3"
)

// Group is one rule group of a rule file, as loaded.
type Group struct {
	File        string // the path as loaded (after glob expansion)
	Name        string
	Line        int
	Interval    time.Duration  // 0: the global evaluation_interval
	QueryOffset *time.Duration // nil: the global query_offset
	Limit       int            // <= 0: no limit
	Labels      map[string]string
	Rules       []Rule
}

// Rule is one alerting or recording rule.
type Rule struct {
	Alert         string
	Record        string
	Expr          string // the parsed expression printed back, as Prometheus sends it
	For           time.Duration
	KeepFiringFor time.Duration
	Labels        map[string]string
	Annotations   map[string]string
	Line          int
}

// Name returns the alert or record name.
func (r *Rule) Name() string {
	if r.Alert != "" {
		return r.Alert
	}
	return r.Record
}

// Key identifies a group across loads: its file and its name, as Prometheus
// does (names are unique per file only).
func (g *Group) Key() string { return g.File + ";" + g.Name }

// Equal reports whether two groups are the same to the letter: same file,
// name, interval, offset, limit, labels and rules.
func (g *Group) Equal(o *Group) bool {
	if g.File != o.File || g.Name != o.Name || g.Interval != o.Interval || g.Limit != o.Limit {
		return false
	}
	if (g.QueryOffset == nil) != (o.QueryOffset == nil) || (g.QueryOffset != nil && *g.QueryOffset != *o.QueryOffset) {
		return false
	}
	if !maps.Equal(g.Labels, o.Labels) {
		return false
	}
	return slices.EqualFunc(g.Rules, o.Rules, func(a, b Rule) bool {
		return a.Alert == b.Alert && a.Record == b.Record && a.Expr == b.Expr && a.For == b.For &&
			a.KeepFiringFor == b.KeepFiringFor && maps.Equal(a.Labels, b.Labels) && maps.Equal(a.Annotations, b.Annotations)
	})
}

// Error is a load error of one rule file. Its text names the file and, when
// known, the line, the group and the rule.
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	default:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
}

// Files expands rule_files patterns. Relative patterns are taken relative to
// baseDir. A pattern without a match is not an error, as in Prometheus; a bad
// pattern is. The result is sorted per pattern and free of repeats.
func Files(baseDir string, patterns []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, p := range patterns {
		if !filepath.IsAbs(p) && baseDir != "" {
			p = filepath.Join(baseDir, p)
		}
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("rule_files: bad pattern %q: %w", p, err)
		}
		slices.Sort(m)
		for _, f := range m {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// LoadFiles loads every file; the error joins the errors of all files.
func LoadFiles(files []string) ([]*Group, error) {
	var (
		groups []*Group
		errs   []error
	)
	for _, f := range files {
		gs, err := LoadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		groups = append(groups, gs...)
	}
	return groups, errors.Join(errs...)
}

// LoadFile reads and validates one rule file.
func LoadFile(file string) ([]*Group, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, &Error{File: file, Msg: err.Error()}
	}
	return Parse(file, b)
}

var discardLogger = slog.New(slog.DiscardHandler)

// Parse validates the content of a rule file named file, with Prometheus's
// rulefmt (current schema, unknown fields are errors).
func Parse(file string, content []byte) ([]*Group, error) {
	p := parser.NewParser(parser.Options{})
	rgs, errs := rulefmt.Parse(content, false, model.UTF8Validation, p, discardLogger)
	if strings.Contains(string(content), "\n---") {
		errs = append(errs, errors.New("multiple YAML documents: only one is supported"))
	}
	pos := positions(content)
	if len(errs) > 0 {
		out := make([]error, 0, len(errs))
		for _, e := range errs {
			out = append(out, locate(file, e, pos)...)
		}
		slices.SortStableFunc(out, func(a, b error) int {
			var ea, eb *Error
			errors.As(a, &ea)
			errors.As(b, &eb)
			return cmp.Compare(ea.Line, eb.Line)
		})
		return nil, errors.Join(dedupe(out)...)
	}
	groups := make([]*Group, 0, len(rgs.Groups))
	for gi, rg := range rgs.Groups {
		g := &Group{
			File:     file,
			Name:     rg.Name,
			Interval: time.Duration(rg.Interval),
			Limit:    rg.Limit,
			Labels:   rg.Labels,
		}
		if gi < len(pos.groups) {
			g.Line = pos.groups[gi].line
		}
		if rg.QueryOffset != nil {
			d := time.Duration(*rg.QueryOffset)
			g.QueryOffset = &d
		}
		for ri, r := range rg.Rules {
			expr, err := p.ParseExpr(r.Expr)
			if err != nil { // validated above; kept for safety
				return nil, &Error{File: file, Msg: fmt.Sprintf("group %q, rule %d: %v", rg.Name, ri+1, err)}
			}
			rule := Rule{
				Alert:         r.Alert,
				Record:        r.Record,
				Expr:          expr.String(),
				For:           time.Duration(r.For),
				KeepFiringFor: time.Duration(r.KeepFiringFor),
				Labels:        r.Labels,
				Annotations:   r.Annotations,
			}
			if gi < len(pos.groups) && ri < len(pos.groups[gi].rules) {
				rule.Line = pos.groups[gi].rules[ri]
			}
			g.Rules = append(g.Rules, rule)
		}
		groups = append(groups, g)
	}
	return groups, nil
}

func dedupe(errs []error) []error {
	seen := map[string]bool{}
	out := errs[:0]
	for _, e := range errs {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			out = append(out, e)
		}
	}
	return out
}

type groupPos struct {
	name      string
	line      int // of the group's first key
	rules     []int
	ruleNames []string
}

type filePos struct {
	content   []byte
	groups    []groupPos
	durations map[string]int // value → line of the first duration field holding it
}

// positions walks the YAML tree for the lines of groups and rules, which
// rulefmt does not report for every error.
func positions(content []byte) filePos {
	var root yaml.Node
	fp := filePos{content: content, durations: map[string]int{}}
	if yaml.Unmarshal(content, &root) != nil || len(root.Content) == 0 {
		return fp
	}
	doc := root.Content[0]
	groups := mapValue(doc, "groups")
	if groups == nil || groups.Kind != yaml.SequenceNode {
		return fp
	}
	for _, gn := range groups.Content {
		gp := groupPos{line: gn.Line}
		fp.addDurations(gn)
		if n := mapValue(gn, "name"); n != nil {
			gp.name = n.Value
			gp.line = n.Line
		}
		if rs := mapValue(gn, "rules"); rs != nil && rs.Kind == yaml.SequenceNode {
			for _, rn := range rs.Content {
				fp.addDurations(rn)
				gp.rules = append(gp.rules, rn.Line)
				name := ""
				if n := mapValue(rn, "alert"); n != nil {
					name = n.Value
				} else if n := mapValue(rn, "record"); n != nil {
					name = n.Value
				}
				gp.ruleNames = append(gp.ruleNames, name)
			}
		}
		fp.groups = append(fp.groups, gp)
	}
	return fp
}

// where names the group and rule that line belongs to, in rulefmt's words,
// or nothing for a line outside any rule.
func (fp *filePos) where(line int) string {
	for gi := len(fp.groups) - 1; gi >= 0; gi-- {
		g := fp.groups[gi]
		if g.line > line {
			continue
		}
		for ri := len(g.rules) - 1; ri >= 0; ri-- {
			if g.rules[ri] <= line {
				return fmt.Sprintf("group %q, rule %d, %q: ", g.name, ri+1, g.ruleNames[ri])
			}
		}
		return fmt.Sprintf("group %q: ", g.name)
	}
	return ""
}

func (fp *filePos) addDurations(n *yaml.Node) {
	for _, k := range []string{"interval", "query_offset", "for", "keep_firing_for"} {
		if v := mapValue(n, k); v != nil {
			if _, ok := fp.durations[v.Value]; !ok {
				fp.durations[v.Value] = v.Line
			}
		}
	}
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

var (
	posPrefix   = regexp.MustCompile(`^(\d+):(\d+): (?:\d+:\d+: )?`)
	yamlLine    = regexp.MustCompile(`^\s*line (\d+): (.*)$`)
	badDuration = regexp.MustCompile(`duration (?:string: )?"(.*)"`)
	repeatedGrp = regexp.MustCompile(`groupname: "(.*)" is repeated in the same file`)
)

// locate turns one rulefmt error into errors that name file and line.
func locate(file string, err error, pos filePos) []error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		out := make([]error, 0, len(te.Errors))
		for _, s := range te.Errors {
			if m := yamlLine.FindStringSubmatch(s); m != nil {
				l, _ := strconv.Atoi(m[1])
				out = append(out, &Error{File: file, Line: l, Msg: pos.where(l) + m[2]})
				continue
			}
			out = append(out, &Error{File: file, Msg: strings.TrimSpace(s)})
		}
		return out
	}
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(strings.TrimPrefix(msg, "yaml: ")); m != nil {
		l, _ := strconv.Atoi(m[1])
		// yaml.v3 names the start of the enclosing block for syntax errors;
		// yaml.v2 names the line where the parser stopped, which is closer.
		var v any
		if e2 := yamlv2.Unmarshal(pos.content, &v); e2 != nil {
			if m2 := yamlLine.FindStringSubmatch(strings.TrimPrefix(e2.Error(), "yaml: ")); m2 != nil {
				l2, _ := strconv.Atoi(m2[1])
				// yaml.v2 names the line before the key it could not
				// place.
				if m2[2] == "did not find expected key" && l2 < strings.Count(string(pos.content), "\n") {
					l2++
				}
				if l2 > l {
					l, m = l2, m2
				}
			}
		}
		return []error{&Error{File: file, Line: l, Msg: m[2]}}
	}
	if m := badDuration.FindStringSubmatch(msg); m != nil {
		return []error{&Error{File: file, Line: pos.durations[m[1]], Msg: msg}}
	}
	line, col := 0, 0
	if m := posPrefix.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		col, _ = strconv.Atoi(m[2])
		msg = msg[len(m[0]):]
	}
	var re *rulefmt.Error
	if line == 0 && errors.As(err, &re) {
		for _, g := range pos.groups {
			if g.name == re.Group && re.Rule >= 1 && re.Rule <= len(g.rules) {
				line, col = g.rules[re.Rule-1], 0
				break
			}
		}
	}
	if line == 0 {
		if m := repeatedGrp.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("group %q is repeated in the same file", m[1])
			n := 0
			for _, g := range pos.groups {
				if g.name == m[1] {
					n++
					if n == 2 {
						line = g.line
						break
					}
				}
			}
		} else if strings.HasPrefix(msg, "Groupname must not be empty") {
			for _, g := range pos.groups {
				if g.name == "" {
					line = g.line
					break
				}
			}
		}
	}
	if line == 0 {
		col = 0
	}
	return []error{&Error{File: file, Line: line, Column: col, Msg: msg}}
}

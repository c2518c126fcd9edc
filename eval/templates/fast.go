package templates

import (
	"net/url"
	"strconv"
	"strings"
	texttemplate "text/template"
	"text/template/parse"

	"github.com/grafana/regexp"
	"github.com/prometheus/prometheus/util/strutil"

	promtemplate "github.com/alertd/alertd/eval/templates/internal/template"
)

// The fast path evaluates templates made only of text and actions whose
// pipelines read labels, external labels, the value or the external URL,
// optionally through functions whose behaviour is reproduced here exactly.
// Eligibility is decided statically from the parse tree, with the types
// text/template would see (label values are strings, $value is a float64),
// so a template is fast only where each function accepts its argument
// types. The only run-time failures left (a label that does not parse as a
// number, a timestamp that overflows) send Execute to text/template, which
// then reports the error.

// kind is the Go type a fast-path value has in text/template.
type kind uint8

const (
	kindString kind = iota
	kindFloat
)

// value is a string or a float64.
type value struct {
	s       string
	f       float64
	isFloat bool
}

// source is where an operand comes from.
type source uint8

const (
	srcConst source = iota
	srcLabel
	srcExternalLabel
	srcValue
	srcExternalURL
	srcPipe
)

type operand struct {
	src  source
	name string // label name, or the constant
	pipe *pipeline
}

func (o *operand) kind() kind {
	switch o.src {
	case srcValue:
		return kindFloat
	case srcPipe:
		return o.pipe.kind()
	default:
		return kindString
	}
}

func (o *operand) eval(d *Data) (value, bool) {
	switch o.src {
	case srcConst:
		return value{s: o.name}, true
	case srcLabel:
		return value{s: d.Labels.Get(o.name)}, true
	case srcExternalLabel:
		return value{s: d.ExternalLabels.Get(o.name)}, true
	case srcValue:
		return value{f: d.Value, isFloat: true}, true
	case srcExternalURL:
		return value{s: d.ExternalURL}, true
	default:
		return o.pipe.eval(d)
	}
}

// fn is a function the fast path implements.
type fn uint8

const (
	fnNone fn = iota // the command is an operand
	fnHumanize
	fnHumanize1024
	fnHumanizeDuration
	fnHumanizePercentage
	fnHumanizeTimestamp
	fnToUpper
	fnToLower
	fnTitle
	fnStripPort
	fnStripDomain
	fnURLQueryEscape
	fnGraphLink
	fnTableLink
	fnReReplaceAll
	fnPrintf
)

func lookupFn(name string) fn {
	switch name {
	case "humanize":
		return fnHumanize
	case "humanize1024":
		return fnHumanize1024
	case "humanizeDuration":
		return fnHumanizeDuration
	case "humanizePercentage":
		return fnHumanizePercentage
	case "humanizeTimestamp":
		return fnHumanizeTimestamp
	case "toUpper":
		return fnToUpper
	case "toLower":
		return fnToLower
	case "title":
		return fnTitle
	case "stripPort":
		return fnStripPort
	case "stripDomain":
		return fnStripDomain
	case "urlQueryEscape":
		return fnURLQueryEscape
	case "graphLink":
		return fnGraphLink
	case "tableLink":
		return fnTableLink
	case "reReplaceAll":
		return fnReReplaceAll
	case "printf":
		return fnPrintf
	}
	return fnNone
}

// command is one command of a pipeline: an operand, or a function call
// whose explicit arguments are args, followed by the piped value if the
// command is not the first.
type command struct {
	fn     fn
	args   []operand
	re     *regexp.Regexp
	printf *printfFormat
}

type pipeline struct {
	cmds []command
}

func (p *pipeline) kind() kind {
	last := &p.cmds[len(p.cmds)-1]
	if last.fn == fnNone {
		return last.args[0].kind()
	}
	return kindString
}

// segment is literal text, or an action printing pipe.
type segment struct {
	text string
	pipe *pipeline
}

// program is a template the fast path evaluates.
type program struct {
	segs []segment
}

// prefixActions is the number of actions Prefix parses to.
const prefixActions = 4

// compileFast returns the fast program of t, or nil if t is not eligible.
func compileFast(t *texttemplate.Template) *program {
	if len(t.Templates()) != 1 || t.Tree == nil || t.Root == nil {
		return nil
	}
	nodes := t.Root.Nodes
	if len(nodes) < prefixActions {
		return nil
	}
	// The prefix actions print as Prefix: they declare $labels,
	// $externalLabels, $externalURL and $value from the data.
	var prefix strings.Builder
	for _, n := range nodes[:prefixActions] {
		if _, ok := n.(*parse.ActionNode); !ok {
			return nil
		}
		prefix.WriteString(n.String())
	}
	if prefix.String() != Prefix {
		return nil
	}
	p := &program{}
	for _, n := range nodes[prefixActions:] {
		switch n := n.(type) {
		case *parse.TextNode:
			p.segs = append(p.segs, segment{text: string(n.Text)})
		case *parse.CommentNode:
		case *parse.ActionNode:
			pipe, ok := compilePipe(n.Pipe)
			if !ok {
				return nil
			}
			p.segs = append(p.segs, segment{pipe: pipe})
		default:
			return nil
		}
	}
	return p
}

// constant reports whether p prints exactly text.
func (p *program) constant(text string) bool {
	n := 0
	for _, s := range p.segs {
		if s.pipe != nil {
			return false
		}
		if len(text) < n+len(s.text) || text[n:n+len(s.text)] != s.text {
			return false
		}
		n += len(s.text)
	}
	return n == len(text)
}

func compilePipe(pn *parse.PipeNode) (*pipeline, bool) {
	if pn == nil || len(pn.Decl) > 0 || pn.IsAssign || len(pn.Cmds) == 0 {
		return nil, false
	}
	p := &pipeline{}
	var piped kind
	for i, cn := range pn.Cmds {
		if len(cn.Args) == 0 {
			return nil, false
		}
		id, isFn := cn.Args[0].(*parse.IdentifierNode)
		if !isFn {
			if i > 0 || len(cn.Args) != 1 {
				return nil, false
			}
			o, ok := compileOperand(cn.Args[0])
			if !ok {
				return nil, false
			}
			p.cmds = append(p.cmds, command{args: []operand{o}})
			piped = o.kind()
			continue
		}
		c := command{fn: lookupFn(id.Ident)}
		if c.fn == fnNone {
			return nil, false
		}
		kinds := make([]kind, 0, len(cn.Args))
		for _, a := range cn.Args[1:] {
			o, ok := compileOperand(a)
			if !ok {
				return nil, false
			}
			c.args = append(c.args, o)
			kinds = append(kinds, o.kind())
		}
		if i > 0 {
			kinds = append(kinds, piped)
		}
		if !c.check(kinds) {
			return nil, false
		}
		p.cmds = append(p.cmds, c)
		piped = kindString
	}
	return p, true
}

// check reports whether text/template would call c with arguments of the
// given kinds without a type error, and prepares c's constant operands.
func (c *command) check(kinds []kind) bool {
	switch c.fn {
	case fnHumanize, fnHumanize1024, fnHumanizeDuration, fnHumanizePercentage, fnHumanizeTimestamp:
		// func(any) (string, error)
		return len(kinds) == 1
	case fnToUpper, fnToLower, fnTitle, fnStripPort, fnStripDomain, fnURLQueryEscape, fnGraphLink, fnTableLink:
		// func(string) string
		return len(kinds) == 1 && kinds[0] == kindString
	case fnReReplaceAll:
		// func(pattern, repl, text string) string, with a constant
		// pattern and replacement.
		if len(kinds) != 3 || len(c.args) < 2 || kinds[2] != kindString ||
			c.args[0].src != srcConst || c.args[1].src != srcConst {
			return false
		}
		re, err := regexp.Compile(c.args[0].name)
		if err != nil {
			return false
		}
		c.re = re
		return true
	case fnPrintf:
		// func(format string, args ...any) string, with a constant format.
		if len(c.args) == 0 || c.args[0].src != srcConst {
			return false
		}
		c.printf = compilePrintf(c.args[0].name, kinds[1:])
		return true
	}
	return false
}

func compileOperand(n parse.Node) (operand, bool) {
	switch n := n.(type) {
	case *parse.StringNode:
		return operand{src: srcConst, name: n.Text}, true
	case *parse.FieldNode:
		return dataOperand(n.Ident)
	case *parse.VariableNode:
		id := n.Ident
		switch {
		case id[0] == "$":
			return dataOperand(id[1:])
		case id[0] == "$labels" && len(id) == 2:
			return operand{src: srcLabel, name: id[1]}, true
		case id[0] == "$externalLabels" && len(id) == 2:
			return operand{src: srcExternalLabel, name: id[1]}, true
		case id[0] == "$value" && len(id) == 1:
			return operand{src: srcValue}, true
		case id[0] == "$externalURL" && len(id) == 1:
			return operand{src: srcExternalURL}, true
		}
	case *parse.PipeNode:
		p, ok := compilePipe(n)
		if !ok {
			return operand{}, false
		}
		return operand{src: srcPipe, pipe: p}, true
	}
	return operand{}, false
}

// dataOperand compiles field idents of the template data.
func dataOperand(id []string) (operand, bool) {
	switch {
	case len(id) == 2 && id[0] == "Labels":
		return operand{src: srcLabel, name: id[1]}, true
	case len(id) == 2 && id[0] == "ExternalLabels":
		return operand{src: srcExternalLabel, name: id[1]}, true
	case len(id) == 1 && id[0] == "Value":
		return operand{src: srcValue}, true
	case len(id) == 1 && id[0] == "ExternalURL":
		return operand{src: srcExternalURL}, true
	}
	return operand{}, false
}

// execute appends p's expansion of d to dst. It fails only where
// text/template fails too; then it returns dst unchanged.
func (p *program) execute(dst []byte, d *Data) ([]byte, bool) {
	start := len(dst)
	for i := range p.segs {
		s := &p.segs[i]
		if s.pipe == nil {
			dst = append(dst, s.text...)
			continue
		}
		var ok bool
		if dst, ok = s.pipe.appendTo(dst, d); !ok {
			return dst[:start], false
		}
	}
	return dst, true
}

// appendTo appends the printed result of p to dst.
func (p *pipeline) appendTo(dst []byte, d *Data) ([]byte, bool) {
	var piped value
	n := len(p.cmds)
	for i := range n - 1 {
		v, ok := p.cmds[i].eval(d, piped, i > 0)
		if !ok {
			return dst, false
		}
		piped = v
	}
	return p.cmds[n-1].appendTo(dst, d, piped, n > 1)
}

// eval returns the result of p.
func (p *pipeline) eval(d *Data) (value, bool) {
	var piped value
	for i := range p.cmds {
		v, ok := p.cmds[i].eval(d, piped, i > 0)
		if !ok {
			return value{}, false
		}
		piped = v
	}
	return piped, true
}

func (c *command) eval(d *Data, piped value, hasPiped bool) (value, bool) {
	if c.fn == fnNone {
		return c.args[0].eval(d)
	}
	var buf [64]byte
	out, ok := c.appendTo(buf[:0], d, piped, hasPiped)
	if !ok {
		return value{}, false
	}
	return value{s: string(out)}, true
}

// appendTo appends the printed result of c to dst.
func (c *command) appendTo(dst []byte, d *Data, piped value, hasPiped bool) ([]byte, bool) {
	if c.fn == fnNone {
		v, ok := c.args[0].eval(d)
		if !ok {
			return dst, false
		}
		return appendValue(dst, v), true
	}
	var buf [4]value
	args := buf[:0]
	for i := range c.args {
		v, ok := c.args[i].eval(d)
		if !ok {
			return dst, false
		}
		args = append(args, v)
	}
	if hasPiped {
		args = append(args, piped)
	}
	return c.call(dst, args)
}

// call appends the result of c's function applied to args.
func (c *command) call(dst []byte, args []value) ([]byte, bool) {
	switch c.fn {
	case fnHumanize, fnHumanize1024, fnHumanizeDuration, fnHumanizePercentage, fnHumanizeTimestamp:
		f, ok := toFloat(args[0])
		if !ok {
			return dst, false
		}
		switch c.fn {
		case fnHumanize:
			return appendHumanize(dst, f), true
		case fnHumanize1024:
			return appendHumanize1024(dst, f), true
		case fnHumanizeDuration:
			return appendHumanizeDuration(dst, f), true
		case fnHumanizePercentage:
			return appendHumanizePercentage(dst, f), true
		default:
			return appendHumanizeTimestamp(dst, f)
		}
	case fnToUpper:
		return appendToUpper(dst, args[0].s), true
	case fnToLower:
		return appendToLower(dst, args[0].s), true
	case fnTitle:
		return append(dst, promtemplate.Title(args[0].s)...), true
	case fnStripPort:
		return append(dst, promtemplate.StripPort(args[0].s)...), true
	case fnStripDomain:
		return append(dst, promtemplate.StripDomain(args[0].s)...), true
	case fnURLQueryEscape:
		return append(dst, url.QueryEscape(args[0].s)...), true
	case fnGraphLink:
		return append(dst, strutil.GraphLinkForExpression(args[0].s)...), true
	case fnTableLink:
		return append(dst, strutil.TableLinkForExpression(args[0].s)...), true
	case fnReReplaceAll:
		return append(dst, c.re.ReplaceAllString(args[2].s, args[1].s)...), true
	case fnPrintf:
		return c.printf.append(dst, args[1:]), true
	}
	return dst, false
}

// toFloat is common_templates.ConvertToFloat for the fast path's types.
func toFloat(v value) (float64, bool) {
	if v.isFloat {
		return v.f, true
	}
	f, err := strconv.ParseFloat(v.s, 64)
	return f, err == nil
}

// appendValue prints v as text/template does (fmt's %v).
func appendValue(dst []byte, v value) []byte {
	if v.isFloat {
		return strconv.AppendFloat(dst, v.f, 'g', -1, 64)
	}
	return append(dst, v.s...)
}

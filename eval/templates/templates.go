package templates

import (
	"context"
	"fmt"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/eval/datasource"
	promtemplate "github.com/alertd/alertd/eval/templates/internal/template"
)

// Prefix is what Prometheus prepends to every alert label and annotation
// value before parsing it. Error columns count it.
const Prefix = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// Data is the template data of one alert.
type Data struct {
	// Labels are the query result series' labels, including __name__ if
	// the query kept it; not the rule's labels.
	Labels labels.Labels
	// ExternalLabels are the global external labels.
	ExternalLabels labels.Labels
	// ExternalURL is the external URL as a string, .ExternalURL in templates.
	ExternalURL string
	// Value is the sample value, $value in templates.
	Value float64
}

// Env is what functions like query, now, externalURL and pathPrefix see
// during one execution.
type Env struct {
	// Ctx is passed to Query; nil means context.Background().
	Ctx context.Context
	// TS is the evaluation timestamp: now returns it as float seconds and
	// query runs at it, both at millisecond precision as in Prometheus.
	TS time.Time
	// Query runs template queries. It may be nil: then query returns an
	// error.
	Query datasource.QueryFunc
	// ExternalURL is the external URL that externalURL and pathPrefix
	// return (parsed, as Prometheus's *url.URL).
	ExternalURL string
}

// Template is a parsed alert template. It is safe for concurrent use.
type Template struct {
	name     string
	text     string
	constant bool
	// fast is the direct evaluator, nil when the template needs
	// text/template.
	fast *program
	// base is the parsed template. When usesEnv is false it is executed
	// directly; otherwise executions take a clone from pool whose
	// env-dependent functions read that clone's own binding.
	base    *texttemplate.Template
	usesEnv bool
	pool    sync.Pool
}

// bound is a clone of Template.base with its own binding.
type bound struct {
	tmpl    *texttemplate.Template
	binding promtemplate.Binding
}

func parseText(name, text string, b *promtemplate.Binding) (*texttemplate.Template, error) {
	return texttemplate.New(name).
		Funcs(promtemplate.FuncMap(b)).
		Option("missingkey=zero").
		Parse(Prefix + text)
}

// ParseCheck parses text as Prometheus's rule file validation does
// (rulefmt: Prefix prepended, parse only) and returns the same error,
// unwrapped.
func ParseCheck(name, text string) error {
	_, err := parseText(name, text, &promtemplate.Binding{})
	return err
}

// Compile parses text once, as Prometheus does for an alert label or
// annotation value: template name is name (callers pass
// "__alert_"+alertName), Prefix is prepended, option missingkey=zero,
// text/template. The error text equals the one Prometheus's
// Expander.Expand returns for the same text, so callers can write
// "<error expanding template: "+err.Error()+">" as Prometheus does.
func Compile(name, text string) (*Template, error) {
	base, err := parseText(name, text, &promtemplate.Binding{})
	if err != nil {
		return nil, fmt.Errorf("error parsing template %v: %w", name, err)
	}
	t := &Template{
		name:    name,
		text:    text,
		base:    base,
		usesEnv: usesEnv(base),
	}
	t.fast = compileFast(base)
	t.constant = t.fast != nil && t.fast.constant(text)
	t.pool.New = func() any {
		b := &bound{}
		clone, err := t.base.Clone()
		if err != nil {
			// text/template's Clone never fails.
			panic(fmt.Sprintf("clone template %v: %v", t.name, err))
		}
		b.tmpl = clone.Funcs(promtemplate.FuncMap(&b.binding))
		return b
	}
	return t, nil
}

// Constant reports whether the text has no actions, so its expansion is the
// text itself.
func (t *Template) Constant() bool { return t.constant }

// Text returns the text Compile was given, without Prefix.
func (t *Template) Text() string { return t.text }

// Execute appends the expansion to dst. On an execution error it returns
// dst unchanged plus the error, whose text equals what Prometheus's
// template.Expander.Expand returns for the same input. Panics inside
// template functions are recovered into errors, as Prometheus does.
// env and data may be nil, meaning zero values.
func (t *Template) Execute(dst []byte, env *Env, data *Data) ([]byte, error) {
	if data == nil {
		data = &Data{}
	}
	if t.constant {
		return append(dst, t.text...), nil
	}
	if t.fast != nil {
		if out, ok := t.fast.execute(dst, data); ok {
			return out, nil
		}
		// The fast path fails only where text/template fails too; let
		// it produce the error text.
	}
	return t.executeSlow(dst, env, data)
}

// isFast reports whether Execute evaluates t without text/template.
func (t *Template) isFast() bool { return t.fast != nil }

// appendWriter is an io.Writer appending to a byte slice.
type appendWriter struct{ buf []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// WriteString lets fmt.Fprint avoid a copy.
func (w *appendWriter) WriteString(s string) (int, error) {
	w.buf = append(w.buf, s...)
	return len(s), nil
}

// executeSlow runs text/template with Prometheus's data and function map.
func (t *Template) executeSlow(dst []byte, env *Env, data *Data) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(error)
			if !ok {
				e = fmt.Errorf("panic expanding template %v: %v", t.name, r)
			}
			out, err = dst, e
		}
	}()
	tmpl := t.base
	if t.usesEnv {
		b := t.pool.Get().(*bound)
		if env != nil {
			b.binding.Set(promtemplate.Env(*env))
		}
		defer func() {
			b.binding.Set(promtemplate.Env{})
			t.pool.Put(b)
		}()
		tmpl = b.tmpl
	}
	td := promtemplate.Data(data.Labels.Map(), data.ExternalLabels.Map(), data.ExternalURL, data.Value)
	w := &appendWriter{buf: dst}
	if err := tmpl.Execute(w, td); err != nil {
		return dst, fmt.Errorf("error executing template %v: %w", t.name, err)
	}
	return w.buf, nil
}

// Expand is Execute returning a string, with an execution error written as
// Prometheus's rule evaluation writes it: "<error expanding template: …>".
// The error is returned as well, for logging.
func (t *Template) Expand(env *Env, data *Data) (string, error) {
	out, err := t.Execute(nil, env, data)
	if err != nil {
		return ErrorText(err), err
	}
	return string(out), nil
}

// ErrorText is the value Prometheus writes for a label or annotation whose
// template failed to expand.
func ErrorText(err error) string {
	var b strings.Builder
	b.WriteString("<error expanding template: ")
	b.WriteString(err.Error())
	b.WriteString(">")
	return b.String()
}

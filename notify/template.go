package notify

import (
	"bytes"
	"embed"
	"fmt"
	tmplhtml "html/template"
	"io/fs"
	"path/filepath"
	"sync"
	tmpltext "text/template"

	amtemplate "github.com/prometheus/alertmanager/template"
)

// defaultTemplates are Alertmanager's default.tmpl and email.tmpl.
//
//go:embed amtemplates/default.tmpl amtemplates/email.tmpl
var defaultTemplates embed.FS

// Templates are the notification templates of a configuration:
// Alertmanager's own (default.tmpl and email.tmpl, with the
// "slack.default.title", "email.default.html", … definitions), then the
// files of its `templates:` globs, with Alertmanager's functions
// (template.DefaultFuncs) and data (template.Data), so that users'
// templates and the default messages render exactly as in Alertmanager.
//
// Unlike Alertmanager's template package, which clones every template for
// every field it renders, each distinct field text is parsed once, on its
// first use, and kept: rendering a field is then only its execution. Its
// methods are safe for concurrent use.
type Templates struct {
	text *tmpltext.Template
	html *tmplhtml.Template

	// The parsed field texts, by text: *parsedText / *parsedHTML.
	texts, htmls sync.Map
}

type parsedText struct {
	t   *tmpltext.Template
	err error
}

type parsedHTML struct {
	t   *tmplhtml.Template
	err error
}

// funcs are Alertmanager's template functions, plus routeLabels, which
// Alertmanager 0.34 binds to a notification's route labels; alertd has
// none, so it renders every route label as "", as Alertmanager renders an
// unknown one.
func funcs() map[string]any {
	m := make(map[string]any, len(amtemplate.DefaultFuncs)+1)
	m["routeLabels"] = func(string) (string, error) { return "", nil }
	for k, v := range amtemplate.DefaultFuncs {
		m[k] = v
	}
	return m
}

// LoadTemplates parses Alertmanager's default templates and the files
// matched by globs (a glob matching nothing is no error, as in
// Alertmanager). What templates see as .ExternalURL is the Data's.
func LoadTemplates(globs []string) (*Templates, error) {
	t := &Templates{
		text: tmpltext.New("").Option("missingkey=zero").Funcs(funcs()),
		html: tmplhtml.New("").Option("missingkey=zero").Funcs(funcs()),
	}
	for _, name := range []string{"default.tmpl", "email.tmpl"} {
		b, err := fs.ReadFile(defaultTemplates, "amtemplates/"+name)
		if err != nil {
			return nil, fmt.Errorf("load templates: %w", err)
		}
		if err := t.parse(string(b)); err != nil {
			return nil, fmt.Errorf("load templates: %s: %w", name, err)
		}
	}
	for _, g := range globs {
		// ParseGlob fails when nothing matches; Alertmanager allows it.
		m, err := filepath.Glob(g)
		if err != nil {
			return nil, fmt.Errorf("load templates: %w", err)
		}
		if len(m) == 0 {
			continue
		}
		if t.text, err = t.text.ParseGlob(g); err != nil {
			return nil, fmt.Errorf("load templates: %w", err)
		}
		if t.html, err = t.html.ParseGlob(g); err != nil {
			return nil, fmt.Errorf("load templates: %w", err)
		}
	}
	return t, nil
}

func (t *Templates) parse(s string) error {
	var err error
	if t.text, err = t.text.Parse(s); err != nil {
		return err
	}
	t.html, err = t.html.Parse(s)
	return err
}

// textTemplate returns text parsed as a text template among t's.
func (t *Templates) textTemplate(text string) (*tmpltext.Template, error) {
	if p, ok := t.texts.Load(text); ok {
		return p.(*parsedText).t, p.(*parsedText).err
	}
	p := &parsedText{}
	p.t, p.err = t.text.Clone()
	if p.err == nil {
		p.t, p.err = p.t.New("").Option("missingkey=zero").Parse(text)
	}
	got, _ := t.texts.LoadOrStore(text, p)
	return got.(*parsedText).t, got.(*parsedText).err
}

// htmlTemplate returns text parsed as an html/template among t's.
func (t *Templates) htmlTemplate(text string) (*tmplhtml.Template, error) {
	if p, ok := t.htmls.Load(text); ok {
		return p.(*parsedHTML).t, p.(*parsedHTML).err
	}
	p := &parsedHTML{}
	p.t, p.err = t.html.Clone()
	if p.err == nil {
		p.t, p.err = p.t.New("").Option("missingkey=zero").Parse(text)
	}
	got, _ := t.htmls.LoadOrStore(text, p)
	return got.(*parsedHTML).t, got.(*parsedHTML).err
}

// ExecuteText renders text as a text template with data, as Alertmanager's
// Template.ExecuteTextString does.
func (t *Templates) ExecuteText(text string, data any) (string, error) {
	if text == "" {
		return "", nil
	}
	tmpl, err := t.textTemplate(text)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	err = tmpl.Execute(&buf, data)
	return buf.String(), err
}

// ExecuteHTML renders text as an html/template with data, as
// Alertmanager's Template.ExecuteHTMLString does.
func (t *Templates) ExecuteHTML(text string, data any) (string, error) {
	if text == "" {
		return "", nil
	}
	tmpl, err := t.htmlTemplate(text)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	err = tmpl.Execute(&buf, data)
	return buf.String(), err
}

// TemplateData returns d as Alertmanager's template.Data, the dot of every
// notification template. Its maps are d's own: it must not be modified.
func (d *Data) TemplateData() *amtemplate.Data {
	td := &amtemplate.Data{
		Receiver:          d.Receiver,
		Status:            d.Status,
		Alerts:            make(amtemplate.Alerts, len(d.Alerts)),
		GroupLabels:       amtemplate.KV(d.GroupLabels),
		CommonLabels:      amtemplate.KV(d.CommonLabels),
		CommonAnnotations: amtemplate.KV(d.CommonAnnotations),
		RouteLabels:       amtemplate.KV{},
		ExternalURL:       d.ExternalURL,
	}
	for i, a := range d.Alerts {
		td.Alerts[i] = amtemplate.Alert{
			Status:       a.Status,
			Labels:       amtemplate.KV(a.Labels),
			Annotations:  amtemplate.KV(a.Annotations),
			StartsAt:     a.StartsAt,
			EndsAt:       a.EndsAt,
			GeneratorURL: a.GeneratorURL,
			Fingerprint:  a.Fingerprint,
		}
	}
	return td
}

// Expander renders the templated fields of one notification, keeping the
// first error: after it, every call returns "". Its error names the field,
// e.g. `template of title: template: :1:12: executing "" at <.Foo>: …`.
// An integration renders all its fields, then checks Err once, and fails
// that notification (not retryable) if it is set.
type Expander struct {
	t    *Templates
	data *amtemplate.Data
	err  error
}

// Expander returns an Expander of d's fields.
func (t *Templates) Expander(d *Data) *Expander {
	return &Expander{t: t, data: d.TemplateData()}
}

// Data returns the template data, for Alertmanager's
// template.DeepCopyWithTemplate and the like.
func (e *Expander) Data() *amtemplate.Data { return e.data }

// Text renders the text template text of the field named field.
func (e *Expander) Text(field, text string) string {
	if e.err != nil {
		return ""
	}
	s, err := e.t.ExecuteText(text, e.data)
	if err != nil {
		e.err = fmt.Errorf("template of %s: %w", field, err)
		return ""
	}
	return s
}

// HTML renders the html/template text of the field named field.
func (e *Expander) HTML(field, text string) string {
	if e.err != nil {
		return ""
	}
	s, err := e.t.ExecuteHTML(text, e.data)
	if err != nil {
		e.err = fmt.Errorf("template of %s: %w", field, err)
		return ""
	}
	return s
}

// Err returns the first error of Text and HTML, nil if none.
func (e *Expander) Err() error { return e.err }

package notify

import (
	"fmt"
	"net/url"

	amtemplate "github.com/prometheus/alertmanager/template"
)

// Templates are the notification templates of a configuration:
// Alertmanager's own (default.tmpl and email.tmpl, with the
// "slack.default.title", "email.default.html", … definitions), then the
// files of its `templates:` globs, with Alertmanager's functions. They are
// Alertmanager's template package itself, so that a user's templates and
// the default messages render exactly as in Alertmanager.
type Templates struct {
	t *amtemplate.Template
}

// LoadTemplates parses Alertmanager's default templates and the files
// matched by globs (a glob matching nothing is no error, as in
// Alertmanager). externalURL is what templates see as .ExternalURL; nil
// means none.
func LoadTemplates(globs []string, externalURL *url.URL) (*Templates, error) {
	t, err := amtemplate.FromGlobs(globs)
	if err != nil {
		return nil, fmt.Errorf("load templates: %w", err)
	}
	if externalURL == nil {
		externalURL = &url.URL{}
	}
	t.ExternalURL = externalURL
	return &Templates{t: t}, nil
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
	t    *amtemplate.Template
	data *amtemplate.Data
	err  error
}

// Expander returns an Expander of d's fields.
func (t *Templates) Expander(d *Data) *Expander {
	return &Expander{t: t.t, data: d.TemplateData()}
}

// Data returns the template data, for Alertmanager's
// template.DeepCopyWithTemplate and the like.
func (e *Expander) Data() *amtemplate.Data { return e.data }

// Text renders the text template text of the field named field.
func (e *Expander) Text(field, text string) string {
	if e.err != nil {
		return ""
	}
	s, err := e.t.ExecuteTextString(text, e.data)
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
	s, err := e.t.ExecuteHTMLString(text, e.data)
	if err != nil {
		e.err = fmt.Errorf("template of %s: %w", field, err)
		return ""
	}
	return s
}

// Err returns the first error of Text and HTML, nil if none.
func (e *Expander) Err() error { return e.err }

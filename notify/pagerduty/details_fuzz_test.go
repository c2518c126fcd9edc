package pagerduty

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	amnotify "github.com/prometheus/alertmanager/notify"
	ampagerduty "github.com/prometheus/alertmanager/notify/pagerduty"
	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertd/alertd/notify"
)

// FuzzDetails renders custom details holding fuzzed template text (as a
// value, in a list, as a nested key) with a fuzzed label, and compares
// them with what Alertmanager's PagerDuty notifier renders (its
// renderDetails: TmplText and DeepCopyWithTemplate over the details merged
// with its defaults): the same details, or an error for both.
func FuzzDetails(f *testing.F) {
	for _, s := range [][2]string{
		{"{{ .CommonLabels.fuzz }}", "plain"},
		{"{{ .Alerts.Firing | len }}", "[1, 2, {a: b}]"},
		{"{{ .CommonLabels.fuzz }}", "{{ .Alerts | len }}: {{ .Status }}"},
		{`{{ template "pagerduty.default.instances" .Alerts.Firing }}`, "k: {{ .Receiver }}"},
		{"{{ .Nope.Nope }}", "{{ .Status"},
		{"value1:", "- a\n- b: c"},
		{"{{ toJson .CommonLabels }}", "!!binary aGk="},
	} {
		f.Add(s[0], s[1], "web-1: up")
		f.Add(s[1], s[0], "[x, y]")
	}
	am, err := amtemplate.FromGlobs(nil)
	if err != nil {
		f.Fatal(err)
	}
	// Templates keeps every text it has parsed: a fresh one every 100
	// inputs bounds the memory of a long run.
	var (
		tmpl *notify.Templates
		uses int
	)
	f.Fuzz(func(t *testing.T, a, b, value string) {
		if strings.Contains(a+b, "range") {
			t.Skip() // a range over a number can take as long as it likes
		}
		if uses++; tmpl == nil || uses%100 == 0 {
			if tmpl, err = notify.LoadTemplates(nil); err != nil {
				t.Fatal(err)
			}
		}
		details := map[string]any{
			"a":      a,
			"list":   []any{a, 1, b},
			"nested": map[string]any{b: a, "x": []any{b}},
			"firing": b, // replaces Alertmanager's default
		}
		n, err := New(0, Config{RoutingKey: "key", Details: details}, Options{Templates: tmpl})
		if err != nil {
			t.Fatal(err)
		}
		d := detailsData(value)
		ev, err := n.event(d, "key")

		want, wantErr := renderDetails(am, d.TemplateData(), details)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("details %q: error %v, Alertmanager's %v", details, err, wantErr)
		}
		if err != nil {
			return
		}
		if diff := cmp.Diff(want, ev.Payload.Details); diff != "" {
			t.Fatalf("details %q (-alertmanager +alertd):\n%s", details, diff)
		}
	})
}

// renderDetails is Alertmanager's pagerduty renderDetails over details
// merged with its defaults, as its configuration merges them.
func renderDetails(am *amtemplate.Template, data *amtemplate.Data, details map[string]any) (map[string]any, error) {
	merged := maps.Clone(ampagerduty.DefaultPagerdutyDetails)
	maps.Copy(merged, details)
	var tmplErr error
	tmplText := amnotify.TmplText(am, data, &tmplErr)
	out := make(map[string]any, len(merged))
	for k, v := range merged {
		var err error
		out[k], err = amtemplate.DeepCopyWithTemplate(v, func(s string) (string, error) { return tmplText(s), tmplErr })
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// detailsData is a notification of one firing and one resolved alert, the
// first with the label fuzz=value.
func detailsData(value string) *notify.Data {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	return &notify.Data{
		Receiver: "pager",
		Status:   notify.StatusFiring,
		Alerts: []notify.DataAlert{
			{Status: notify.StatusFiring, Labels: notify.KV{"alertname": "Down", "fuzz": value}, Annotations: notify.KV{"summary": value}, StartsAt: start, Fingerprint: "0123456789abcdef"},
			{Status: notify.StatusResolved, Labels: notify.KV{"alertname": "Down", "fuzz": "b"}, StartsAt: start, EndsAt: start.Add(time.Hour), Fingerprint: "fedcba9876543210"},
		},
		GroupLabels:       notify.KV{"alertname": "Down"},
		CommonLabels:      notify.KV{"alertname": "Down", "fuzz": value},
		CommonAnnotations: notify.KV{},
		ExternalURL:       "http://alertd.example:9093",
		GroupKey:          `{}:{alertname="Down"}`,
	}
}

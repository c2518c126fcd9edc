package notify_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertd/alertd/notify"
)

// FuzzTemplates renders fuzzed template text with fuzzed data through
// Templates.ExecuteText and ExecuteHTML and through Alertmanager's own
// template package (with the same default templates): same output, same
// error, also when rendered a second time from the parsed text Templates
// keeps.
func FuzzTemplates(f *testing.F) {
	for _, text := range []string{
		"plain",
		`{{ template "__subject" . }}`,
		`{{ template "slack.default.text" . }}`,
		`{{ template "pagerduty.default.description" . }}`,
		`{{ template "email.default.html" . }}`,
		`{{ .CommonLabels.SortedPairs }} {{ .GroupLabels.Names | join "," }} {{ .Receiver | urlquery }}`,
		`{{ range .Alerts }}{{ .Labels.fuzz | reReplaceAll "(a+)" "<$1>" | toUpper }} {{ .Annotations.SortedPairs.Values }}{{ end }}`,
		`{{ range .Alerts.Resolved }}{{ .EndsAt | date "2006-01-02" }}{{ end }}{{ .Alerts.Firing | toJson }}`,
		`<a href="{{ .ExternalURL }}/?q={{ .CommonLabels.fuzz }}">{{ .CommonAnnotations.summary | safeHtml }}</a>`,
		`{{ define "x" }}{{ .Status | title }}{{ end }}{{ template "x" . }} {{ routeLabels "team" }}`,
		`{{ (dict "a" .Receiver "b" (list 1 "x")) | toJson }} {{ .Receiver | base64encode | base64decode }}`,
		`{{ index .Alerts 5 }}`,
		`{{ .NoSuchField }}`,
		`{{ template "no.such.template" . }}`,
		`{{ .Status `,
		`{{ tz "Europe/Paris" (index .Alerts 0).StartsAt }} {{ toDate "2006" .Receiver }}`,
	} {
		f.Add(text, "web-1<&>\"", "summary {{ not a template }}", "fuzz", `team\.x`, false)
	}
	f.Add(`{{ .CommonLabels.fuzz | urlUnescape }}`, "%zz", "", "a b", "", true)
	f.Add(`{{ match .Receiver .CommonLabels.fuzz }}`, "(", "x", "", "(", false)
	am, err := amtemplate.FromGlobs(nil)
	if err != nil {
		f.Fatal(err)
	}
	pointer := regexp.MustCompile(`0x[0-9a-f]{6,}`)
	// Templates keeps every text it has parsed: a fresh one every 100
	// inputs bounds the memory of a long run.
	var (
		ours *notify.Templates
		uses int
	)
	f.Fuzz(func(t *testing.T, text, value, annotation, name, receiver string, resolved bool) {
		if expensive(text) {
			t.Skip()
		}
		if uses++; ours == nil || uses%100 == 0 {
			if ours, err = notify.LoadTemplates(nil); err != nil {
				t.Fatal(err)
			}
		}
		d := fuzzData(value, annotation, name, receiver, resolved).TemplateData()

		wantText, wantTextErr := am.ExecuteTextString(text, d)
		wantHTML, wantHTMLErr := am.ExecuteHTMLString(text, d)
		// Printed pointers differ between any two executions.
		if pointer.MatchString(wantText + errString(wantTextErr) + wantHTML + errString(wantHTMLErr)) {
			t.Skip()
		}
		for i := range 2 {
			gotText, gotTextErr := ours.ExecuteText(text, d)
			if gotText != wantText || errString(gotTextErr) != errString(wantTextErr) {
				t.Fatalf("ExecuteText %d of %q:\n got %q, %v\nwant %q, %v", i, text, gotText, gotTextErr, wantText, wantTextErr)
			}
			gotHTML, gotHTMLErr := ours.ExecuteHTML(text, d)
			if gotHTML != wantHTML || errString(gotHTMLErr) != errString(wantHTMLErr) {
				t.Fatalf("ExecuteHTML %d of %q:\n got %q, %v\nwant %q, %v", i, text, gotHTML, gotHTMLErr, wantHTML, wantHTMLErr)
			}
		}
	})
}

// fuzzData is a notification of two alerts, the first with the fuzzed
// label (name=value) and annotation, and a fuzzed receiver.
func fuzzData(value, annotation, name, receiver string, resolved bool) *notify.Data {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	second := notify.DataAlert{
		Status: notify.StatusFiring, Labels: notify.KV{"alertname": "Down", "instance": "b"},
		Annotations: notify.KV{"summary": "b is down"}, StartsAt: start, Fingerprint: "fedcba9876543210",
	}
	status := notify.StatusFiring
	if resolved {
		second.Status, second.EndsAt = notify.StatusResolved, start.Add(time.Hour)
		status = notify.StatusResolved
	}
	return &notify.Data{
		Receiver: receiver,
		Status:   status,
		Alerts: []notify.DataAlert{
			{
				Status: status, Labels: notify.KV{"alertname": "Down", "instance": value, name: value},
				Annotations: notify.KV{"summary": annotation, "runbook": "https://x/?a=1&b=2"},
				StartsAt:    start, EndsAt: second.EndsAt, GeneratorURL: "http://prom/graph?g0.expr=up", Fingerprint: "0123456789abcdef",
			},
			second,
		},
		GroupLabels:       notify.KV{"alertname": "Down", name: value},
		CommonLabels:      notify.KV{"alertname": "Down", name: value},
		CommonAnnotations: notify.KV{"summary": annotation},
		ExternalURL:       "http://alertd.example:9093",
	}
}

// expensive reports whether text could render for longer than a fuzz
// iteration should take, or differently at two instants: ranges over
// numbers (a literal, or the length of something), more than two nested
// ranges, and the clock functions.
func expensive(text string) bool {
	if strings.Contains(text, "now") || strings.Contains(text, "since") {
		return true
	}
	n := strings.Count(text, "range")
	return n > 2 || n > 0 && (strings.ContainsAny(text, "0123456789") || strings.Contains(text, "len"))
}

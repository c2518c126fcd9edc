package notify_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertd/alertd/notify"
)

// TestDefaultTemplatesAreAlertmanagers checks that the embedded default
// templates are those of the Alertmanager module in go.mod.
func TestDefaultTemplatesAreAlertmanagers(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "go", "list", "-m", "-f", "{{.Dir}}", "github.com/prometheus/alertmanager").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	for _, name := range []string{"default.tmpl", "email.tmpl"} {
		want, err := os.ReadFile(filepath.Join(dir, "template", name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("amtemplates", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("amtemplates/%s differs from Alertmanager's %s: copy it again", name, filepath.Join(dir, "template", name))
		}
	}
}

// TestTemplatesAsAlertmanager renders the same texts with the same data
// through Alertmanager's template package and through Templates: same
// output, same errors.
func TestTemplatesAsAlertmanager(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "my.tmpl"), []byte(`{{ define "my.title" }}[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}{{ end }}
{{ define "my.list" }}{{ range .Alerts }}{{ .Labels.instance }} since {{ .StartsAt.Format "15:04" }}; {{ end }}{{ end }}`), 0o600); err != nil {
		t.Fatal(err)
	}
	globs := []string{filepath.Join(dir, "*.tmpl"), filepath.Join(dir, "none-*.tmpl")}
	am, err := amtemplate.FromGlobs(globs)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := notify.LoadTemplates(globs)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	d := (&notify.Data{
		Receiver: `team\.x`,
		Status:   notify.StatusFiring,
		Alerts: []notify.DataAlert{
			{Status: notify.StatusFiring, Labels: notify.KV{"alertname": "Down", "instance": "a<b>&c", "severity": "page"}, Annotations: notify.KV{"summary": "a is down", "runbook": "https://x/?a=1&b=2"}, StartsAt: start, GeneratorURL: "http://prom/graph?g0.expr=up", Fingerprint: "0123456789abcdef"},
			{Status: notify.StatusResolved, Labels: notify.KV{"alertname": "Down", "instance": "b", "severity": "page"}, Annotations: notify.KV{"summary": "b is down"}, StartsAt: start, EndsAt: start.Add(time.Hour), Fingerprint: "fedcba9876543210"},
		},
		GroupLabels:       notify.KV{"alertname": "Down"},
		CommonLabels:      notify.KV{"alertname": "Down", "severity": "page"},
		CommonAnnotations: notify.KV{},
		ExternalURL:       "http://alertd.example:9093",
	}).TemplateData()
	texts := []string{
		"",
		"plain",
		`{{ template "__subject" . }}`,
		`{{ template "slack.default.title" . }}`,
		`{{ template "slack.default.text" . }}`,
		`{{ template "slack.default.titlelink" . }}`,
		`{{ template "pagerduty.default.description" . }}`,
		`{{ template "pagerduty.default.instances" .Alerts.Firing }}`,
		`{{ template "email.default.subject" . }}`,
		`{{ template "email.default.html" . }}`,
		`{{ template "my.title" . }} {{ template "my.list" . }}`,
		`{{ .CommonLabels.SortedPairs }} {{ .GroupLabels.Names | join "," }} {{ .Receiver | urlquery }}`,
		`{{ range .Alerts }}{{ .Annotations.runbook | safeUrl }} {{ .Labels.instance | reReplaceAll "[<>]" "_" }} {{ title "hello world" }}{{ end }}`,
		`{{ .Alerts.Firing | toJson }} {{ routeLabels "team" }}`,
		`{{ define "inline" }}x{{ end }}{{ template "inline" }}`,
		`{{ .NoSuchField }}`,
		`{{ template "no.such.template" . }}`,
		`{{ .Status `,
		`{{ index .Alerts 5 }}`,
	}
	for _, text := range texts {
		wantText, wantTextErr := am.ExecuteTextString(text, d)
		wantHTML, wantHTMLErr := am.ExecuteHTMLString(text, d)
		// Twice, to render from the parsed text kept the first time.
		for range 2 {
			gotText, gotTextErr := ours.ExecuteText(text, d)
			if gotText != wantText || errString(gotTextErr) != errString(wantTextErr) {
				t.Errorf("text %q:\n got %q, %v\nwant %q, %v", text, gotText, gotTextErr, wantText, wantTextErr)
			}
			gotHTML, gotHTMLErr := ours.ExecuteHTML(text, d)
			if gotHTML != wantHTML || errString(gotHTMLErr) != errString(wantHTMLErr) {
				t.Errorf("html %q:\n got %q, %v\nwant %q, %v", text, gotHTML, gotHTMLErr, wantHTML, wantHTMLErr)
			}
		}
	}

	// Concurrent renders of one text (run with -race).
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if _, err := ours.ExecuteHTML(`{{ template "email.default.html" . }}`, d); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

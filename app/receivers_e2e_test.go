package app_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/alertd/alertd/internal/pagerdutytest"
	"github.com/alertd/alertd/internal/slackapitest"
	"github.com/alertd/alertd/internal/smtptest"
	"github.com/alertd/alertd/internal/testenv"
)

// TestRulesToAllReceivers runs alertd with a rule against a real
// Prometheus and one route to an email, a Slack (bot token) and a
// PagerDuty receiver, each a real server in the test, PagerDuty's summary
// from a template of the configuration's templates: when the condition
// turns true in Prometheus, each receiver gets its firing message within
// evaluation interval + group_wait + 1s; when it turns false, each gets
// the resolved message (Slack by editing the firing one).
func TestRulesToAllReceivers(t *testing.T) {
	const (
		evalInterval = time.Second
		groupWait    = time.Second
		routingKey   = "e2e0routing0key00000000000000001" // 32 characters, as PagerDuty's
		slackToken   = "xoxb-e2e-bot-token"
		smtpPassword = "e2e-smtp-password"
	)
	target := testenv.NewTarget(t)
	target.Set(`e2e_up{job="e2e",instance="h1"}`, 1)
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{ScrapeTargets: []string{target.HostPort}})
	if err := prom.WaitForScrape(t.Context(), "e2e_up"); err != nil {
		t.Fatal(err)
	}
	mail := smtptest.Start(t, smtptest.Options{STARTTLS: true, Username: "alertd", Password: smtpPassword})
	slack := slackapitest.Start(t, slackToken)
	pd := pagerdutytest.Start(t)

	dir := t.TempDir()
	if err := os.Mkdir(dir+"/templates", 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, dir+"/templates/e2e.tmpl", `{{ define "e2e.summary" }}{{ .Status | toUpper }}: {{ .CommonLabels.alertname }} on {{ range .Alerts }}{{ .Labels.instance }}{{ end }}{{ end }}`)
	write(t, dir+"/rules.yml", `groups:
- name: e2e
  rules:
  - alert: E2EDown
    expr: e2e_up == 0
    labels: {severity: page}
    annotations: {summary: "{{ $labels.instance }} down"}
`)
	startAlertd(t, dir, fmt.Sprintf(`global:
  evaluation_interval: %s
  smtp_smarthost: %s
  smtp_from: alertd@example.org
  smtp_auth_username: alertd
  smtp_auth_password: %s
datasource: {url: %s}
rule_files: [rules.yml]
templates: [templates/*.tmpl]
route:
  receiver: everyone
  group_by: [alertname]
  group_wait: %s
  group_interval: 1s
receivers:
- name: everyone
  email_configs:
  - to: ops@example.org
    send_resolved: true
    tls_config: {ca_file: %s}
  slack_configs:
  - app_token: %s
    app_url: %s
    channel: '#ops'
    send_resolved: true
  pagerduty_configs:
  - routing_key: %s
    url: %s
    description: '{{ template "e2e.summary" . }}'
`, model.Duration(evalInterval), mail.Addr(), smtpPassword, prom.URL, model.Duration(groupWait), mail.CAFile(),
		slackToken, slack.APIURL()+"chat.postMessage", routingKey, pd.URL()))

	// when returns the time of the first sample of e2e_up with value v.
	when := func(v float64) time.Time {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			vec, err := prom.Query(t.Context(), "e2e_up")
			if err == nil && len(vec) == 1 && float64(vec[0].Value) == v {
				return vec[0].Timestamp.Time()
			}
			if time.Now().After(deadline) {
				t.Fatalf("Prometheus did not scrape e2e_up = %v within 20s (last: %v, %v)", v, vec, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// waitFor waits until ok holds, up to 20s.
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("no %s within 20s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	budget := evalInterval + groupWait + time.Second

	target.Set(`e2e_up{job="e2e",instance="h1"}`, 0)
	trueAt := when(0)
	waitFor("firing message at every receiver", func() bool {
		return len(mail.Messages()) > 0 && len(slack.Calls()) > 0 && len(pd.Events()) > 0
	})
	firingEmail, firingSlack, firingPD := mail.Messages()[0], slack.Calls()[0], pd.Events()[0]
	for name, at := range map[string]time.Time{"email": firingEmail.ReceivedAt, "slack": firingSlack.ReceivedAt, "pagerduty": firingPD.ReceivedAt} {
		if d := at.Sub(trueAt); d > budget {
			t.Errorf("%s got the firing message %s after the condition turned true, want at most %s", name, d, budget)
		} else {
			t.Logf("%s: firing message %s after the condition turned true", name, d.Round(time.Millisecond))
		}
	}

	if !strings.HasPrefix(firingEmail.Subject, "[FIRING:1] E2EDown") || !strings.Contains(firingEmail.HTML, "h1") ||
		len(firingEmail.To) != 1 || firingEmail.To[0] != "ops@example.org" {
		t.Errorf("firing email: subject %q, to %v, html has h1: %v", firingEmail.Subject, firingEmail.To, strings.Contains(firingEmail.HTML, "h1"))
	}
	if firingSlack.Method != "chat.postMessage" || len(firingSlack.Attachments) != 1 ||
		!strings.HasPrefix(firingSlack.Attachments[0].Title, "[FIRING:1] E2EDown") || firingSlack.Attachments[0].Color != "danger" {
		t.Errorf("firing Slack call: %+v", firingSlack)
	}
	sum := sha256.Sum256([]byte(`{}:{alertname="E2EDown"}`))
	dedup := hex.EncodeToString(sum[:])
	if firingPD.EventAction != "trigger" || firingPD.DedupKey != dedup || firingPD.RoutingKey != routingKey ||
		firingPD.Payload.Summary != "FIRING: E2EDown on h1" || firingPD.Payload.Severity != "error" {
		t.Errorf("firing PagerDuty event: %+v", firingPD)
	}

	target.Set(`e2e_up{job="e2e",instance="h1"}`, 1)
	falseAt := when(1)
	resolvedEmail := func() (smtptest.Message, bool) {
		for _, m := range mail.Messages() {
			if strings.HasPrefix(m.Subject, "[RESOLVED]") {
				return m, true
			}
		}
		return smtptest.Message{}, false
	}
	resolvedSlack := func() (slackapitest.Call, bool) {
		for _, c := range slack.Calls() {
			if len(c.Attachments) == 1 && strings.HasPrefix(c.Attachments[0].Title, "[RESOLVED]") {
				return c, true
			}
		}
		return slackapitest.Call{}, false
	}
	resolvedPD := func() (pagerdutytest.Event, bool) {
		for _, e := range pd.Events() {
			if e.EventAction == "resolve" {
				return e, true
			}
		}
		return pagerdutytest.Event{}, false
	}
	waitFor("resolved message at every receiver", func() bool {
		_, e := resolvedEmail()
		_, s := resolvedSlack()
		_, p := resolvedPD()
		return e && s && p
	})
	re, _ := resolvedEmail()
	rs, _ := resolvedSlack()
	rp, _ := resolvedPD()
	for name, at := range map[string]time.Time{"email": re.ReceivedAt, "slack": rs.ReceivedAt, "pagerduty": rp.ReceivedAt} {
		t.Logf("%s: resolved message %s after the condition turned false", name, at.Sub(falseAt).Round(time.Millisecond))
	}
	if rs.Method != "chat.update" || rs.TS != firingSlack.TS || rs.Channel != firingSlack.Channel || rs.Attachments[0].Color != "good" {
		t.Errorf("resolved Slack call %+v does not update the firing message (ts %s)", rs, firingSlack.TS)
	}
	if rp.DedupKey != dedup || rp.Payload.Summary != "RESOLVED: E2EDown on h1" {
		t.Errorf("resolve event: dedup_key %s (trigger's %s), summary %q", rp.DedupKey, dedup, rp.Payload.Summary)
	}
	if n := len(pd.Events()); n != 2 {
		t.Errorf("PagerDuty got %d events, want trigger and resolve: %+v", n, pd.Events())
	}
}

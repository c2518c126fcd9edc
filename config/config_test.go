package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadDefaults(t *testing.T) {
	c, err := Load([]byte("datasource:\n  url: http://127.0.0.1:9090\nrule_files: [rules/*.yml]\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(c.Global.EvaluationInterval) != time.Minute || time.Duration(c.Global.ResendDelay) != time.Minute ||
		c.Global.QueryOffset != 0 || time.Duration(c.Datasource.Timeout) != 30*time.Second {
		t.Errorf("defaults: %+v %+v", c.Global, c.Datasource)
	}
}

func TestLoadFull(t *testing.T) {
	in := `global:
  evaluation_interval: 15s
  query_offset: 30s
  resend_delay: 2m
  external_url: http://alertd.example.org:9095
  external_labels: {region: eu-1}
datasource:
  url: https://prom.example.org/prometheus
  timeout: 10s
  headers: {X-Scope-OrgID: team-a}
  http_config:
    basic_auth: {username: u, password: hunter2}
rule_files: [rules/*.yml]
alertmanagers:
- static_configs: [{targets: ["127.0.0.1:9093"]}]
  path_prefix: /am
  timeout: 5s
`
	c, err := Load([]byte(in), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Alertmanagers[0].URLs(); len(got) != 1 || got[0] != "http://127.0.0.1:9093/am" {
		t.Errorf("alertmanager URLs: %v", got)
	}
	if c.Alertmanagers[0].APIVersion != "v2" || time.Duration(c.Alertmanagers[0].Timeout) != 5*time.Second {
		t.Errorf("alertmanager: %+v", c.Alertmanagers[0])
	}
	if s := c.String(); strings.Contains(s, "hunter2") || !strings.Contains(s, "<secret>") {
		t.Errorf("String() leaks or lacks secret marker:\n%s", s)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown top key", "datasource: {url: http://a:1}\nscrape_configs: []\n", `line 2: unknown key "scrape_configs" in the top level`},
		{"route without receiver", "datasource: {url: http://a:1}\nroute: {}\n", "root route must specify a default receiver"},
		{"unknown global key", "global:\n  evaluation_interval: 1m\n  scrape_interval: 1m\ndatasource: {url: http://a:1}\n", `line 3: unknown key "scrape_interval"`},
		{"unknown datasource key", "datasource:\n  url: http://a:1\n  tmeout: 1s\n", `line 3: unknown key "tmeout" in datasource`},
		{"missing url", "global: {}\n", "datasource.url: required"},
		{"missing url with rules", "rule_files: [a.yml]\n", "datasource.url: required to evaluate rule_files"},
		{"bad url", "datasource: {url: 'ftp://x'}\n", `datasource.url: "ftp://x" is not an absolute http or https URL`},
		{"bad url password hidden", "datasource: {url: 'ftp://u:hunter2@x'}\n", `datasource.url: "ftp://u:xxxxx@x"`},
		{"bad duration", "global: {evaluation_interval: 1.5m}\ndatasource: {url: http://a:1}\n", `unknown unit "." in duration "1.5m"`},
		{"zero interval", "global: {evaluation_interval: 0s}\ndatasource: {url: http://a:1}\n", "global.evaluation_interval: must be greater than 0"},
		{"bad external label", "global: {external_labels: {'__x': a}}\ndatasource: {url: http://a:1}\n", `invalid label name "__x"`},
		{"am bad api", "datasource: {url: http://a:1}\nalertmanagers: [{api_version: v1, static_configs: [{targets: ['a:1']}]}]\n", `alertmanagers[0].api_version: "v1" is not supported`},
		{"am no targets", "datasource: {url: http://a:1}\nalertmanagers: [{}]\n", "alertmanagers[0].static_configs: no targets"},
		{"am unknown key", "datasource: {url: http://a:1}\nalertmanagers:\n- static_configs: [{targets: ['a:1']}]\n  relabel_configs: []\n", `unknown key "relabel_configs"`},
		{"http_config both auths", "datasource:\n  url: http://a:1\n  http_config:\n    basic_auth: {username: a, password: b}\n    authorization: {credentials: c}\n", "at most one of basic_auth"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.in), "")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a password: %q", err)
			}
		})
	}
}

func TestLoadFileNamesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "alertd.yml")
	if err := os.WriteFile(p, []byte("datasource:\n  url: http://a:1\n  bogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(p)
	if err == nil || !strings.Contains(err.Error(), p+`:3: unknown key "bogus" in datasource`) {
		t.Errorf("got %v", err)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte("datasource: {url: http://a:1}\n"))
	f.Add([]byte("global: {external_labels: {a: b}}\nalertmanagers: [{static_configs: [{targets: [x]}]}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Load(b, "")
		if err == nil && c.Datasource.URL == "" && (len(c.RuleFiles) > 0 || c.Alertmanager == nil) {
			t.Fatal("config without datasource.url accepted")
		}
	})
}

// An existing alertmanager.yml plus datasource and rule_files is a valid
// alertd.yml; Alertmanager's loader validates the routing half, and its
// errors keep the line numbers of alertd.yml.
func TestAlertmanagerHalf(t *testing.T) {
	in := `global:
  evaluation_interval: 15s
  resolve_timeout: 2m
  external_labels:
    region: eu-1
  http_config:
    follow_redirects: true
datasource:
  url: http://prometheus:9090
rule_files: [rules/*.yml]
route:
  receiver: team
  group_by: [alertname, cluster]
  routes:
  - matchers: ['severity="page"']
    receiver: pager
    continue: true
receivers:
- name: team
  webhook_configs: [{url: "http://hooks.example.org/secret-token"}]
- name: pager
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [alertname]
time_intervals:
- name: weekends
  time_intervals: [{weekdays: [saturday, sunday]}]
`
	c, err := Load([]byte(in), "")
	if err != nil {
		t.Fatal(err)
	}
	am := c.Alertmanager
	if am == nil || am.Route.Receiver != "team" || len(am.Route.Routes) != 1 || len(am.Receivers) != 2 || len(am.InhibitRules) != 1 || len(am.TimeIntervals) != 1 {
		t.Fatalf("alertmanager half: %+v", am)
	}
	if time.Duration(am.Global.ResolveTimeout) != 2*time.Minute {
		t.Errorf("resolve_timeout %v", am.Global.ResolveTimeout)
	}
	if time.Duration(c.Global.EvaluationInterval) != 15*time.Second || c.Global.ExternalLabels["region"] != "eu-1" {
		t.Errorf("alertd's global: %+v", c.Global)
	}
	s := c.AlertmanagerString()
	if strings.Contains(s, "secret-token") || !strings.Contains(s, "receiver: team") {
		t.Errorf("AlertmanagerString leaks or lacks the route:\n%s", s)
	}
	if strings.Contains(c.String(), "receivers") {
		t.Errorf("String() has Alertmanager's keys:\n%s", c.String())
	}

	amOnly, err := Load([]byte("route: {receiver: r}\nreceivers: [{name: r}]\n"), "")
	if err != nil || amOnly.Alertmanager == nil {
		t.Errorf("an Alertmanager-only file: %v", err)
	}
	noRouting, err := Load([]byte("datasource: {url: http://a:1}\nglobal: {evaluation_interval: 1m}\n"), "")
	if err != nil || noRouting.Alertmanager != nil {
		t.Errorf("a file without routing: %v %+v", err, noRouting.Alertmanager)
	}
}

func TestAlertmanagerHalfErrors(t *testing.T) {
	base := "datasource:\n  url: http://a:1\nroute:\n  receiver: r\n"
	tests := []struct{ name, in, want string }{
		{"bad matcher regex", base + "  routes:\n  - matchers: ['a=~\"(\"']\n    receiver: r\nreceivers: [{name: r}]\n", "missing closing )"},
		{"unknown receiver", base + "  routes:\n  - receiver: nobody\nreceivers: [{name: r}]\n", `undefined receiver "nobody"`},
		{"unknown route key", base + "  group_wiat: 1s\nreceivers: [{name: r}]\n", `line 5: unknown key "group_wiat"`},
		{"bad inhibit regex", base + "receivers: [{name: r}]\ninhibit_rules: [{source_match_re: {a: '('}}]\n", "error parsing regexp"},
		{"unknown time interval", base + "  mute_time_intervals: [x]\nreceivers: [{name: r}]\n", "root route must not have any mute time intervals"},
		{"flow global mixing", "global: {evaluation_interval: 1m, resolve_timeout: 1m}\n" + base + "receivers: [{name: r}]\n", "write global in block style"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.in), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestAlertmanagerStringHidesReceiverSecrets checks config.original for
// the secrets of every integration alertd delivers to.
func TestAlertmanagerStringHidesReceiverSecrets(t *testing.T) {
	in := `
global:
  smtp_smarthost: mail.example.org:587
  smtp_from: alertd@example.org
  smtp_auth_password: SECRET-global-smtp
  slack_api_url: https://hooks.slack.com/services/SECRET-global-slack
route: {receiver: all}
receivers:
- name: all
  email_configs:
  - {to: ops@example.org, auth_username: u, auth_password: SECRET-smtp-password}
  - {to: ops@example.org, auth_username: u, auth_secret: SECRET-cram-secret}
  slack_configs:
  - {api_url: "https://hooks.slack.com/services/SECRET-slack-hook", channel: "#ops"}
  - {app_token: SECRET-slack-bot-token, channel: "#ops"}
  pagerduty_configs:
  - {routing_key: SECRET-pd-routing-key}
  webhook_configs:
  - {url: "http://hooks.example.org/SECRET-webhook", http_config: {basic_auth: {username: u, password: SECRET-basic}}}
`
	c, err := Load([]byte(in), "")
	if err != nil {
		t.Fatal(err)
	}
	s := c.AlertmanagerString()
	if strings.Contains(s, "SECRET") {
		t.Errorf("config.original shows a secret:\n%s", s)
	}
	for _, key := range []string{"auth_password: <secret>", "app_token: <secret>", "routing_key: <secret>", "api_url: " + RedactedURL} {
		if !strings.Contains(s, key) {
			t.Errorf("config.original lacks %q:\n%s", key, s)
		}
	}
}

// TestEmptyBlocksKeepDefaults loads open but empty global and datasource
// blocks, which YAML reads as null: the defaults stay.
func TestEmptyBlocksKeepDefaults(t *testing.T) {
	c, err := Load([]byte("global:\ndatasource:\nroute: {receiver: r}\nreceivers: [{name: r}]\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(c.Datasource.Timeout) != DefaultDatasourceTimeout || time.Duration(c.Datasource.DownAlertAfter) != DefaultDownAlertAfter ||
		time.Duration(c.Global.EvaluationInterval) != DefaultEvaluationInterval {
		t.Errorf("defaults lost: global %+v, datasource timeout %v, down_alert_after %v", c.Global, c.Datasource.Timeout, c.Datasource.DownAlertAfter)
	}
	c, err = Load([]byte("datasource: {url: http://a:1}\n"), "")
	if err != nil || time.Duration(c.Datasource.DownAlertAfter) != DefaultDownAlertAfter {
		t.Errorf("down_alert_after default: %v %v", err, c)
	}
}

package notify_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	amconfig "github.com/prometheus/alertmanager/config"

	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/webhook"
)

func TestBuildReceivers(t *testing.T) {
	const route = "route: {receiver: team-x}\n"
	for _, tc := range []struct {
		name      string
		receivers string
		noWebhook bool
		// wantErrs are the lines of the joined error; none: success.
		wantErrs []string
		// want is each receiver's integrations, as name[index].
		want map[string]string
	}{
		{
			name: "webhooks and a null receiver",
			receivers: `
  - name: team-x
    webhook_configs: [{url: 'http://127.0.0.1:1/a'}, {url: 'http://127.0.0.1:1/b'}]
  - name: "null"`,
			want: map[string]string{"team-x": "webhook[0] webhook[1]", "null": ""},
		},
		{
			name: "kinds coming later",
			receivers: `
  - name: team-x
    email_configs: [{to: a@example.org, from: b@example.org, smarthost: 'localhost:25'}]
    slack_configs: [{api_url: 'http://127.0.0.1:1/slack', channel: '#x'}]
    pagerduty_configs: [{routing_key: abc}]`,
			wantErrs: []string{
				`receiver "team-x": email_configs are not supported`,
				`receiver "team-x": pagerduty_configs are not supported`,
				`receiver "team-x": slack_configs are not supported`,
			},
		},
		{
			name: "kinds not supported",
			receivers: `
  - name: team-x
    webhook_configs: [{url: 'http://127.0.0.1:1/a'}]
  - name: team-y
    opsgenie_configs: [{api_key: k}]
    telegram_configs: [{bot_token: t, chat_id: 1}]`,
			wantErrs: []string{
				`receiver "team-y": opsgenie_configs are not supported`,
				`receiver "team-y": telegram_configs are not supported`,
			},
		},
		{
			name:      "webhook without a builder",
			receivers: "\n  - name: team-x\n    webhook_configs: [{url: 'http://127.0.0.1:1/a'}]",
			noWebhook: true,
			wantErrs:  []string{`receiver "team-x": webhook_configs are not supported`},
		},
		{
			name:      "webhook that does not build",
			receivers: "\n  - name: team-x\n    webhook_configs: [{url: 'http://127.0.0.1:1/a'}, {url: 'http://127.0.0.1:1/{{ .S3CR3T }}'}]",
			wantErrs:  []string{`receiver "team-x": webhook_configs[1]: url: templates in the url are not supported yet`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := amconfig.Load(route + "receivers:" + tc.receivers + "\n")
			if err != nil {
				t.Fatal(err)
			}
			o := notify.BuildOptions{Webhook: webhook.Builder(webhook.Options{})}
			if tc.noWebhook {
				o.Webhook = nil
			}
			rcvs, err := notify.BuildReceivers(cfg, o)
			if len(tc.wantErrs) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				if d := cmp.Diff(tc.wantErrs, strings.Split(err.Error(), "\n")); d != "" {
					t.Errorf("errors (-want +got):\n%s", d)
				}
				if strings.Contains(err.Error(), "S3CR3T") {
					t.Errorf("the error shows the webhook URL: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for name, igs := range rcvs {
				var s []string
				for _, ig := range igs {
					s = append(s, fmt.Sprintf("%s[%d]", ig.Name(), ig.Index()))
				}
				got[name] = strings.Join(s, " ")
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("integrations (-want +got):\n%s", d)
			}
		})
	}
}

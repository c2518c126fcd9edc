package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"
	slackapi "github.com/slack-go/slack"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/config"
	"github.com/alertd/alertd/internal/pagerdutytest"
	"github.com/alertd/alertd/internal/slackapitest"
	"github.com/alertd/alertd/internal/smtptest"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/silences"
)

// previewAt is the time of the previews: a Monday, New Year's Day.
var previewAt = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// newTestPreviewer loads alertd.yml text and builds a Previewer whose Now
// is previewAt.
func newTestPreviewer(t *testing.T, yml string) *Previewer {
	t.Helper()
	cfg, err := config.Load([]byte(yml), t.TempDir())
	if err != nil {
		t.Fatalf("load config: %v\n%s", err, yml)
	}
	p, err := NewPreviewer(cfg, PreviewOptions{Now: func() time.Time { return previewAt }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// hookRecorder is a webhook receiver that keeps the bodies it gets.
type hookRecorder struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func newHookRecorder(t *testing.T) *hookRecorder {
	t.Helper()
	h := &hookRecorder{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookRecorder) got() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.bodies...)
}

// routingConfig is a routing tree with continue, nested routes and
// group_by at several levels; every receiver is a webhook to url.
func routingConfig(url string) string {
	var b strings.Builder
	b.WriteString(`global: {external_url: "http://alertd.test:9095"}
route:
  receiver: default
  group_by: [alertname]
  routes:
  - matchers: [severity="page"]
    receiver: pager
    continue: true
  - matchers: [team="db"]
    receiver: db
    group_by: [alertname, cluster]
    routes:
    - matchers: [env="prod"]
      receiver: db-prod
  - matchers: [severity="page"]
    receiver: catchall
  - matchers: [team="web"]
    receiver: web
    group_by: ['...']
receivers:
`)
	for _, name := range []string{"default", "pager", "db", "db-prod", "catchall", "web"} {
		fmt.Fprintf(&b, "- name: %s\n  webhook_configs: [{url: %q}]\n", name, url)
	}
	return b.String()
}

func TestPreviewRoutesInRoutingOrder(t *testing.T) {
	p := newTestPreviewer(t, routingConfig("http://127.0.0.1:9/hook"))
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   []RouteMatch // Route and Receiver
	}{{
		name:   "continue, then the first match stops",
		labels: map[string]string{"alertname": "A", "severity": "page", "team": "db"},
		want:   []RouteMatch{{Route: `{}/{severity="page"}/0`, Receiver: "pager"}, {Route: `{}/{team="db"}/1`, Receiver: "db"}},
	}, {
		name:   "nested route",
		labels: map[string]string{"alertname": "A", "severity": "page", "team": "db", "env": "prod"},
		want:   []RouteMatch{{Route: `{}/{severity="page"}/0`, Receiver: "pager"}, {Route: `{}/{team="db"}/1/{env="prod"}/0`, Receiver: "db-prod"}},
	}, {
		name:   "continue, then a later sibling",
		labels: map[string]string{"alertname": "A", "severity": "page"},
		want:   []RouteMatch{{Route: `{}/{severity="page"}/0`, Receiver: "pager"}, {Route: `{}/{severity="page"}/2`, Receiver: "catchall"}},
	}, {
		name:   "no child matches: the root",
		labels: map[string]string{"alertname": "A", "team": "other"},
		want:   []RouteMatch{{Route: `{}`, Receiver: "default"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := p.Routes(labels.FromMap(tc.labels))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Routes (-want +got):\n%s", diff)
			}
			ds, err := p.Route(tc.labels, map[string]string{"summary": "s"})
			if err != nil {
				t.Fatal(err)
			}
			var receivers, wantReceivers []string
			for _, d := range ds {
				if d.Integration != "webhook" || d.Index != 0 {
					t.Errorf("delivery %+v, want webhook[0]", d)
				}
				receivers = append(receivers, d.Receiver)
			}
			for _, w := range tc.want {
				wantReceivers = append(wantReceivers, w.Receiver)
			}
			if diff := cmp.Diff(wantReceivers, receivers); diff != "" {
				t.Errorf("Route receivers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPreviewGroupsAsTheDispatcher(t *testing.T) {
	p := newTestPreviewer(t, routingConfig("http://127.0.0.1:9/hook"))
	mk := func(kv ...string) *alert.Alert {
		return &alert.Alert{Labels: labels.FromStrings(kv...), StartsAt: previewAt.Add(-time.Minute)}
	}
	pv, err := p.Preview(PreviewInput{Alerts: []*alert.Alert{
		mk("alertname", "A", "team", "db", "cluster", "c1", "instance", "1"),
		mk("alertname", "A", "team", "db", "cluster", "c1", "instance", "2"),
		mk("alertname", "A", "team", "db", "cluster", "c2", "instance", "1"),
		mk("alertname", "B", "team", "web", "x", "1"),
		mk("alertname", "B", "team", "web", "x", "2"),
		mk("alertname", "C"),
		mk("alertname", "C", "instance", "9"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	type group struct {
		Route, Receiver, Key, Labels string
		Alerts                       int
	}
	var got []group
	for _, g := range pv.Groups {
		got = append(got, group{g.Route, g.Receiver, g.GroupKey, g.GroupLabels.String(), len(g.Alerts)})
		if len(g.Sent) != len(g.Alerts) || len(g.Integrations) != 1 || g.Integrations[0].Rendered == nil {
			t.Errorf("group %s: sent %d of %d alerts, integrations %+v", g.GroupKey, len(g.Sent), len(g.Alerts), g.Integrations)
		}
	}
	want := []group{
		{`{}`, "default", `{}:{alertname="C"}`, `{alertname="C"}`, 2},
		{`{}/{team="db"}/1`, "db", `{}/{team="db"}:{alertname="A", cluster="c1"}`, `{alertname="A", cluster="c1"}`, 2},
		{`{}/{team="db"}/1`, "db", `{}/{team="db"}:{alertname="A", cluster="c2"}`, `{alertname="A", cluster="c2"}`, 1},
		{`{}/{team="web"}/3`, "web", `{}/{team="web"}:{alertname="B", team="web", x="1"}`, `{alertname="B", team="web", x="1"}`, 1},
		{`{}/{team="web"}/3`, "web", `{}/{team="web"}:{alertname="B", team="web", x="2"}`, `{alertname="B", team="web", x="2"}`, 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	// The message is the group's: both alerts, sorted as in a
	// notification (instance, then labels), the group key and labels.
	var m struct {
		GroupKey    string            `json:"groupKey"`
		GroupLabels map[string]string `json:"groupLabels"`
		Alerts      []struct {
			Labels   map[string]string `json:"labels"`
			StartsAt time.Time         `json:"startsAt"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(pv.Groups[1].Integrations[0].Rendered.Body, &m); err != nil {
		t.Fatal(err)
	}
	if m.GroupKey != want[1].Key || len(m.Alerts) != 2 || m.Alerts[0].Labels["instance"] != "1" || m.Alerts[1].Labels["instance"] != "2" ||
		!m.Alerts[0].StartsAt.Equal(previewAt.Add(-time.Minute)) {
		t.Errorf("webhook message: %+v", m)
	}
}

func TestPreviewMutes(t *testing.T) {
	p := newTestPreviewer(t, `route:
  receiver: hook
  group_by: [alertname]
  routes:
  - matchers: [team="night"]
    receiver: hook
    mute_time_intervals: [newyear]
  - matchers: [team="day"]
    receiver: hook
    active_time_intervals: [newyear]
time_intervals:
- name: newyear
  time_intervals: [{months: [january], days_of_month: ["1"]}]
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [instance]
receivers:
- name: hook
  webhook_configs: [{url: "http://127.0.0.1:9/hook"}]
`)
	al := func(kv ...string) *alert.Alert {
		return &alert.Alert{Labels: labels.FromStrings(kv...), StartsAt: previewAt}
	}
	crit := al("alertname", "Crit", "severity", "critical", "instance", "a")
	warnA := al("alertname", "Warn", "severity", "warning", "instance", "a")
	warnB := al("alertname", "Warn", "severity", "warning", "instance", "b")
	// A resolved source alert inhibits nothing.
	oldCrit := &alert.Alert{Labels: labels.FromStrings("alertname", "Crit", "severity", "critical", "instance", "b"),
		StartsAt: previewAt.Add(-time.Hour), EndsAt: previewAt.Add(-time.Minute)}
	silenced := al("alertname", "Silenced")
	expired := al("alertname", "Expired")
	night := al("alertname", "Night", "team", "night")
	day := al("alertname", "Day", "team", "day")
	sil := func(id, name string, start, end time.Time) *silences.Silence {
		// A matcher built without NewMatcher, as from JSON: Preview
		// compiles it.
		return &silences.Silence{ID: id, StartsAt: start, EndsAt: end, Matchers: amlabels.Matchers{{Type: amlabels.MatchRegexp, Name: "alertname", Value: name}}}
	}
	in := PreviewInput{
		Alerts: []*alert.Alert{crit, warnA, warnB, oldCrit, silenced, expired, night, day},
		Silences: []*silences.Silence{
			sil("active", "Silenced|Crit", previewAt.Add(-time.Hour), previewAt.Add(time.Hour)),
			sil("expired", "Expired", previewAt.Add(-2*time.Hour), previewAt.Add(-time.Hour)),
			sil("pending", "Expired", previewAt.Add(time.Hour), previewAt.Add(2*time.Hour)),
		},
		At: previewAt,
	}
	type outcome struct {
		Inhibited, Silenced map[string][]string // by alert instance or name
		MutedBy             []string
		Sent                int
		Muted               string
	}
	summarise := func(pv *Preview) map[string]outcome {
		out := map[string]outcome{}
		for _, g := range pv.Groups {
			o := outcome{Inhibited: map[string][]string{}, Silenced: map[string][]string{}, MutedBy: g.MutedBy, Sent: len(g.Sent), Muted: g.Muted()}
			for _, a := range g.Alerts {
				id := a.Labels.Get("alertname") + a.Labels.Get("instance")
				if by := g.Inhibited[a.Fingerprint()]; by != nil {
					o.Inhibited[id] = by
				}
				if by := g.Silenced[a.Fingerprint()]; by != nil {
					o.Silenced[id] = by
				}
			}
			out[g.GroupKey] = o
		}
		return out
	}
	pv, err := p.Preview(in)
	if err != nil {
		t.Fatal(err)
	}
	none := map[string][]string{}
	want := map[string]outcome{
		`{}:{alertname="Crit"}`:     {Inhibited: none, Silenced: map[string][]string{"Crita": {"active"}, "Critb": {"active"}}, Muted: "every alert is inhibited or silenced"},
		`{}:{alertname="Warn"}`:     {Inhibited: map[string][]string{"Warna": {fingerprint(crit.Fingerprint())}}, Silenced: none, Sent: 1},
		`{}:{alertname="Silenced"}`: {Inhibited: none, Silenced: map[string][]string{"Silenced": {"active"}}, Muted: "every alert is inhibited or silenced"},
		`{}:{alertname="Expired"}`:  {Inhibited: none, Silenced: none, Sent: 1},
		// January 1st: the night route is muted, the day route active.
		`{}/{team="night"}:{alertname="Night"}`: {Inhibited: none, Silenced: none, MutedBy: []string{"newyear"}, Muted: "muted by time intervals newyear"},
		`{}/{team="day"}:{alertname="Day"}`:     {Inhibited: none, Silenced: none, Sent: 1},
	}
	if diff := cmp.Diff(want, summarise(pv)); diff != "" {
		t.Errorf("on January 1st (-want +got):\n%s", diff)
	}
	for _, g := range pv.Groups {
		if g.GroupKey == `{}:{alertname="Warn"}` {
			// Only instance b's alert is in the message.
			var m struct {
				Alerts []struct {
					Labels map[string]string `json:"labels"`
				} `json:"alerts"`
			}
			if err := json.Unmarshal(g.Integrations[0].Rendered.Body, &m); err != nil || len(m.Alerts) != 1 || m.Alerts[0].Labels["instance"] != "b" {
				t.Errorf("message of the Warn group: %s (%v)", g.Integrations[0].Rendered.Body, err)
			}
		}
	}

	in.At = previewAt.Add(24 * time.Hour)
	pv, err = p.Preview(in)
	if err != nil {
		t.Fatal(err)
	}
	got := summarise(pv)
	if o := got[`{}/{team="night"}:{alertname="Night"}`]; o.Muted != "" || o.Sent != 1 {
		t.Errorf("night route on January 2nd: %+v, want sent", o)
	}
	if o := got[`{}/{team="day"}:{alertname="Day"}`]; !cmp.Equal(o.MutedBy, []string{"newyear"}) || o.Sent != 0 {
		t.Errorf("day route on January 2nd: %+v, want muted outside its active interval", o)
	}
	if o := got[`{}:{alertname="Silenced"}`]; o.Sent != 1 {
		t.Errorf("silence ended on January 2nd, yet: %+v", o)
	}

	in.Silences = []*silences.Silence{{ID: "bad", Matchers: amlabels.Matchers{{Type: amlabels.MatchRegexp, Name: "a", Value: "("}}}}
	if _, err := p.Preview(in); err == nil || !strings.Contains(err.Error(), "silence bad: matcher 0") {
		t.Errorf("a silence that does not compile: %v", err)
	}
}

// TestPreviewRendersWhatIsSent previews one group through every kind of
// integration, then sends the same data through the same integrations to
// the test servers, and checks that what arrived is what was rendered.
func TestPreviewRendersWhatIsSent(t *testing.T) {
	const (
		routingKey = "preview0routing0key0000000000001" // 32 characters, as PagerDuty's
		slackToken = "xoxb-preview-token"
		hookSecret = "hook-secret"
	)
	hook := newHookRecorder(t)
	mail := smtptest.Start(t, smtptest.Options{})
	slack := slackapitest.Start(t, slackToken)
	pd := pagerdutytest.Start(t)
	p := newTestPreviewer(t, fmt.Sprintf(`global:
  external_url: http://alertd.test:9095
  smtp_smarthost: %s
  smtp_from: alertd@example.org
  smtp_require_tls: false
route:
  receiver: all
  group_by: [alertname]
receivers:
- name: all
  webhook_configs: [{url: %q}]
  email_configs:
  - to: 'ops@example.org, {{ .CommonLabels.team }}@example.org'
    headers: {Subject: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ len .Alerts }})', X-Team: '{{ .CommonLabels.team }}'}
    text: '{{ range .Alerts }}{{ .Annotations.summary }}{{ "\n" }}{{ end }}'
  - to: ops@example.org
  slack_configs:
  - api_url: %q
    channel: '#{{ .CommonLabels.team }}'
    title: '{{ .CommonLabels.alertname }} on {{ len .Alerts }} hosts'
    pretext: pre {{ .Status }}
    text: '{{ range .Alerts }}{{ .Annotations.summary }} {{ end }}'
    fields: [{title: team, value: '{{ .CommonLabels.team }}'}]
  - app_token: %s
    app_url: %s
    channel: '#ops'
  pagerduty_configs:
  - routing_key: %s
    url: %s
    description: '{{ .CommonLabels.alertname }}: {{ range .Alerts }}{{ .Labels.instance }} {{ end }}'
    severity: critical
`, mail.Addr(), hook.srv.URL+"/hook", slack.HookURL(hookSecret), slackToken, slack.APIURL()+"chat.postMessage", routingKey, pd.URL()))

	at := time.Now().UTC().Truncate(time.Second)
	mk := func(instance string) *alert.Alert {
		return &alert.Alert{
			Labels:       labels.FromStrings("alertname", "Down", "team", "db", "instance", instance),
			Annotations:  labels.FromStrings("summary", instance+" is down <&>"),
			StartsAt:     at.Add(-time.Minute),
			EndsAt:       at.Add(time.Hour),
			GeneratorURL: "http://prometheus.test/graph",
		}
	}
	pv, err := p.Preview(PreviewInput{Alerts: []*alert.Alert{mk("h2"), mk("h1")}, At: at})
	if err != nil {
		t.Fatal(err)
	}
	if len(pv.Groups) != 1 {
		t.Fatalf("groups: %+v", pv.Groups)
	}
	g := pv.Groups[0]
	if len(g.Integrations) != 6 {
		t.Fatalf("integrations: %+v", g.Integrations)
	}
	var kinds []string
	for _, ip := range g.Integrations {
		if ip.Err != nil || ip.Rendered == nil {
			t.Fatalf("%s[%d]: %v", ip.Name, ip.Index, ip.Err)
		}
		kinds = append(kinds, fmt.Sprintf("%s[%d]", ip.Name, ip.Index))
	}
	// The same flush through the daemon's notification pipeline and its
	// integrations (the ones the Previewer built), which send for real.
	pl, err := notify.New(notify.Options{Receivers: p.half.receivers, ExternalURL: p.externalURL})
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.Notify(t.Context(), &alert.Notification{
		GroupKey: g.GroupKey, GroupLabels: g.GroupLabels, Receiver: g.Receiver, RepeatInterval: time.Hour, Now: at, Alerts: g.Alerts,
	}); err != nil {
		t.Fatalf("notify: %v", err)
	}
	if want := []string{"email[0]", "email[1]", "pagerduty[0]", "slack[0]", "slack[1]", "webhook[0]"}; !cmp.Equal(kinds, want) {
		t.Errorf("integrations %v, want %v (by kind as Alertmanager's receiver lists them, then configuration order)", kinds, want)
	}
	rendered := func(kind string, idx int) *notify.Rendered {
		for _, ip := range g.Integrations {
			if ip.Name == kind && ip.Index == idx {
				return ip.Rendered
			}
		}
		t.Fatalf("no %s[%d]", kind, idx)
		return nil
	}

	t.Run("webhook", func(t *testing.T) {
		got := hook.got()
		if len(got) != 1 {
			t.Fatalf("webhook got %d requests", len(got))
		}
		if r := rendered("webhook", 0); string(r.Body) != string(got[0]) || r.ContentType != "application/json" {
			t.Errorf("rendered %s\nsent     %s", r.Body, got[0])
		}
	})

	t.Run("email", func(t *testing.T) {
		msgs := mail.Messages()
		if len(msgs) != 2 {
			t.Fatalf("smtp server got %d messages", len(msgs))
		}
		// Message-Id and the MIME boundary are random, Date is the
		// sending time.
		normalise := func(b []byte) string {
			s := regexp.MustCompile(`(?m)^(Message-Id|Date): .*\r\n`).ReplaceAllString(string(b), "$1: X\r\n")
			return regexp.MustCompile(`[0-9a-f]{60}`).ReplaceAllString(s, "BOUNDARY")
		}
		for _, m := range msgs {
			// The integrations send at once: email[0] is the one
			// with two recipients.
			i := 1
			if len(m.To) == 2 {
				i = 0
			}
			r := rendered("email", i)
			if diff := cmp.Diff(normalise(r.Body), normalise(m.Raw)); diff != "" {
				t.Errorf("email[%d] (-rendered +sent):\n%s", i, diff)
			}
			// The parts go as MIME text, with CRLF line ends.
			crlf := strings.NewReplacer("\n", "\r\n")
			if r.Fields["subject"] != m.Subject {
				t.Errorf("email[%d] subject %q, sent %q", i, r.Fields["subject"], m.Subject)
			}
			if diff := cmp.Diff(crlf.Replace(r.Fields["text"]), m.Text); diff != "" {
				t.Errorf("email[%d] text (-rendered +sent):\n%s", i, diff)
			}
			if diff := cmp.Diff(crlf.Replace(r.Fields["html"]), m.HTML); diff != "" {
				t.Errorf("email[%d] html (-rendered +sent):\n%s", i, diff)
			}
		}
		r := rendered("email", 0)
		if r.Fields["subject"] != "[FIRING] Down (2)" || r.Fields["text"] != "h1 is down <&>\nh2 is down <&>\n" ||
			r.Fields["to"] != "ops@example.org, db@example.org" || r.Fields["headers.X-Team"] != "db" {
			t.Errorf("email[0] fields: subject %q text %q to %q X-Team %q html %.40q", r.Fields["subject"], r.Fields["text"], r.Fields["to"], r.Fields["headers.X-Team"], r.Fields["html"])
		}
		if !strings.Contains(rendered("email", 1).Fields["html"], "<html") {
			t.Errorf("email[1] has no default HTML: %q", rendered("email", 1).Fields["html"])
		}
	})

	t.Run("slack", func(t *testing.T) {
		calls := slack.Calls()
		if len(calls) != 2 {
			t.Fatalf("slack got %d calls", len(calls))
		}
		for _, c := range calls {
			// The integrations send at once: slack[0] is the
			// incoming webhook, slack[1] the bot.
			i := 1
			if c.Method == "webhook" {
				i = 0
			}
			r := rendered("slack", i)
			var m struct {
				Channel     string                `json:"channel"`
				Username    string                `json:"username"`
				IconEmoji   string                `json:"icon_emoji"`
				IconURL     string                `json:"icon_url"`
				Text        string                `json:"text"`
				Attachments []slackapi.Attachment `json:"attachments"`
			}
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatal(err)
			}
			sent := struct {
				Channel, Username, IconEmoji, IconURL, Text string
				Attachments                                 []slackapi.Attachment
			}{c.SentChannel, c.Username, c.IconEmoji, c.IconURL, c.Text, c.Attachments}
			want := struct {
				Channel, Username, IconEmoji, IconURL, Text string
				Attachments                                 []slackapi.Attachment
			}{m.Channel, m.Username, m.IconEmoji, m.IconURL, m.Text, m.Attachments}
			if diff := cmp.Diff(want, sent); diff != "" {
				t.Errorf("slack[%d] (%s) (-rendered +sent):\n%s", i, c.Method, diff)
			}
			if a := c.Attachments[0]; r.Fields["title"] != a.Title || r.Fields["text"] != a.Text || r.Fields["pretext"] != a.Pretext || r.Fields["channel"] != c.SentChannel {
				t.Errorf("slack[%d] fields %q, sent %+v", i, r.Fields, a)
			}
		}
		r := rendered("slack", 0)
		if r.Fields["mode"] != "webhook" || r.Fields["title"] != "Down on 2 hosts" || r.Fields["pretext"] != "pre firing" ||
			r.Fields["text"] != "h1 is down <&> h2 is down <&> " || r.Fields["channel"] != "#db" || r.Fields["fields[0].value"] != "db" {
			t.Errorf("slack[0] fields: %q", r.Fields)
		}
		if r := rendered("slack", 1); r.Fields["mode"] != "bot" || !strings.Contains(r.Fields["title"], "[FIRING:2] Down") {
			t.Errorf("slack[1] fields: %q", r.Fields)
		}
	})

	t.Run("pagerduty", func(t *testing.T) {
		evs := pd.Events()
		if len(evs) != 1 {
			t.Fatalf("pagerduty got %d events, refused %+v", len(evs), pd.Rejections())
		}
		r := rendered("pagerduty", 0)
		if string(r.Body) != string(evs[0].Raw) {
			t.Errorf("rendered %s\nsent     %s", r.Body, evs[0].Raw)
		}
		if r.Fields["summary"] != evs[0].Payload.Summary || r.Fields["summary"] != "Down: h1 h2 " ||
			r.Fields["severity"] != "critical" || r.Fields["event_action"] != "trigger" || r.Fields["dedup_key"] != evs[0].DedupKey {
			t.Errorf("fields %q, sent %+v", r.Fields, evs[0])
		}
		if red := string(r.Redacted()); strings.Contains(red, routingKey) || !strings.Contains(red, `"routing_key":"<redacted>"`) {
			t.Errorf("redacted body: %s", red)
		}
	})

	t.Run("route", func(t *testing.T) {
		ds, err := p.Route(map[string]string{"alertname": "Down", "team": "db", "instance": "h1"}, map[string]string{"summary": "h1 is down"})
		if err != nil {
			t.Fatal(err)
		}
		fields := map[string]string{}
		for _, d := range ds {
			if d.Receiver != "all" {
				t.Errorf("delivery to %q", d.Receiver)
			}
			for _, k := range []string{"subject", "title", "summary"} {
				if v, ok := d.Fields[k]; ok {
					fields[fmt.Sprintf("%s[%d].%s", d.Integration, d.Index, k)] = v
				}
			}
		}
		want := map[string]string{
			"email[0].subject":     "[FIRING] Down (1)",
			"email[1].subject":     `[FIRING:1] Down (h1 db)`,
			"slack[0].title":       "Down on 1 hosts",
			"slack[1].title":       "[FIRING:1] Down (h1 db)",
			"pagerduty[0].summary": "Down: h1 ",
		}
		if diff := cmp.Diff(want, fields); diff != "" {
			t.Errorf("Route fields (-want +got):\n%s", diff)
		}
	})
}

func TestPreviewWithoutRouting(t *testing.T) {
	p := newTestPreviewer(t, "datasource: {url: http://127.0.0.1:9}\n")
	if rs := p.Routes(labels.FromStrings("alertname", "A")); rs != nil {
		t.Errorf("routes: %+v", rs)
	}
	ds, err := p.Route(map[string]string{"alertname": "A"}, nil)
	if err != nil || ds != nil {
		t.Errorf("Route: %+v, %v", ds, err)
	}
}

func TestPreviewRouteReportsRenderErrors(t *testing.T) {
	p := newTestPreviewer(t, `route:
  receiver: team
receivers:
- name: team
  slack_configs:
  - api_url: http://127.0.0.1:9/hook
    title: '{{ template "no.such.template" . }}'
  webhook_configs: [{url: "http://127.0.0.1:9/hook"}]
- name: "null"
`)
	ds, err := p.Route(map[string]string{"alertname": "A"}, nil)
	if err == nil || !strings.Contains(err.Error(), `receiver "team": slack[0]: template of title:`) {
		t.Errorf("error %v, want the receiver, the integration and the field named", err)
	}
	if len(ds) != 1 || ds[0].Integration != "webhook" {
		t.Errorf("deliveries %+v, want the webhook's still", ds)
	}

	p = newTestPreviewer(t, "route: {receiver: \"null\"}\nreceivers: [{name: \"null\"}]\n")
	ds, err = p.Route(map[string]string{"alertname": "A"}, nil)
	if err != nil || !cmp.Equal(ds, []Delivery{{Receiver: "null"}}) {
		t.Errorf("a receiver without integrations: %+v, %v", ds, err)
	}
}

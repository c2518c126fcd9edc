package slack_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	amconfig "github.com/prometheus/alertmanager/config"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"
	slackapi "github.com/slack-go/slack"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/internal/notifytest"
	"github.com/alertd/alertd/internal/slackapitest"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/slack"
	"github.com/alertd/alertd/store"
)

// The secrets of the tests: a bot token and a webhook path's last element.
const (
	token  = "xoxb-1234-T0K3N"
	secret = "S3CR3T0000"
)

func newNotifier(t *testing.T, c slack.Config) *slack.Notifier {
	t.Helper()
	n, err := slack.New(0, c, slack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// hookConfig and botConfig are the defaults with the fake's webhook or
// token, channel #alerts and send_resolved true.
func hookConfig(f *slackapitest.Server) slack.Config {
	c := slack.DefaultConfig()
	c.APIURL = f.HookURL(secret)
	c.Channel = "#alerts"
	c.SendResolved = true
	return c
}

func botConfig(f *slackapitest.Server) slack.Config {
	c := slack.DefaultConfig()
	c.AppToken = token
	c.AppURL = f.APIURL() + "chat.postMessage"
	c.Channel = "#alerts"
	c.SendResolved = true
	return c
}

// ignoreReceivedAt leaves out of comparisons of calls when they were
// received.
var ignoreReceivedAt = cmpopts.IgnoreFields(slackapitest.Call{}, "ReceivedAt")

func noSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, sec := range []string{token, secret, "T0K3N"} {
		if strings.Contains(s, sec) {
			t.Errorf("%s shows the secret %q: %s", what, sec, s)
		}
	}
}

// TestMessage: every field of the message, firing then resolved, as the
// incoming webhook and the Web API get them.
func TestMessage(t *testing.T) {
	no := false
	full := func(c slack.Config) slack.Config {
		c.IconEmoji = ":rotating_light:"
		c.IconURL = "https://example.org/icon.png"
		c.LinkNames = true
		c.MessageText = "{{ .GroupLabels.alertname }} is {{ .Status }}"
		c.Pretext = "<!here>"
		c.Text = "{{ range .Alerts }}{{ .Annotations.summary }}; {{ end }}"
		c.CallbackID = "cb-{{ .GroupLabels.alertname }}"
		c.ShortFields = true
		c.Fields = []slack.Field{
			{Title: "Severity", Value: "{{ .CommonLabels.severity }}"},
			{Title: "Firing", Value: "{{ .Alerts.Firing | len }}", Short: &no},
		}
		c.Actions = []slack.Action{
			{Type: "button", Text: "Runbook", URL: "https://runbooks.example/{{ .GroupLabels.alertname }}", Style: "primary"},
			{Type: "button", Text: "Ack", Name: "ack", Value: "{{ .GroupLabels.alertname }}", Style: "danger",
				Confirm: &slack.Confirm{Title: "Ack?", Text: "Acknowledge {{ .GroupLabels.alertname }}", OkText: "Yes", DismissText: "No"}},
		}
		c.ImageURL = "https://example.org/graph.png"
		c.ThumbURL = "https://example.org/thumb.png"
		c.Footer = "alertd {{ .Receiver }}"
		return c
	}
	link := "http://alertd.example:9093/#/alerts?receiver=conformance"
	want := func(method, title, color, status, firing string) slackapitest.Call {
		return slackapitest.Call{
			Method: method, Channel: "#alerts", SentChannel: "#alerts", Username: "Alertmanager",
			IconEmoji: ":rotating_light:", IconURL: "https://example.org/icon.png", LinkNames: true,
			Text: "ConformanceDown is " + status,
			Attachments: []slackapi.Attachment{{
				Title:      title,
				TitleLink:  link,
				Pretext:    "<!here>",
				Text:       "a is down; b is down; ",
				Fallback:   title + " | " + link,
				CallbackID: "cb-ConformanceDown",
				Fields: []slackapi.AttachmentField{
					{Title: "Severity", Value: "page", Short: true},
					{Title: "Firing", Value: firing, Short: false},
				},
				Actions: []slackapi.AttachmentAction{
					{Type: "button", Text: "Runbook", URL: "https://runbooks.example/ConformanceDown", Style: "primary"},
					{Type: "button", Text: "Ack", Name: "ack", Value: "ConformanceDown", Style: "danger",
						Confirm: &slackapi.ConfirmationField{Title: "Ack?", Text: "Acknowledge ConformanceDown", OkText: "Yes", DismissText: "No"}},
				},
				ImageURL:   "https://example.org/graph.png",
				ThumbURL:   "https://example.org/thumb.png",
				Footer:     "alertd conformance",
				Color:      color,
				MarkdownIn: []string{"fallback", "pretext", "text"},
			}},
			Accepted: true,
		}
	}
	for _, tc := range []struct {
		name   string
		config func(*slackapitest.Server) slack.Config
		method string
		// fill sets what only one way shows: the webhook's path, the
		// Authorization header, the channel's ID, the ts.
		fill func(i int, c *slackapitest.Call)
	}{
		{"incoming webhook", hookConfig, "webhook", func(_ int, c *slackapitest.Call) { c.Path = "/services/T0001/B0001/" + secret }},
		{"bot token", botConfig, "chat.postMessage", func(i int, c *slackapitest.Call) {
			c.Auth = "Bearer " + token
			c.Channel = "CALERTS"
			c.TS = fmt.Sprintf("1767225600.%06d", i+1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := slackapitest.Start(t, secret)
			if tc.method != "webhook" {
				f.SetSecret(token)
			}
			n := newNotifier(t, full(tc.config(f)))
			for _, d := range []*notify.Data{notifytest.Firing(), notifytest.Resolved()} {
				if retry, err := n.Notify(t.Context(), d); err != nil {
					t.Fatalf("Notify %s: retry %v, %v", d.Status, retry, err)
				}
			}
			wants := []slackapitest.Call{
				want(tc.method, "[FIRING:1] ConformanceDown (page)", "danger", "firing", "1"),
				want(tc.method, "[RESOLVED] ConformanceDown (page)", "good", "resolved", "0"),
			}
			for i := range wants {
				tc.fill(i, &wants[i])
			}
			if diff := cmp.Diff(wants, f.Requests(), ignoreReceivedAt); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTitleTruncated: the title is cut to 1024 runes, the last one "…", as
// Alertmanager does.
func TestTitleTruncated(t *testing.T) {
	for _, tc := range []struct {
		name, title, want string
	}{
		{"short", "[FIRING] é", "[FIRING] é"},
		{"1024 runes", strings.Repeat("é", 1024), strings.Repeat("é", 1024)},
		{"1025 runes", strings.Repeat("é", 1025), strings.Repeat("é", 1023) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := slackapitest.Start(t, secret)
			c := hookConfig(f)
			c.Title = tc.title
			if _, err := newNotifier(t, c).Notify(t.Context(), notifytest.Firing()); err != nil {
				t.Fatal(err)
			}
			got := f.Requests()
			if len(got) != 1 || len(got[0].Attachments) != 1 {
				t.Fatalf("calls %+v, want one message", got)
			}
			if title := got[0].Attachments[0].Title; title != tc.want {
				t.Errorf("title of %d runes %q…, want %d runes", len([]rune(title)), title[:min(len(title), 20)], len([]rune(tc.want)))
			}
		})
	}
}

// step is one flush of the group "Down" in the pipeline tests.
type step struct {
	at     time.Duration // after t0
	alerts []*alert.Alert
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// down returns the alert Down of instance, started at t0+start, resolved
// at t0+end if end is not zero.
func down(instance string, start, end time.Duration) *alert.Alert {
	a := &alert.Alert{
		Labels:      labels.FromStrings("alertname", "Down", "instance", instance, "severity", "page"),
		Annotations: labels.FromStrings("summary", instance+" is down"),
		StartsAt:    t0.Add(start),
	}
	if end != 0 {
		a.EndsAt = t0.Add(end)
	}
	return a
}

// flush runs one flush of the group through p.
func flush(t *testing.T, p *notify.Pipeline, s step) {
	t.Helper()
	if err := p.Notify(t.Context(), &alert.Notification{
		GroupKey:       `{}:{alertname="Down"}`,
		GroupLabels:    labels.FromStrings("alertname", "Down"),
		Receiver:       "team",
		RepeatInterval: 4 * time.Hour,
		Now:            t0.Add(s.at),
		Alerts:         s.alerts,
	}); err != nil {
		t.Fatalf("flush at t0+%s: %v", s.at, err)
	}
}

// sent is what the pipeline tests compare of a call.
type sent struct {
	Method, Channel, TS, Title, Color string
}

func summarise(calls []slackapitest.Call) []sent {
	var out []sent
	for _, c := range calls {
		s := sent{Method: c.Method, Channel: c.SentChannel, TS: c.TS}
		if len(c.Attachments) == 1 {
			s.Title, s.Color = c.Attachments[0].Title, c.Attachments[0].Color
		}
		out = append(out, s)
	}
	return out
}

// TestIncidentIsOneMessage: with a bot token, an incident is one message:
// posted when it starts, edited while it goes on and when it resolves;
// the next firing posts a new one. The message's state goes through the
// notification log, in memory or in a store reopened between flushes.
func TestIncidentIsOneMessage(t *testing.T) {
	steps := []step{
		{0, []*alert.Alert{down("a", -time.Minute, 0)}},
		{5 * time.Minute, []*alert.Alert{down("a", -time.Minute, 0), down("b", 2*time.Minute, 0)}},
		{10 * time.Minute, []*alert.Alert{down("a", -time.Minute, 9*time.Minute), down("b", 2*time.Minute, 9*time.Minute)}},
		{20 * time.Minute, []*alert.Alert{down("a", 15*time.Minute, 0)}},
		{25 * time.Minute, []*alert.Alert{down("a", 15*time.Minute, 0), down("c", 22*time.Minute, 0)}},
	}
	want := []sent{
		{"chat.postMessage", "#alerts", "1767225600.000001", "[FIRING:1] Down (a page)", "danger"},
		{"chat.update", "CALERTS", "1767225600.000001", "[FIRING:2] Down (page)", "danger"},
		{"chat.update", "CALERTS", "1767225600.000001", "[RESOLVED] Down (page)", "good"},
		{"chat.postMessage", "#alerts", "1767225600.000002", "[FIRING:1] Down (a page)", "danger"},
		{"chat.update", "CALERTS", "1767225600.000002", "[FIRING:2] Down (page)", "danger"},
	}
	t.Run("in memory", func(t *testing.T) {
		f := slackapitest.Start(t, token)
		p, err := notify.New(notify.Options{Receivers: map[string][]notify.Integration{"team": {newNotifier(t, botConfig(f))}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range steps {
			flush(t, p, s)
		}
		if diff := cmp.Diff(want, summarise(f.Requests())); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
	})
	t.Run("store reopened between flushes", func(t *testing.T) {
		f := slackapitest.Start(t, token)
		dir := t.TempDir()
		for _, s := range steps {
			st, err := store.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			p, err := notify.New(notify.Options{
				Receivers: map[string][]notify.Integration{"team": {newNotifier(t, botConfig(f))}},
				Store:     st,
			})
			if err != nil {
				t.Fatal(err)
			}
			flush(t, p, s)
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff(want, summarise(f.Requests())); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
	})
	t.Run("incoming webhook posts every time", func(t *testing.T) {
		f := slackapitest.Start(t, secret)
		p, err := notify.New(notify.Options{Receivers: map[string][]notify.Integration{"team": {newNotifier(t, hookConfig(f))}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range steps {
			flush(t, p, s)
		}
		var got []string
		for _, c := range f.Requests() {
			got = append(got, c.Method+" "+c.Attachments[0].Title)
		}
		want := []string{
			"webhook [FIRING:1] Down (a page)",
			"webhook [FIRING:2] Down (page)",
			"webhook [RESOLVED] Down (page)",
			"webhook [FIRING:1] Down (a page)",
			"webhook [FIRING:2] Down (page)",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
	})
}

// TestNewIncidentWithoutSendResolved: with send_resolved false the
// resolution is never sent, so the message cannot be closed; a firing
// whose alerts all started after those of the message is a new incident,
// posted as a new message.
func TestNewIncidentWithoutSendResolved(t *testing.T) {
	f := slackapitest.Start(t, token)
	c := botConfig(f)
	c.SendResolved = false
	p, err := notify.New(notify.Options{Receivers: map[string][]notify.Integration{"team": {newNotifier(t, c)}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []step{
		{0, []*alert.Alert{down("a", -time.Minute, 0)}},
		{5 * time.Minute, []*alert.Alert{down("a", -time.Minute, 0), down("b", 2*time.Minute, 0)}},
		// Not sent.
		{10 * time.Minute, []*alert.Alert{down("a", -time.Minute, 9*time.Minute), down("b", 2*time.Minute, 9*time.Minute)}},
		{20 * time.Minute, []*alert.Alert{down("a", 15*time.Minute, 0)}},
		// b has resolved (not sent) while c started: a goes on.
		{30 * time.Minute, []*alert.Alert{down("a", 15*time.Minute, 0), down("b", 16*time.Minute, 27*time.Minute), down("c", 28*time.Minute, 0)}},
	} {
		flush(t, p, s)
	}
	want := []sent{
		{"chat.postMessage", "#alerts", "1767225600.000001", "[FIRING:1] Down (a page)", "danger"},
		{"chat.update", "CALERTS", "1767225600.000001", "[FIRING:2] Down (page)", "danger"},
		{"chat.postMessage", "#alerts", "1767225600.000002", "[FIRING:1] Down (a page)", "danger"},
		{"chat.update", "CALERTS", "1767225600.000002", "[FIRING:2] Down (page)", "danger"},
	}
	if diff := cmp.Diff(want, summarise(f.Requests())); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// TestMessageGone: when Slack no longer lets the message be edited, a new
// one is posted; other failures of chat.update fail the notification.
func TestMessageGone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer slackapitest.Answer // to chat.update
		// Forget the posted messages instead.
		forget    bool
		wantRetry bool
		wantErr   string // empty: a new message is posted
	}{
		{name: "message deleted", forget: true},
		{name: "message_not_found", answer: slackapitest.APIError("message_not_found")},
		{name: "cant_update_message", answer: slackapitest.APIError("cant_update_message")},
		{name: "channel_not_found", answer: slackapitest.APIError("channel_not_found")},
		{name: "edit_window_closed", answer: slackapitest.APIError("edit_window_closed")},
		{name: "other refusal", answer: slackapitest.APIError("msg_too_long"), wantErr: `channel "CALERTS": error response from Slack: msg_too_long`},
		{name: "server error", answer: slackapitest.Status(http.StatusInternalServerError, "oops"), wantRetry: true, wantErr: `channel "CALERTS": unexpected status code 500: oops`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := slackapitest.Start(t, token)
			n := newNotifier(t, botConfig(f))
			st, _, err := n.NotifyState(t.Context(), notifytest.Firing(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.forget {
				f.Forget()
			} else {
				f.Answer(tc.answer)
			}
			next, retry, err := n.NotifyState(t.Context(), notifytest.Resolved(), st)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr || retry != tc.wantRetry {
					t.Fatalf("NotifyState: retry %v, err %v; want retry %v, err %q", retry, err, tc.wantRetry, tc.wantErr)
				}
				if next != nil {
					t.Errorf("state %s after a failure, want none", next)
				}
				return
			}
			if err != nil {
				t.Fatalf("NotifyState: retry %v, %v", retry, err)
			}
			want := []sent{
				{"chat.postMessage", "#alerts", "1767225600.000001", "[FIRING:1] ConformanceDown (page)", "danger"},
				{"chat.update", "CALERTS", "1767225600.000001", "[RESOLVED] ConformanceDown (page)", "good"},
				{"chat.postMessage", "#alerts", "1767225600.000002", "[RESOLVED] ConformanceDown (page)", "good"},
			}
			if diff := cmp.Diff(want, summarise(f.Requests())); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			// The new message is the one to edit.
			if _, _, err := n.NotifyState(t.Context(), notifytest.Resolved(), next); err != nil {
				t.Fatal(err)
			}
			if got := f.Requests(); len(got) != 4 || got[3].Method != "chat.update" || got[3].TS != "1767225600.000002" || !got[3].Accepted {
				t.Errorf("after the new message: %+v, want chat.update of 1767225600.000002", got[len(got)-1])
			}
		})
	}
}

// TestState: the state NotifyState keeps, and what it does with a state it
// cannot read or an incoming webhook's.
func TestState(t *testing.T) {
	t.Run("unreadable state posts a new message", func(t *testing.T) {
		f := slackapitest.Start(t, token)
		n := newNotifier(t, botConfig(f))
		if _, _, err := n.NotifyState(t.Context(), notifytest.Firing(), []byte("\x00garbage")); err != nil {
			t.Fatal(err)
		}
		if got := summarise(f.Requests()); len(got) != 1 || got[0].Method != "chat.postMessage" {
			t.Errorf("calls %+v, want one chat.postMessage", got)
		}
	})
	t.Run("incoming webhook keeps none", func(t *testing.T) {
		f := slackapitest.Start(t, secret)
		n := newNotifier(t, hookConfig(f))
		st, _, err := n.NotifyState(t.Context(), notifytest.Firing(), nil)
		if err != nil || st != nil {
			t.Fatalf("NotifyState: state %q, err %v; want none", st, err)
		}
	})
	t.Run("template error keeps the message", func(t *testing.T) {
		f := slackapitest.Start(t, token)
		c := botConfig(f)
		c.Text = `{{ if eq .Status "resolved" }}{{ .NoSuchField }}{{ end }}`
		n := newNotifier(t, c)
		st, _, err := n.NotifyState(t.Context(), notifytest.Firing(), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, retry, err := n.NotifyState(t.Context(), notifytest.Resolved(), st)
		if err == nil || retry || !strings.Contains(err.Error(), "template of text") {
			t.Fatalf("NotifyState: retry %v, err %v; want a permanent error naming text", retry, err)
		}
		if got := len(f.Requests()); got != 1 {
			t.Errorf("%d calls, want only the first post", got)
		}
	})
}

// TestAnswers: how Slack's answers are classified, for both ways of
// sending.
func TestAnswers(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		http.Error(w, "bad request to "+r.URL.Path+" with "+r.PostForm.Encode()+" "+r.Header.Get("Authorization"), http.StatusBadRequest)
	}
	date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		name       string
		bot        bool
		answer     slackapitest.Answer
		wantRetry  bool
		wantErr    string // the error's start
		wantReason notify.Reason
		// The Retry-After, at least min, at most max.
		minAfter, maxAfter time.Duration
	}{
		{name: "webhook ok", answer: slackapitest.Status(http.StatusOK, "ok")},
		{name: "webhook json ok", answer: slackapitest.Status(http.StatusOK, `{"ok":true}`, "Content-Type", "application/json")},
		{name: "webhook 200 not ok", answer: slackapitest.Status(http.StatusOK, "invalid_token"),
			wantErr: `channel "#alerts": received an error response from Slack: invalid_token`, wantReason: notify.ReasonClientError},
		{name: "webhook json refusal", answer: slackapitest.APIError("channel_is_archived"),
			wantErr: `channel "#alerts": error response from Slack: channel_is_archived`, wantReason: notify.ReasonClientError},
		{name: "webhook json unreadable", answer: slackapitest.Status(http.StatusOK, `{"ok":`, "Content-Type", "application/json"), wantRetry: true,
			wantErr: `channel "#alerts": could not unmarshal JSON response`, wantReason: notify.ReasonOther},
		{name: "webhook 404", answer: slackapitest.Status(http.StatusNotFound, "no_service"),
			wantErr: `channel "#alerts": unexpected status code 404: no_service`, wantReason: notify.ReasonClientError},
		{name: "webhook 403", answer: slackapitest.Status(http.StatusForbidden, "action_prohibited"),
			wantErr: `channel "#alerts": unexpected status code 403: action_prohibited`, wantReason: notify.ReasonAuthError},
		{name: "webhook 400 echoing the url", answer: echo,
			wantErr: `channel "#alerts": unexpected status code 400: bad request to <redacted>`, wantReason: notify.ReasonClientError},
		{name: "webhook 500", answer: slackapitest.Status(http.StatusInternalServerError, "oops"), wantRetry: true,
			wantErr: `channel "#alerts": unexpected status code 500: oops`, wantReason: notify.ReasonServerError},
		{name: "webhook 429", answer: slackapitest.Status(http.StatusTooManyRequests, "", "Retry-After", "30"), wantRetry: true,
			wantErr: `channel "#alerts": unexpected status code 429`, wantReason: notify.ReasonRateLimited, minAfter: 30 * time.Second, maxAfter: 30 * time.Second},
		{name: "webhook 429 without Retry-After", answer: slackapitest.Status(http.StatusTooManyRequests, ""), wantRetry: true,
			wantErr: `channel "#alerts": unexpected status code 429`, wantReason: notify.ReasonRateLimited},

		{name: "bot ok", bot: true},
		{name: "bot refusal", bot: true, answer: slackapitest.APIError("not_in_channel"),
			wantErr: `channel "#alerts": error response from Slack: not_in_channel`, wantReason: notify.ReasonClientError},
		{name: "bot auth refusal", bot: true, answer: slackapitest.APIError("invalid_auth"),
			wantErr: `channel "#alerts": error response from Slack: invalid_auth`, wantReason: notify.ReasonAuthError},
		{name: "bot not JSON", bot: true, answer: slackapitest.Status(http.StatusOK, "<html>maintenance</html>"), wantRetry: true,
			wantErr: `channel "#alerts": invalid character`, wantReason: notify.ReasonOther},
		{name: "bot 400 echoing the token", bot: true, answer: echo,
			wantErr: `channel "#alerts": unexpected status code 400: bad request to /chat.postMessage with`, wantReason: notify.ReasonClientError},
		{name: "bot 404", bot: true, answer: slackapitest.Status(http.StatusNotFound, "no such method"),
			wantErr: `channel "#alerts": unexpected status code 404: no such method`, wantReason: notify.ReasonClientError},
		{name: "bot 201", bot: true, answer: slackapitest.Status(http.StatusCreated, `{"ok":true}`),
			wantErr: `channel "#alerts": unexpected status code 201`, wantReason: notify.ReasonOther},
		{name: "bot 503", bot: true, answer: slackapitest.Status(http.StatusServiceUnavailable, "down"), wantRetry: true,
			wantErr: `channel "#alerts": unexpected status code 503: down`, wantReason: notify.ReasonServerError},
		{name: "bot 429", bot: true, answer: slackapitest.Status(http.StatusTooManyRequests, "", "Retry-After", "30"), wantRetry: true,
			wantErr: `channel "#alerts": unexpected status code 429`, wantReason: notify.ReasonRateLimited, minAfter: 30 * time.Second, maxAfter: 30 * time.Second},
		{name: "bot 429 without Retry-After", bot: true, answer: slackapitest.Status(http.StatusTooManyRequests, ""), wantRetry: true,
			wantErr: `channel "#alerts": unexpected status code 429`, wantReason: notify.ReasonRateLimited},
		{name: "bot 429 with a date", bot: true, answer: slackapitest.Status(http.StatusTooManyRequests, "", "Retry-After", date), wantRetry: true,
			wantErr: `channel "#alerts": unexpected status code 429`, wantReason: notify.ReasonRateLimited, minAfter: 58 * time.Minute, maxAfter: time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := slackapitest.Start(t, secret)
			c := hookConfig(f)
			if tc.bot {
				f.SetSecret(token)
				c = botConfig(f)
			}
			f.Answer(tc.answer)
			retry, err := newNotifier(t, c).Notify(t.Context(), notifytest.Firing())
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Notify: retry %v, %v", retry, err)
				}
				return
			}
			if err == nil || retry != tc.wantRetry || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("Notify: retry %v, err %v; want retry %v, err %q…", retry, err, tc.wantRetry, tc.wantErr)
			}
			noSecret(t, "the error", err.Error())
			reason, after := notify.ReasonOther, time.Duration(0)
			if e, ok := errors.AsType[*notify.Error](err); ok {
				reason, after = e.Reason, e.RetryAfter
			}
			if reason != tc.wantReason {
				t.Errorf("reason %q, want %q", reason, tc.wantReason)
			}
			if after < tc.minAfter || after > tc.maxAfter {
				t.Errorf("Retry-After %s, want %s to %s", after, tc.minAfter, tc.maxAfter)
			}
		})
	}
}

// TestSecretFiles: api_url_file and app_token_file are read at every
// notification, so that the secret can be rotated without a reload, and
// never shown.
func TestSecretFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		bot     bool
		secrets [2]string
	}{
		{"api_url_file", false, [2]string{secret, "S3CR3T1111"}},
		{"app_token_file", true, [2]string{token, "xoxb-5678-T0K3N2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := slackapitest.Start(t, tc.secrets[0])
			file := filepath.Join(t.TempDir(), "secret")
			c := slack.DefaultConfig()
			c.Channel = "#alerts"
			// The webhook URLs of both secrets, made before the fake
			// accepts only the current one (HookURL makes it accept one).
			hookURLs := map[string]string{}
			for _, s := range tc.secrets {
				hookURLs[s] = f.HookURL(s)
			}
			write := func(s string) {
				if !tc.bot {
					s = hookURLs[s]
				}
				if err := os.WriteFile(file, []byte("  "+s+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tc.bot {
				c.AppTokenFile, c.AppURL = file, f.APIURL()+"chat.postMessage"
			} else {
				c.APIURLFile = file
			}
			write(tc.secrets[0])
			n := newNotifier(t, c)
			for _, s := range tc.secrets {
				write(s)
				f.SetSecret(s)
				if retry, err := n.Notify(t.Context(), notifytest.Firing()); err != nil {
					t.Fatalf("Notify with %s: retry %v, %v", s, retry, err)
				}
			}
			// A secret the fake refuses: the error does not show it.
			write(tc.secrets[0])
			_, err := n.Notify(t.Context(), notifytest.Firing())
			if err == nil {
				t.Fatal("Notify with the old secret succeeded")
			}
			noSecret(t, "the error", err.Error())
			if strings.Contains(err.Error(), tc.secrets[0]) {
				t.Errorf("the error shows the secret: %v", err)
			}
			if err := os.Remove(file); err != nil {
				t.Fatal(err)
			}
			retry, err := n.Notify(t.Context(), notifytest.Firing())
			if err == nil || retry || !strings.Contains(err.Error(), "read "+tc.name) {
				t.Errorf("Notify without the file: retry %v, err %v; want a permanent read error", retry, err)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c       slack.Config
		wantErr string
	}{
		{"nothing to send to", slack.Config{}, "one of api_url, api_url_file, app_token or app_token_file must be configured"},
		{"api_url and api_url_file", slack.Config{APIURL: "https://hooks.slack.com/services/" + secret, APIURLFile: "f"}, "at most one of api_url & api_url_file"},
		{"app_token and app_token_file", slack.Config{AppToken: token, AppTokenFile: "f"}, "at most one of app_token & app_token_file"},
		{"webhook and token", slack.Config{APIURL: "https://hooks.slack.com/services/" + secret, AppToken: token}, "at most one of api_url/api_url_file & app_token/app_token_file"},
		{"api_url scheme", slack.Config{APIURL: "ftp://hooks.slack.com/services/" + secret}, "api_url: scheme must be http or https"},
		{"api_url without host", slack.Config{APIURL: "https:///services/" + secret}, "api_url: no host"},
		{"api_url that does not parse", slack.Config{APIURL: "https://user:" + secret + "/x@host:x/"}, "api_url: invalid url"},
		{"app_url", slack.Config{AppToken: token, AppURL: "slack.com/api/chat.postMessage"}, "app_url: scheme must be http or https"},
		{"authorization with a token", slack.Config{AppToken: token, HTTPConfig: commoncfg.HTTPClientConfig{Authorization: &commoncfg.Authorization{Type: "Bearer", Credentials: "x"}}}, "http_config: authorization can't be set"},
		{"negative timeout", slack.Config{AppToken: token, Timeout: -time.Second}, "negative timeout -1s"},
		{"field without value", slack.Config{AppToken: token, Fields: []slack.Field{{Title: "t"}}}, "fields[0]: title and value are required"},
		{"action without text", slack.Config{AppToken: token, Actions: []slack.Action{{Type: "button", URL: "u"}}}, "actions[0]: type and text are required"},
		{"action without url or name", slack.Config{AppToken: token, Actions: []slack.Action{{Type: "button", Text: "t"}}}, "actions[0]: one of url or name is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := slack.New(0, tc.c, slack.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New: %v, want %q", err, tc.wantErr)
			}
			noSecret(t, "the error", err.Error())
		})
	}
}

// TestBuilder: slack_configs from Alertmanager's configuration, with the
// global slack_api_url and a bot token, deliver where and what they say.
func TestBuilder(t *testing.T) {
	f := slackapitest.Start(t, secret)
	cfg, err := amconfig.Load(fmt.Sprintf(`
global:
  slack_api_url: %s
route: {receiver: hooks}
receivers:
  - name: hooks
    slack_configs:
      - channel: '#alerts'
      - channel: '#other'
        send_resolved: true
        title: 'custom {{ .Status }}'
        short_fields: true
        fields:
          - {title: Severity, value: '{{ .CommonLabels.severity }}'}
        actions:
          - {type: button, text: Runbook, url: 'https://runbooks.example/'}
  - name: bot
    slack_configs:
      - app_token: %s
        app_url: %s
        channel: '#alerts'
        timeout: 10s
`, f.HookURL(secret), token, f.APIURL()+"chat.postMessage"))
	if err != nil {
		t.Fatal(err)
	}
	rcvs, err := notify.BuildReceivers(cfg, notify.BuildOptions{Slack: slack.Builder(slack.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, name := range []string{"hooks", "bot"} {
		for _, ig := range rcvs[name] {
			if name == "bot" {
				f.SetSecret(token)
			}
			if _, err := ig.Notify(t.Context(), notifytest.Firing()); err != nil {
				t.Fatalf("%s: %s[%d]: %v", name, ig.Name(), ig.Index(), err)
			}
			got = append(got, fmt.Sprintf("%s %s[%d] send_resolved=%v", name, ig.Name(), ig.Index(), ig.SendResolved()))
		}
	}
	want := []string{
		"hooks slack[0] send_resolved=false",
		"hooks slack[1] send_resolved=true",
		"bot slack[0] send_resolved=false",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("integrations (-want +got):\n%s", diff)
	}
	title := "[FIRING:1] ConformanceDown (page)"
	link := "http://alertd.example:9093/#/alerts?receiver=conformance"
	att := slackapi.Attachment{Title: title, TitleLink: link, Fallback: title + " | " + link, Color: "danger", MarkdownIn: []string{"fallback", "pretext", "text"}}
	custom := att
	custom.Title = "custom firing"
	custom.Fields = []slackapi.AttachmentField{{Title: "Severity", Value: "page", Short: true}}
	custom.Actions = []slackapi.AttachmentAction{{Type: "button", Text: "Runbook", URL: "https://runbooks.example/"}}
	wantCalls := []slackapitest.Call{
		{Method: "webhook", Path: slackapitest.HookPrefix + secret, Channel: "#alerts", SentChannel: "#alerts", Username: "Alertmanager", Attachments: []slackapi.Attachment{att}, Accepted: true},
		{Method: "webhook", Path: slackapitest.HookPrefix + secret, Channel: "#other", SentChannel: "#other", Username: "Alertmanager", Attachments: []slackapi.Attachment{custom}, Accepted: true},
		{Method: "chat.postMessage", Auth: "Bearer " + token, Channel: "CALERTS", SentChannel: "#alerts", TS: "1767225600.000001", Username: "Alertmanager", Attachments: []slackapi.Attachment{att}, Accepted: true},
	}
	if diff := cmp.Diff(wantCalls, f.Requests(), cmpopts.EquateEmpty(), ignoreReceivedAt); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// TestAppURL: the Web API's base URL is app_url without its last path
// element.
func TestAppURL(t *testing.T) {
	for _, tc := range []struct {
		name   string
		appURL func(base string) string
	}{
		{"chat.postMessage", func(base string) string { return base + "chat.postMessage" }},
		{"base", func(base string) string { return base }},
		{"query", func(base string) string { return base + "chat.postMessage?x=1" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := slackapitest.Start(t, token)
			c := botConfig(f)
			c.AppURL = tc.appURL(f.APIURL())
			if _, _, err := newNotifier(t, c).NotifyState(t.Context(), notifytest.Firing(), nil); err != nil {
				t.Fatal(err)
			}
			if got := f.Requests(); len(got) != 1 || got[0].Method != "chat.postMessage" || !got[0].Accepted {
				t.Errorf("calls %+v, want one chat.postMessage", got)
			}
		})
	}
}

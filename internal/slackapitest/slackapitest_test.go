package slackapitest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/alertd/alertd/internal/slackapitest"
)

const token = "xoxb-test-token"

// bearer sends requests with the token in an Authorization header, as
// Alertmanager does and the server requires (slack-go puts it in the form
// only).
type bearer struct{ c *http.Client }

func (b bearer) Do(r *http.Request) (*http.Response, error) {
	r.Header.Set("Authorization", "Bearer "+token)
	return b.c.Do(r)
}

// TestServer posts and updates a message with slack-go, and posts to
// incoming webhooks, known and unknown.
func TestServer(t *testing.T) {
	s := slackapitest.Start(t, token)
	client := &http.Client{Timeout: 10 * time.Second}
	api := slack.New(token, slack.OptionAPIURL(s.APIURL()), slack.OptionHTTPClient(bearer{client}))
	att := slack.Attachment{Title: "firing", Color: "danger"}
	channel, ts, err := api.PostMessageContext(t.Context(), "#ops", slack.MsgOptionText("hello", false), slack.MsgOptionAttachments(att))
	if err != nil {
		t.Fatal(err)
	}
	if channel != "COPS" || ts == "" {
		t.Fatalf("posted to %q at %q, want COPS and a ts", channel, ts)
	}
	if _, _, _, err := api.UpdateMessageContext(t.Context(), channel, ts, slack.MsgOptionText("resolved", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(t.Context(), channel, "1.2", slack.MsgOptionText("x", false)); err == nil || err.Error() != "message_not_found" {
		t.Errorf("update of an unknown message: %v, want message_not_found", err)
	}
	s.Answer(slackapitest.APIError("ratelimited"))
	if _, _, err := api.PostMessageContext(t.Context(), "#ops", slack.MsgOptionText("x", false)); err == nil {
		t.Error("queued refusal not answered")
	}
	if err := slack.PostWebhookCustomHTTPContext(t.Context(), s.HookURL("hook-secret"), client, &slack.WebhookMessage{Channel: "#ops", Text: "hook"}); err != nil {
		t.Fatal(err)
	}
	if err := slack.PostWebhookCustomHTTPContext(t.Context(), strings.TrimSuffix(s.HookURL("hook-secret"), "hook-secret")+"unknown", client, &slack.WebhookMessage{Text: "x"}); err == nil {
		t.Error("unknown webhook accepted")
	}

	type call struct{ Method, Channel, SentChannel, TS, Text string }
	summarise := func(calls []slackapitest.Call) []call {
		var out []call
		for _, c := range calls {
			if c.ReceivedAt.IsZero() {
				t.Errorf("call %+v without ReceivedAt", c)
			}
			out = append(out, call{c.Method, c.Channel, c.SentChannel, c.TS, c.Text})
		}
		return out
	}
	want := []call{
		{"chat.postMessage", "COPS", "#ops", ts, "hello"},
		{"chat.update", "COPS", "COPS", ts, "resolved"},
		{"webhook", "#ops", "#ops", "", "hook"},
	}
	if diff := cmp.Diff(want, summarise(s.Calls())); diff != "" {
		t.Errorf("accepted calls (-want +got):\n%s", diff)
	}
	if got := s.Calls(); len(got) > 0 && !cmp.Equal(got[0].Attachments, []slack.Attachment{att}) {
		t.Errorf("attachments %+v, want %+v", got[0].Attachments, att)
	}
	if got, want := len(s.Requests()), 6; got != want {
		t.Errorf("%d requests, want %d", got, want)
	}
}

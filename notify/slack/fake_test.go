package slack_test

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// hookPrefix is the path of the fake's incoming webhooks, before the
// secret.
const hookPrefix = "/services/T0001/B0001/"

// call is one request the fake Slack got, the same for the incoming
// webhook's JSON and the Web API's form.
type call struct {
	Method      string // "webhook", "chat.postMessage" or "chat.update"
	Path        string // the webhook's path
	Auth        string // the Web API's Authorization header
	Channel     string // as sent
	TS          string // the message's: as sent to chat.update, as given by chat.postMessage
	Username    string
	IconEmoji   string
	IconURL     string
	LinkNames   bool
	Text        string
	Attachments []slackapi.Attachment
	// Accepted says that the fake answered OK.
	Accepted bool
}

// answer is how the fake answers one request, instead of OK.
type answer func(w http.ResponseWriter, r *http.Request)

// fakeSlack is Slack on 127.0.0.1: slack-go's slacktest server, with
// handlers of its own for incoming webhooks (hookPrefix + secret),
// chat.postMessage and chat.update, which check the API contract, keep
// the posted messages (chat.update of an unknown one is
// message_not_found) and answer as queued. slacktest's own
// chat.postMessage checks nothing and gives every message of a second
// the same ts.
type fakeSlack struct {
	srv *slacktest.Server

	mu       sync.Mutex
	secret   string // the bot token, and the webhook path's secret
	answers  []answer
	calls    []call
	messages map[string]bool // channel ID + " " + ts of the posted messages
	seq      int
	problems []string // API contract violations, reported when the test ends
}

func newFakeSlack(t *testing.T, secret string) *fakeSlack {
	t.Helper()
	f := &fakeSlack{secret: secret, messages: map[string]bool{}}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", f.webAPI("chat.postMessage"))
		c.Handle("/chat.update", f.webAPI("chat.update"))
		c.Handle("/services/", f.webhook)
	})
	f.srv.Start()
	t.Cleanup(func() {
		f.srv.Stop()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, p := range f.problems {
			t.Errorf("API contract: %s", p)
		}
	})
	return f
}

// APIURL is the Web API's base URL; the app_url is APIURL() +
// "chat.postMessage".
func (f *fakeSlack) APIURL() string { return f.srv.GetAPIURL() }

// HookURL is the incoming webhook's URL with secret.
func (f *fakeSlack) HookURL(secret string) string {
	return strings.TrimSuffix(f.srv.GetAPIURL(), "/") + hookPrefix + secret
}

// SetSecret changes the token and the webhook secret the fake accepts.
func (f *fakeSlack) SetSecret(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secret = s
}

// Answer queues answers for the next requests; OK once they are used.
func (f *fakeSlack) Answer(a ...answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers = append(f.answers, a...)
}

// Calls returns the requests so far.
func (f *fakeSlack) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// Forget drops the posted messages, as if deleted in Slack.
func (f *fakeSlack) Forget() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.messages)
}

func (f *fakeSlack) problem(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	f.mu.Lock()
	f.problems = append(f.problems, msg)
	f.mu.Unlock()
	http.Error(w, "contract: "+msg, http.StatusBadRequest)
}

// next returns the queued answer, nil for OK.
func (f *fakeSlack) next() answer {
	if len(f.answers) == 0 {
		return nil
	}
	a := f.answers[0]
	f.answers = f.answers[1:]
	return a
}

func (f *fakeSlack) webhook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		f.problem(w, "webhook: method %s", r.Method)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		f.problem(w, "webhook: Content-Type %q", r.Header.Get("Content-Type"))
		return
	}
	var m struct {
		Channel     string                `json:"channel"`
		Username    string                `json:"username"`
		IconEmoji   string                `json:"icon_emoji"`
		IconURL     string                `json:"icon_url"`
		LinkNames   bool                  `json:"link_names"`
		Text        string                `json:"text"`
		Attachments []slackapi.Attachment `json:"attachments"`
	}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		f.problem(w, "webhook: body: %v", err)
		return
	}
	c := call{
		Method: "webhook", Path: r.URL.Path, Channel: m.Channel, Username: m.Username, IconEmoji: m.IconEmoji,
		IconURL: m.IconURL, LinkNames: m.LinkNames, Text: m.Text, Attachments: m.Attachments,
	}
	f.mu.Lock()
	a := f.next()
	known := r.URL.Path == hookPrefix+f.secret
	c.Accepted = a == nil && known
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	switch {
	case a != nil:
		a(w, r)
	case !known:
		http.Error(w, "no_service", http.StatusNotFound) // Slack's answer
	default:
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "ok")
	}
}

// webAPI serves a Web API method as slack-go calls it: a form with the
// token in an Authorization header (and in the form).
func (f *fakeSlack) webAPI(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			f.problem(w, "%s: method %s", method, r.Method)
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			f.problem(w, "%s: Content-Type %q", method, r.Header.Get("Content-Type"))
			return
		}
		if err := r.ParseForm(); err != nil {
			f.problem(w, "%s: form: %v", method, err)
			return
		}
		v := r.PostForm
		c := call{
			Method: method, Auth: r.Header.Get("Authorization"), Channel: v.Get("channel"), Username: v.Get("username"),
			IconEmoji: v.Get("icon_emoji"), IconURL: v.Get("icon_url"), LinkNames: v.Get("link_names") == "true", Text: v.Get("text"),
		}
		if method == "chat.update" {
			c.TS = v.Get("ts")
		}
		if s := v.Get("attachments"); s != "" {
			if err := json.Unmarshal([]byte(s), &c.Attachments); err != nil {
				f.problem(w, "%s: attachments: %v", method, err)
				return
			}
		}
		if ln := v.Get("link_names"); ln != "" && ln != "true" && ln != "false" {
			f.problem(w, "%s: link_names %q", method, ln)
			return
		}

		f.mu.Lock()
		a := f.next()
		var refusal string
		switch {
		case c.Auth != "Bearer "+f.secret || (v.Has("token") && v.Get("token") != f.secret):
			refusal = "invalid_auth"
		case c.Channel == "":
			refusal = "channel_not_found"
		case method == "chat.update" && c.TS == "":
			refusal = "invalid_arguments"
		case method == "chat.update" && !f.messages[c.Channel+" "+c.TS]:
			refusal = "message_not_found"
		}
		resp := map[string]any{"ok": true}
		if a == nil && refusal == "" {
			id := channelID(c.Channel)
			if method == "chat.postMessage" {
				f.seq++
				c.TS = fmt.Sprintf("1767225600.%06d", f.seq)
				f.messages[id+" "+c.TS] = true
			}
			c.Accepted = true
			resp["channel"], resp["ts"], resp["text"] = id, c.TS, c.Text
		}
		f.calls = append(f.calls, c)
		f.mu.Unlock()

		switch {
		case a != nil:
			a(w, r)
			return
		case refusal != "":
			resp = map[string]any{"ok": false, "error": refusal}
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(resp)
	}
}

// channelID is the fake's ID of a channel name: "#alerts" is CALERTS.
// An ID is its own.
func channelID(name string) string {
	if !strings.HasPrefix(name, "#") {
		return name
	}
	return "C" + strings.ToUpper(url.PathEscape(name[1:]))
}

// The answers tests queue.

func status(code int, body string, header ...string) answer {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

func apiError(code string) answer {
	return status(http.StatusOK, `{"ok":false,"error":"`+code+`"}`, "Content-Type", "application/json; charset=utf-8")
}

func hang(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

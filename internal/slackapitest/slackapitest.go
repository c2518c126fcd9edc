package slackapitest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// HookPrefix is the path of the server's incoming webhooks, before the
// secret.
const HookPrefix = "/services/T0001/B0001/"

// Call is one request the server got, the same for the incoming webhook's
// JSON and the Web API's form.
type Call struct {
	// Method is "webhook", "chat.postMessage" or "chat.update".
	Method string
	// Path is the webhook's path, "" for Web API calls.
	Path string
	// Auth is the Web API's Authorization header.
	Auth string
	// Channel is the channel: as sent to the webhook, as Slack gives it
	// back (an ID; "#alerts" is CALERTS) for Web API calls.
	Channel string
	// SentChannel is the channel as sent.
	SentChannel string
	// TS is the message's: as sent to chat.update, as given by
	// chat.postMessage.
	TS          string
	Username    string
	IconEmoji   string
	IconURL     string
	LinkNames   bool
	Text        string
	Attachments []slack.Attachment
	// Accepted says that the server answered OK.
	Accepted bool
	// ReceivedAt is when the server received it.
	ReceivedAt time.Time
}

// Answer is how the server answers one request, instead of OK.
type Answer func(w http.ResponseWriter, r *http.Request)

// Server is Slack on 127.0.0.1: slack-go's slacktest server, with handlers
// of its own for incoming webhooks (HookPrefix + secret), chat.postMessage
// and chat.update, which check the API contract, keep the posted messages
// (chat.update of an unknown one is message_not_found) and answer as
// queued. slacktest's own chat.postMessage checks nothing and gives every
// message of a second the same ts. It stops when the test ends.
type Server struct {
	srv *slacktest.Server

	mu       sync.Mutex
	token    string          // the bot token the Web API accepts
	hooks    map[string]bool // the webhook secrets accepted
	answers  []Answer
	calls    []Call
	messages map[string]bool // channel ID + " " + ts of the posted messages
	seq      int
	problems []string // API contract violations, reported when the test ends
}

// Start starts a server whose Web API accepts token as the bot token (in
// the Authorization header, and the form's token if given), and whose
// incoming webhooks accept token as the secret too. Contract violations
// fail t when it ends; t's cleanup stops the server.
func Start(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{token: token, hooks: map[string]bool{token: true}, messages: map[string]bool{}}
	s.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", s.webAPI("chat.postMessage"))
		c.Handle("/chat.update", s.webAPI("chat.update"))
		c.Handle("/services/", s.webhook)
	})
	s.srv.Start()
	t.Cleanup(func() {
		s.srv.Stop()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, p := range s.problems {
			t.Errorf("Slack API contract: %s", p)
		}
	})
	return s
}

// APIURL is the Web API's base URL, ending in "/"; the app_url is
// APIURL() + "chat.postMessage".
func (s *Server) APIURL() string { return s.srv.GetAPIURL() }

// HookURL is the URL of an incoming webhook with secret as its path's last
// element; the server accepts it from now on (until SetSecret).
func (s *Server) HookURL(secret string) string {
	s.mu.Lock()
	s.hooks[secret] = true
	s.mu.Unlock()
	return strings.TrimSuffix(s.srv.GetAPIURL(), "/") + HookPrefix + secret
}

// SetSecret makes secret the only bot token and the only webhook secret
// the server accepts, as if both were rotated.
func (s *Server) SetSecret(secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = secret
	s.hooks = map[string]bool{secret: true}
}

// Answer queues answers for the next requests, one each; a nil Answer is
// the normal one, and once the queue is empty every request gets it.
func (s *Server) Answer(a ...Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers = append(s.answers, a...)
}

// Calls returns the calls the server accepted (answered OK), in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.Accepted {
			out = append(out, c)
		}
	}
	return out
}

// Requests returns every call the server got, accepted or not, in order
// (without those that broke the contract).
func (s *Server) Requests() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Forget drops the posted messages, as if deleted in Slack.
func (s *Server) Forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.messages)
}

func (s *Server) problem(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.problems = append(s.problems, msg)
	s.mu.Unlock()
	http.Error(w, "contract: "+msg, http.StatusBadRequest)
}

// next returns the queued answer, nil for OK. s.mu is held.
func (s *Server) next() Answer {
	if len(s.answers) == 0 {
		return nil
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return a
}

func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	if r.Method != http.MethodPost {
		s.problem(w, "webhook: method %s", r.Method)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		s.problem(w, "webhook: Content-Type %q", r.Header.Get("Content-Type"))
		return
	}
	var m struct {
		Channel     string             `json:"channel"`
		Username    string             `json:"username"`
		IconEmoji   string             `json:"icon_emoji"`
		IconURL     string             `json:"icon_url"`
		LinkNames   bool               `json:"link_names"`
		Text        string             `json:"text"`
		Attachments []slack.Attachment `json:"attachments"`
	}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		s.problem(w, "webhook: body: %v", err)
		return
	}
	c := Call{
		Method: "webhook", Path: r.URL.Path, Channel: m.Channel, SentChannel: m.Channel, Username: m.Username,
		IconEmoji: m.IconEmoji, IconURL: m.IconURL, LinkNames: m.LinkNames, Text: m.Text, Attachments: m.Attachments,
		ReceivedAt: now,
	}
	s.mu.Lock()
	a := s.next()
	secret, ok := strings.CutPrefix(r.URL.Path, HookPrefix)
	known := ok && s.hooks[secret]
	c.Accepted = a == nil && known
	s.calls = append(s.calls, c)
	s.mu.Unlock()
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
func (s *Server) webAPI(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		if r.Method != http.MethodPost {
			s.problem(w, "%s: method %s", method, r.Method)
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			s.problem(w, "%s: Content-Type %q", method, r.Header.Get("Content-Type"))
			return
		}
		if err := r.ParseForm(); err != nil {
			s.problem(w, "%s: form: %v", method, err)
			return
		}
		v := r.PostForm
		c := Call{
			Method: method, Auth: r.Header.Get("Authorization"), Channel: channelID(v.Get("channel")), SentChannel: v.Get("channel"),
			Username: v.Get("username"), IconEmoji: v.Get("icon_emoji"), IconURL: v.Get("icon_url"),
			LinkNames: v.Get("link_names") == "true", Text: v.Get("text"), ReceivedAt: now,
		}
		if method == "chat.update" {
			c.TS = v.Get("ts")
		}
		if a := v.Get("attachments"); a != "" {
			if err := json.Unmarshal([]byte(a), &c.Attachments); err != nil {
				s.problem(w, "%s: attachments: %v", method, err)
				return
			}
		}
		if ln := v.Get("link_names"); ln != "" && ln != "true" && ln != "false" {
			s.problem(w, "%s: link_names %q", method, ln)
			return
		}

		s.mu.Lock()
		a := s.next()
		var refusal string
		switch {
		case c.Auth != "Bearer "+s.token || (v.Has("token") && v.Get("token") != s.token):
			refusal = "invalid_auth"
		case c.SentChannel == "":
			refusal = "channel_not_found"
		case method == "chat.update" && c.TS == "":
			refusal = "invalid_arguments"
		case method == "chat.update" && !s.messages[c.SentChannel+" "+c.TS]:
			refusal = "message_not_found"
		}
		resp := map[string]any{"ok": true}
		if a == nil && refusal == "" {
			if method == "chat.postMessage" {
				s.seq++
				c.TS = fmt.Sprintf("1767225600.%06d", s.seq)
				s.messages[c.Channel+" "+c.TS] = true
			}
			c.Accepted = true
			resp["channel"], resp["ts"], resp["text"] = c.Channel, c.TS, c.Text
		}
		s.calls = append(s.calls, c)
		s.mu.Unlock()

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

// channelID is the server's ID of a channel name: "#alerts" is CALERTS.
// An ID is its own.
func channelID(name string) string {
	if !strings.HasPrefix(name, "#") {
		return name
	}
	return "C" + strings.ToUpper(url.PathEscape(name[1:]))
}

// Status is an answer with code, body and headers (name, value, ...).
func Status(code int, body string, header ...string) Answer {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// APIError is the Web API's refusal with error code, {"ok":false,...}.
func APIError(code string) Answer {
	return Status(http.StatusOK, `{"ok":false,"error":"`+code+`"}`, "Content-Type", "application/json; charset=utf-8")
}

// Hang is an answer that never comes: it waits for the client to give up.
func Hang(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

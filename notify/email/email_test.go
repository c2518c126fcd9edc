package email_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	amconfig "github.com/prometheus/alertmanager/config"
	commoncfg "github.com/prometheus/common/config"

	"github.com/alertd/alertd/internal/notifytest"
	"github.com/alertd/alertd/internal/smtptest"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/email"
)

// The credentials of the fake servers.
const (
	user     = "alertd"
	password = "pw-5b0c77e1d9"
	secret   = "cram-9e24f1a3c6"
)

// parsedMessage is a received message, read back.
type parsedMessage struct {
	header  mail.Header
	subject string // decoded
	parts   []part
}

// part is one part of the multipart/alternative body.
type part struct {
	contentType, encoding string
	body                  string // decoded
}

// parseMessage reads a message as a mail client would: net/mail for the
// headers, mime/multipart for the body, quoted-printable for each part.
func parseMessage(data []byte) (*parsedMessage, error) {
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("content type: %w", err)
	}
	if mt != "multipart/alternative" {
		return nil, fmt.Errorf("content type %q, want multipart/alternative", mt)
	}
	pm := &parsedMessage{header: m.Header, subject: subject}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for range 10 {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return pm, nil
		}
		if err != nil {
			return nil, err
		}
		enc := p.Header.Get("Content-Transfer-Encoding")
		var r io.Reader = p
		if enc == "quoted-printable" {
			r = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", len(pm.parts), err)
		}
		pm.parts = append(pm.parts, part{contentType: p.Header.Get("Content-Type"), encoding: enc, body: string(b)})
	}
	return nil, errors.New("too many parts")
}

// baseConfig is an email to f over STARTTLS, trusting f's certificate,
// with AUTH as user.
func baseConfig(f *smtptest.Server) email.Config {
	return email.Config{
		To:           "ops@example.org",
		From:         "alertd@example.org",
		Smarthost:    f.Addr(),
		AuthUsername: user,
		AuthPassword: password,
		RequireTLS:   true,
		TLSConfig:    commoncfg.TLSConfig{CA: f.CAPEM()},
		HTML:         email.DefaultHTML,
	}
}

func newNotifier(t *testing.T, c email.Config) *email.Notifier {
	t.Helper()
	n, err := email.New(0, c, email.Options{Hostname: "test-host"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// onlyOne returns the one message f accepted.
func onlyOne(t *testing.T, f *smtptest.Server) smtptest.Message {
	t.Helper()
	got := f.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages delivered, want 1", len(got))
	}
	return got[0]
}

// reasonOf is the failure reason the pipeline would count err under.
func reasonOf(err error) notify.Reason {
	if e, ok := errors.AsType[*notify.Error](err); ok {
		return e.Reason
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return notify.ReasonContextDeadlineExceeded
	case errors.Is(err, context.Canceled):
		return notify.ReasonContextCanceled
	}
	return notify.ReasonOther
}

func noSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, password, secret) {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q shows the secret %q", err, s)
		}
	}
}

func TestMessage(t *testing.T) {
	type message struct {
		From, To, Subject, XTeam, ReplyTo, MIMEVersion string
		Parts                                          []string // content type, encoding
	}
	for _, tc := range []struct {
		name     string
		data     *notify.Data
		text     string
		want     message
		wantText string
		wantHTML []string
	}{
		{
			name: "firing",
			data: notifytest.Firing(),
			text: `{{ .Status }}: {{ range .Alerts }}{{ .Labels.instance }} {{ end }}`,
			want: message{
				From: "Alertd <alertd@example.org>", To: "ops@example.org, Bob <bob@example.org>",
				Subject: "[FIRING:1] ConformanceDown (page)", XTeam: "page équipe", ReplyTo: "noc@example.org",
				MIMEVersion: "1.0",
				Parts:       []string{"text/plain; charset=UTF-8 quoted-printable", "text/html; charset=UTF-8 quoted-printable"},
			},
			wantText: "firing: a:9100 b:9100 ",
			wantHTML: []string{
				"[1] Firing", "[1] Resolved",
				"alertname = ConformanceDown<br", "instance = b:9100<br", "severity = page<br", "summary = b is down<br",
				"instance = a:9100<br",
			},
		},
		{
			name: "resolved",
			data: notifytest.Resolved(),
			text: `{{ .Status }}: {{ range .Alerts }}{{ .Labels.instance }} {{ end }}`,
			want: message{
				From: "Alertd <alertd@example.org>", To: "ops@example.org, Bob <bob@example.org>",
				Subject: "[RESOLVED] ConformanceDown (page)", XTeam: "page équipe", ReplyTo: "noc@example.org",
				MIMEVersion: "1.0",
				Parts:       []string{"text/plain; charset=UTF-8 quoted-printable", "text/html; charset=UTF-8 quoted-printable"},
			},
			wantText: "resolved: a:9100 b:9100 ",
			wantHTML: []string{"[2] Resolved", "alertname = ConformanceDown<br", "instance = a:9100<br", "instance = b:9100<br"},
		},
		{
			name: "no text part without text",
			data: notifytest.Firing(),
			want: message{
				From: "Alertd <alertd@example.org>", To: "ops@example.org, Bob <bob@example.org>",
				Subject: "[FIRING:1] ConformanceDown (page)", XTeam: "page équipe", ReplyTo: "noc@example.org",
				MIMEVersion: "1.0",
				Parts:       []string{"text/html; charset=UTF-8 quoted-printable"},
			},
			wantHTML: []string{"alertname = ConformanceDown<br"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := smtptest.Start(t, smtptest.Options{STARTTLS: true, Username: user, Password: password, Mechanisms: []string{"PLAIN"}})
			c := baseConfig(f)
			c.To = "ops@example.org, Bob <bob@example.org>"
			c.From = "Alertd <alertd@{{ `example.org` }}>"
			c.Text = tc.text
			c.Headers = map[string]string{
				"x-team":   "{{ .CommonLabels.severity }} équipe",
				"reply-to": "noc@example.org",
			}
			n := newNotifier(t, c)
			before := time.Now().Truncate(time.Second)
			if retry, err := n.Notify(t.Context(), tc.data); err != nil {
				t.Fatalf("Notify: retry %v, %v", retry, err)
			}
			d := onlyOne(t, f)
			envelope := fmt.Sprintf("hello=%s tls=%v auth=%s/%s from=%s to=%v", d.Hello, d.TLS, d.Mechanism, d.User, d.From, d.To)
			if want := "hello=localhost tls=true auth=PLAIN/alertd from=alertd@example.org to=[ops@example.org bob@example.org]"; envelope != want {
				t.Errorf("envelope %s, want %s", envelope, want)
			}

			m, err := parseMessage(d.Raw)
			if err != nil {
				t.Fatalf("parse message: %v\n%s", err, d.Raw)
			}
			xteam, err := new(mime.WordDecoder).DecodeHeader(m.header.Get("X-Team"))
			if err != nil {
				t.Fatal(err)
			}
			if raw := m.header.Get("X-Team"); !strings.HasPrefix(raw, "=?utf-8?q?") {
				t.Errorf("X-Team %q is not Q-encoded", raw)
			}
			got := message{
				From: m.header.Get("From"), To: m.header.Get("To"), Subject: m.subject, XTeam: xteam,
				ReplyTo: m.header.Get("Reply-To"), MIMEVersion: m.header.Get("MIME-Version"),
			}
			for _, p := range m.parts {
				got.Parts = append(got.Parts, p.contentType+" "+p.encoding)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if id := m.header.Get("Message-Id"); !regexp.MustCompile(`^<\d+\.\d+@test-host>$`).MatchString(id) {
				t.Errorf("Message-Id %q, want <nanos.random@test-host>", id)
			}
			date, err := time.Parse(time.RFC1123Z, m.header.Get("Date"))
			if err != nil || date.Before(before) || date.After(time.Now()) {
				t.Errorf("Date %q (%v), want RFC 1123 with zone, now", m.header.Get("Date"), err)
			}
			if tc.wantText != "" && m.parts[0].body != tc.wantText {
				t.Errorf("text part %q, want %q", m.parts[0].body, tc.wantText)
			}
			html := m.parts[len(m.parts)-1].body
			for _, s := range tc.wantHTML {
				if !strings.Contains(html, s) {
					t.Errorf("html part does not contain %q", s)
				}
			}
		})
	}
}

func TestThreading(t *testing.T) {
	f := smtptest.Start(t, smtptest.Options{STARTTLS: true, Username: user, Password: password, Mechanisms: []string{"PLAIN"}})
	for _, byDate := range []string{"none", "daily"} {
		c := baseConfig(f)
		c.Threading, c.ThreadByDate = true, byDate
		if retry, err := newNotifier(t, c).Notify(t.Context(), notifytest.Firing()); err != nil {
			t.Fatalf("Notify: retry %v, %v", retry, err)
		}
	}
	sum := sha256.Sum256([]byte(notifytest.GroupKey))
	hash := hex.EncodeToString(sum[:])[:16]
	want := []string{
		"<alert-" + hash + "-@alertmanager>",
		"<alert-" + hash + "-" + time.Now().Format(time.DateOnly) + "@alertmanager>",
	}
	got := f.Messages()
	if len(got) != len(want) {
		t.Fatalf("%d messages delivered, want %d", len(got), len(want))
	}
	for i, d := range got {
		m, err := parseMessage(d.Raw)
		if err != nil {
			t.Fatal(err)
		}
		if refs, irt := m.header.Get("References"), m.header.Get("In-Reply-To"); refs != want[i] || irt != want[i] {
			t.Errorf("References %q, In-Reply-To %q, want %q", refs, irt, want[i])
		}
	}
}

func TestTLS(t *testing.T) {
	for _, tc := range []struct {
		name      string
		server    smtptest.Options
		configure func(c *email.Config)
		wantTLS   bool
		wantErr   string // with a retryable error
	}{
		{
			name:    "STARTTLS required and offered",
			server:  smtptest.Options{STARTTLS: true},
			wantTLS: true,
		},
		{
			name:    "STARTTLS required, not offered",
			server:  smtptest.Options{},
			wantErr: `'require_tls' is true (default) but "127.0.0.1:`,
		},
		{
			name:      "STARTTLS not required, not offered",
			server:    smtptest.Options{},
			configure: func(c *email.Config) { c.RequireTLS = false },
		},
		{
			name:      "STARTTLS with an untrusted certificate",
			server:    smtptest.Options{STARTTLS: true},
			configure: func(c *email.Config) { c.TLSConfig = commoncfg.TLSConfig{} },
			wantErr:   "send STARTTLS command: tls: failed to verify certificate",
		},
		{
			name:      "STARTTLS with the wrong server name",
			server:    smtptest.Options{STARTTLS: true},
			configure: func(c *email.Config) { c.TLSConfig.ServerName = "mail.example.org" },
			wantErr:   "mail.example.org",
		},
		{
			name:   "implicit TLS",
			server: smtptest.Options{ImplicitTLS: true},
			configure: func(c *email.Config) {
				c.ForceImplicitTLS = new(true)
			},
			wantTLS: true,
		},
		{
			name:   "implicit TLS, untrusted certificate",
			server: smtptest.Options{ImplicitTLS: true},
			configure: func(c *email.Config) {
				c.ForceImplicitTLS = new(true)
				c.TLSConfig = commoncfg.TLSConfig{}
			},
			wantErr: "establish TLS connection to server: tls: failed to verify certificate",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.server
			o.Mechanisms, o.Username, o.Password = []string{"PLAIN"}, user, password
			f := smtptest.Start(t, o)
			c := baseConfig(f)
			if tc.configure != nil {
				tc.configure(&c)
			}
			retry, err := newNotifier(t, c).Notify(t.Context(), notifytest.Firing())
			if tc.wantErr != "" {
				if err == nil || !retry || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Notify: retry %v, error %v; want a retryable error with %q", retry, err, tc.wantErr)
				}
				if got := f.Messages(); len(got) != 0 {
					t.Errorf("%d messages delivered, want none", len(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("Notify: retry %v, %v", retry, err)
			}
			if d := onlyOne(t, f); d.TLS != tc.wantTLS || d.Mechanism != "PLAIN" {
				t.Errorf("delivered with TLS %v, AUTH %q; want TLS %v, AUTH PLAIN", d.TLS, d.Mechanism, tc.wantTLS)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	dir := t.TempDir()
	passwordFile := filepath.Join(dir, "password")
	secretFile := filepath.Join(dir, "secret")
	for file, content := range map[string]string{passwordFile: password + "\n", secretFile: " " + secret + "\n"} {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name       string
		mechs      []string
		configure  func(c *email.Config)
		wantMech   string
		wantErr    string
		wantRetry  bool
		wantReason notify.Reason
	}{
		{
			name:      "CRAM-MD5 first, with a secret",
			mechs:     []string{"CRAM-MD5", "PLAIN"},
			configure: func(c *email.Config) { c.AuthSecret = secret },
			wantMech:  "CRAM-MD5",
		},
		{
			name:     "CRAM-MD5 without a secret: the next one",
			mechs:    []string{"CRAM-MD5", "PLAIN"},
			wantMech: "PLAIN",
		},
		{
			name:     "LOGIN listed first",
			mechs:    []string{"LOGIN", "PLAIN"},
			wantMech: "LOGIN",
		},
		{
			name:     "unknown mechanisms skipped",
			mechs:    []string{"XOAUTH2", "LOGIN"},
			wantMech: "LOGIN",
		},
		{
			name:  "password file, trimmed",
			mechs: []string{"PLAIN"},
			configure: func(c *email.Config) {
				c.AuthPassword, c.AuthPasswordFile = "", passwordFile
			},
			wantMech: "PLAIN",
		},
		{
			name:      "secret file, trimmed",
			mechs:     []string{"CRAM-MD5"},
			configure: func(c *email.Config) { c.AuthSecretFile = secretFile },
			wantMech:  "CRAM-MD5",
		},
		{
			name:  "server offers no AUTH",
			mechs: nil,
		},
		{
			name:       "no username: no AUTH",
			mechs:      []string{"PLAIN"},
			configure:  func(c *email.Config) { c.AuthUsername = "" },
			wantErr:    `send MAIL command: 502 "5.7.0 Please authenticate first"`,
			wantReason: notify.ReasonClientError,
		},
		{
			name:       "no usable mechanism",
			mechs:      []string{"CRAM-MD5", "XOAUTH2"},
			wantErr:    "find auth mechanism: missing secret for CRAM-MD5 auth mechanism\nunknown auth mechanism: XOAUTH2",
			wantRetry:  true,
			wantReason: notify.ReasonOther,
		},
		{
			name:  "unreadable password file",
			mechs: []string{"PLAIN"},
			configure: func(c *email.Config) {
				c.AuthPassword, c.AuthPasswordFile = "", filepath.Join(dir, "nonexistent")
			},
			wantErr:    "find auth mechanism: read auth_password_file: open ",
			wantRetry:  true,
			wantReason: notify.ReasonOther,
		},
		{
			name:       "wrong password",
			mechs:      []string{"PLAIN"},
			configure:  func(c *email.Config) { c.AuthPassword = "wrong-" + password },
			wantErr:    `AUTH PLAIN: 535 "5.7.8 Authentication failed"`,
			wantReason: notify.ReasonAuthError,
		},
		{
			name:       "wrong LOGIN password from a file",
			mechs:      []string{"LOGIN"},
			configure:  func(c *email.Config) { c.AuthPassword, c.AuthPasswordFile = "", secretFile },
			wantErr:    `AUTH LOGIN: 535 "5.7.8 Authentication failed"`,
			wantReason: notify.ReasonAuthError,
		},
		{
			name:       "wrong CRAM-MD5 secret",
			mechs:      []string{"CRAM-MD5"},
			configure:  func(c *email.Config) { c.AuthSecret = "wrong-" + secret },
			wantErr:    `AUTH CRAM-MD5: 535 "5.7.8 Authentication failed"`,
			wantReason: notify.ReasonAuthError,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := smtptest.Options{STARTTLS: true}
			if tc.mechs != nil { // else the server offers no AUTH
				o.Username, o.Password, o.Secret, o.Mechanisms = user, password, secret, tc.mechs
			}
			f := smtptest.Start(t, o)
			c := baseConfig(f)
			if tc.configure != nil {
				tc.configure(&c)
			}
			retry, err := newNotifier(t, c).Notify(t.Context(), notifytest.Firing())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Notify: error %v, want %q", err, tc.wantErr)
				}
				if retry != tc.wantRetry || reasonOf(err) != tc.wantReason {
					t.Errorf("retry %v, reason %s; want %v, %s", retry, reasonOf(err), tc.wantRetry, tc.wantReason)
				}
				noSecrets(t, err, c.AuthPassword, c.AuthSecret)
				return
			}
			if err != nil {
				t.Fatalf("Notify: retry %v, %v", retry, err)
			}
			d := onlyOne(t, f)
			wantUser := user
			if tc.wantMech == "" {
				wantUser = ""
			}
			if d.Mechanism != tc.wantMech || d.User != wantUser {
				t.Errorf("authenticated with %q as %q, want %q as %q", d.Mechanism, d.User, tc.wantMech, wantUser)
			}
		})
	}
}

func TestReplies(t *testing.T) {
	for _, tc := range []struct {
		name       string
		reply      smtptest.Reply
		timeout    time.Duration // the integration's
		ctxTimeout time.Duration // the flush's
		wantErr    string
		wantRetry  bool
		wantReason notify.Reason
	}{
		{
			name:       "421 to RCPT",
			reply:      smtptest.Reply{At: "RCPT", Code: 421, Text: "too busy"},
			wantErr:    `send RCPT command: 421 "4.0.0 too busy"`,
			wantRetry:  true,
			wantReason: notify.ReasonRateLimited,
		},
		{
			name:       "451 to RCPT",
			reply:      smtptest.Reply{At: "RCPT", Code: 451, Text: "greylisted"},
			wantErr:    `send RCPT command: 451 "4.0.0 greylisted"`,
			wantRetry:  true,
			wantReason: notify.ReasonServerError,
		},
		{
			name:       "550 to RCPT",
			reply:      smtptest.Reply{At: "RCPT", Code: 550, Text: "no such user here"},
			wantErr:    `send RCPT command: 550 "5.0.0 no such user here"`,
			wantReason: notify.ReasonClientError,
		},
		{
			name:       "452 to DATA",
			reply:      smtptest.Reply{At: "DATA", Code: 452, Text: "mailbox full"},
			wantErr:    `delivery failure: 452 "4.0.0 mailbox full"`,
			wantRetry:  true,
			wantReason: notify.ReasonServerError,
		},
		{
			name:       "554 to DATA",
			reply:      smtptest.Reply{At: "DATA", Code: 554, Text: "looks like spam"},
			wantErr:    `delivery failure: 554 "5.0.0 looks like spam"`,
			wantReason: notify.ReasonClientError,
		},
		{
			name:       "no answer to RCPT, integration timeout",
			reply:      smtptest.Reply{At: "RCPT", Hang: true},
			timeout:    200 * time.Millisecond,
			wantErr:    "send RCPT command: ",
			wantRetry:  true,
			wantReason: notify.ReasonContextDeadlineExceeded,
		},
		{
			name:       "no answer to DATA, flush deadline",
			reply:      smtptest.Reply{At: "DATA", Hang: true},
			ctxTimeout: 200 * time.Millisecond,
			wantErr:    "delivery failure: ",
			wantRetry:  true,
			wantReason: notify.ReasonContextDeadlineExceeded,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := smtptest.Start(t, smtptest.Options{STARTTLS: true, Username: user, Password: password, Mechanisms: []string{"PLAIN"}})
			c := baseConfig(f)
			c.Timeout = tc.timeout
			n := newNotifier(t, c)
			ctx := t.Context()
			if tc.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxTimeout)
				defer cancel()
			}
			f.Answer(tc.reply)
			start := time.Now()
			retry, err := n.Notify(ctx, notifytest.Firing())
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Notify: error %v, want %q", err, tc.wantErr)
			}
			if retry != tc.wantRetry || reasonOf(err) != tc.wantReason {
				t.Errorf("retry %v, reason %s; want %v, %s", retry, reasonOf(err), tc.wantRetry, tc.wantReason)
			}
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("Notify took %s", elapsed)
			}
			noSecrets(t, err)
			if got := f.Messages(); len(got) != 0 {
				t.Errorf("%d messages delivered, want none", len(got))
			}
			// The server is fine: the next notification goes through.
			if retry, err := n.Notify(t.Context(), notifytest.Firing()); err != nil {
				t.Fatalf("Notify after the failure: retry %v, %v", retry, err)
			}
		})
	}
}

func TestComposeErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		configure func(c *email.Config)
		wantErr   string
	}{
		{"bad to address", func(c *email.Config) { c.To = "ops at example.org" }, `parse 'to' addresses "ops at example.org": mail: `},
		{"to renders empty", func(c *email.Config) { c.To = "{{ .CommonLabels.team }}" }, `parse 'to' addresses "": mail: no address`},
		{"two from addresses", func(c *email.Config) { c.From = "a@example.org, b@example.org" }, "must be exactly one 'from' address (got: 2)"},
		{"bad from address", func(c *email.Config) { c.From = "alertd" }, `parse 'from' addresses "alertd"`},
		{"to template", func(c *email.Config) { c.To = "{{ .Nope }}" }, "template of to: "},
		{"html template", func(c *email.Config) { c.HTML = "{{ .Nope }}" }, "template of html: "},
		{"text template", func(c *email.Config) { c.Text = "{{ template \"nope\" . }}" }, "template of text: "},
		{"header template", func(c *email.Config) { c.Headers = map[string]string{"X-A": "{{ .Nope }}"} }, "template of headers.X-A: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := smtptest.Start(t, smtptest.Options{STARTTLS: true})
			c := baseConfig(f)
			tc.configure(&c)
			retry, err := newNotifier(t, c).Notify(t.Context(), notifytest.Firing())
			if err == nil || retry || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Notify: retry %v, error %v; want a permanent error with %q", retry, err, tc.wantErr)
			}
			if n := f.Connections(); n != 0 {
				t.Errorf("%d SMTP sessions, want none", n)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	valid := email.Config{To: "ops@example.org", From: "alertd@example.org", Smarthost: "127.0.0.1:25"}
	for _, tc := range []struct {
		name      string
		configure func(c *email.Config)
		wantErr   string
	}{
		{"no to", func(c *email.Config) { c.To = "" }, "missing to address in email config"},
		{"no from", func(c *email.Config) { c.From = "" }, "missing from address in email config"},
		{"no port", func(c *email.Config) { c.Smarthost = "127.0.0.1" }, `smarthost "127.0.0.1": address 127.0.0.1: missing port in address`},
		{"empty port", func(c *email.Config) { c.Smarthost = "127.0.0.1:" }, `smarthost "127.0.0.1:": host and port are required`},
		{"password twice", func(c *email.Config) { c.AuthPassword, c.AuthPasswordFile = password, "/run/pw" }, "at most one of auth_password & auth_password_file"},
		{"secret twice", func(c *email.Config) { c.AuthSecret, c.AuthSecretFile = secret, "/run/s" }, "at most one of auth_secret & auth_secret_file"},
		{"duplicate header", func(c *email.Config) { c.Headers = map[string]string{"subject": "a", "Subject": "b"} }, `duplicate header "Subject" in email config`},
		{"bad header name", func(c *email.Config) { c.Headers = map[string]string{"X Bad": "a"} }, `invalid header name "X Bad"`},
		{"threading conflict", func(c *email.Config) {
			c.Threading, c.Headers = true, map[string]string{"references": "<a@b>"}
		}, "threading.enabled conflicts with custom References header"},
		{"thread_by_date", func(c *email.Config) { c.Threading, c.ThreadByDate = true, "weekly" }, "threading.thread_by_date must be either 'none' or 'daily'"},
		{"tls_config", func(c *email.Config) { c.TLSConfig.CA, c.TLSConfig.CAFile = "x", "y" }, "tls_config: at most one of ca, ca_file & ca_ref"},
		{"bad CA", func(c *email.Config) { c.TLSConfig.CA = "not a certificate" }, "tls_config: unable to use specified CA cert"},
		{"negative timeout", func(c *email.Config) { c.Timeout = -time.Second }, "negative timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid
			tc.configure(&c)
			_, err := email.New(0, c, email.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New: %v, want %q", err, tc.wantErr)
			}
			noSecrets(t, err)
		})
	}
	if _, err := email.New(0, valid, email.Options{}); err != nil {
		t.Errorf("New(%+v): %v", valid, err)
	}
}

func TestBuilder(t *testing.T) {
	f := smtptest.Start(t, smtptest.Options{STARTTLS: true, Username: user, Password: password, Mechanisms: []string{"PLAIN"}})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(f.CAPEM()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := amconfig.Load(fmt.Sprintf(`
global:
  smtp_smarthost: %s
  smtp_from: alertd@example.org
  smtp_hello: alertd.example.org
  smtp_auth_username: %s
  smtp_auth_password: %s
  smtp_tls_config:
    ca_file: %s
route: {receiver: team-x}
receivers:
  - name: team-x
    email_configs:
      - to: ops@example.org
        headers:
          subject: 'custom {{ .Status }}'
      - to: dev@example.org
        from: dev-alerts@example.org
        send_resolved: true
        text: 'alerts: {{ len .Alerts }}'
`, f.Addr(), user, password, caFile))
	if err != nil {
		t.Fatal(err)
	}
	rcvs, err := notify.BuildReceivers(cfg, notify.BuildOptions{Email: email.Builder(email.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ig := range rcvs["team-x"] {
		got = append(got, fmt.Sprintf("%s[%d] send_resolved=%v", ig.Name(), ig.Index(), ig.SendResolved()))
		if retry, err := ig.Notify(t.Context(), notifytest.Firing()); err != nil {
			t.Fatalf("%s[%d]: Notify: retry %v, %v", ig.Name(), ig.Index(), retry, err)
		}
	}
	if want := []string{"email[0] send_resolved=false", "email[1] send_resolved=true"}; !cmp.Equal(got, want) {
		t.Errorf("integrations %v, want %v", got, want)
	}
	for _, d := range f.Messages() {
		m, err := parseMessage(d.Raw)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, p := range m.parts {
			types = append(types, p.contentType)
		}
		got = append(got, fmt.Sprintf("hello=%s tls=%v auth=%s/%s from=%s to=%v subject=%q parts=%v",
			d.Hello, d.TLS, d.Mechanism, d.User, d.From, d.To, m.subject, types))
		if len(m.parts) == 2 && m.parts[0].body != "alerts: 2" {
			t.Errorf("text part %q, want %q", m.parts[0].body, "alerts: 2")
		}
	}
	want := []string{
		`hello=alertd.example.org tls=true auth=PLAIN/alertd from=alertd@example.org to=[ops@example.org] subject="custom firing" parts=[text/html; charset=UTF-8]`,
		`hello=alertd.example.org tls=true auth=PLAIN/alertd from=dev-alerts@example.org to=[dev@example.org] subject="[FIRING:1] ConformanceDown (page)" parts=[text/plain; charset=UTF-8 text/html; charset=UTF-8]`,
	}
	if diff := cmp.Diff(want, got[2:]); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

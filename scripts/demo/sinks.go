package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// notification is one notification a local receiver got, reduced to what
// the demo's steps wait for.
type notification struct {
	via       string // "webhook" or "mail"
	status    string // "firing" or "resolved": the group's status
	alertname string // the first alert's
}

// A notification channel is bounded: the receivers never block on it, and
// the demo needs only the first few.
const notificationBuffer = 64

// deliver hands n to the demo's steps without ever blocking a receiver.
func deliver(ch chan<- notification, n notification) {
	select {
	case ch <- n:
	default:
	}
}

// webhookSink is the console receiver: an HTTP server that takes
// Alertmanager's webhook JSON, as alertd posts it, and prints it.
type webhookSink struct {
	url    string
	srv    *http.Server
	served chan error
}

// webhookMessage is the part of Alertmanager's webhook payload (version 4)
// that the demo prints.
type webhookMessage struct {
	Receiver string `json:"receiver"`
	Status   string `json:"status"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    time.Time         `json:"startsAt"`
		EndsAt      time.Time         `json:"endsAt"`
	} `json:"alerts"`
}

func startWebhookSink(n *narrator, notes chan<- notification) (*webhookSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("webhook sink: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /alerts", func(w http.ResponseWriter, r *http.Request) {
		var m webhookMessage
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m); err != nil {
			n.say("webhook: a body that is not Alertmanager's webhook JSON: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "webhook ← receiver %q: %s, %d alert(s)", m.Receiver, strings.ToUpper(m.Status), len(m.Alerts))
		for _, a := range m.Alerts {
			fmt.Fprintf(&b, "\n    %-8s %s %s: %s", a.Status, a.Labels["alertname"], labelString(a.Labels), a.Annotations["summary"])
		}
		n.say("%s", b.String())
		name := ""
		if len(m.Alerts) > 0 {
			name = m.Alerts[0].Labels["alertname"]
		}
		deliver(notes, notification{via: "webhook", status: m.Status, alertname: name})
		w.WriteHeader(http.StatusOK)
	})
	s := &webhookSink{
		url:    "http://" + ln.Addr().String() + "/alerts",
		srv:    &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		served: make(chan error, 1),
	}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

func (s *webhookSink) close() error {
	err := s.srv.Close()
	if serr := <-s.served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// mailCatcher is the local mail relay: an SMTP server (no TLS, no AUTH,
// loopback only) that accepts every message and prints its subject and
// plain-text part.
type mailCatcher struct {
	addr   string
	srv    *smtp.Server
	ln     net.Listener
	served chan error
}

func startMailCatcher(n *narrator, notes chan<- notification) (*mailCatcher, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mail catcher: %w", err)
	}
	c := &mailCatcher{addr: ln.Addr().String(), ln: ln, served: make(chan error, 1)}
	c.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &mailSession{n: n, notes: notes}, nil
	}))
	c.srv.Domain = "mail-catcher.demo.invalid"
	c.srv.AllowInsecureAuth = true
	c.srv.MaxMessageBytes = 1 << 20
	c.srv.ReadTimeout = 10 * time.Second
	c.srv.WriteTimeout = 10 * time.Second
	c.srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() { c.served <- c.srv.Serve(ln) }()
	return c, nil
}

func (c *mailCatcher) close() error {
	err := c.srv.Close()
	_ = c.ln.Close() // Serve may not have registered it yet
	if serr := <-c.served; serr != nil && !errors.Is(serr, smtp.ErrServerClosed) && !errors.Is(serr, net.ErrClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// mailSession is one SMTP transaction of the mail catcher.
type mailSession struct {
	n     *narrator
	notes chan<- notification
	to    []string
}

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	subject, text, err := readMail(raw)
	if err != nil {
		s.n.say("mail ← %s: a message that does not parse: %v", strings.Join(s.to, ", "), err)
		return nil
	}
	s.n.say("mail ← %s\n    Subject: %s\n%s", strings.Join(s.to, ", "), subject, indent(strings.TrimSpace(text), "    | "))
	status := "firing"
	if strings.HasPrefix(subject, "[RESOLVED") {
		status = "resolved"
	}
	name := ""
	if f := strings.Fields(subject); len(f) > 1 {
		name = f[1]
	}
	deliver(s.notes, notification{via: "mail", status: status, alertname: name})
	return nil
}

func (s *mailSession) Reset() { s.to = nil }

func (s *mailSession) Logout() error { return nil }

// maxParts bounds the MIME parts readMail looks at.
const maxParts = 20

// readMail returns a message's decoded subject and its text/plain part, as
// a mail client shows them.
func readMail(raw []byte) (subject, text string, err error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", "", err
	}
	if subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return "", "", fmt.Errorf("subject: %w", err)
	}
	ct := msg.Header.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", "", fmt.Errorf("content type %q: %w", ct, err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		if mt != "text/plain" {
			return subject, "(no text part)", nil
		}
		text, err = decodePart(msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
		return subject, text, err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for range maxParts {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", "", err
		}
		if pt, _, err := mime.ParseMediaType(p.Header.Get("Content-Type")); err == nil && pt == "text/plain" {
			text, err = decodePart(p.Header.Get("Content-Transfer-Encoding"), p)
			return subject, text, err
		}
	}
	return subject, "(no text part)", nil
}

func decodePart(encoding string, r io.Reader) (string, error) {
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	return string(b), err
}

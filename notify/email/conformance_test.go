package email_test

import (
	"strings"
	"testing"

	commoncfg "github.com/prometheus/common/config"

	"github.com/alertd/alertd/internal/notifytest"
	"github.com/alertd/alertd/internal/smtptest"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/email"
)

func TestConformance(t *testing.T) {
	notifytest.Run(t, notifytest.Harness{Start: startConformance})
}

// conformanceReceiver is a fake SMTP server with STARTTLS that accepts
// AUTH PLAIN and LOGIN with the suite's secret as the password, and
// answers the DATA of each transaction as told.
type conformanceReceiver struct {
	f *smtptest.Server
}

func startConformance(t *testing.T) notifytest.Receiver {
	return &conformanceReceiver{f: smtptest.Start(t, smtptest.Options{
		STARTTLS: true,
		Username: "alertd",
		Password: notifytest.Secret,
	})}
}

func (r *conformanceReceiver) Integration(t *testing.T, c notifytest.Config) notify.Integration {
	cfg := email.Config{
		To:           "ops@example.org",
		From:         "alertd@example.org",
		Smarthost:    r.f.Addr(),
		AuthUsername: "alertd",
		AuthPassword: c.Secret,
		RequireTLS:   true,
		TLSConfig:    commoncfg.TLSConfig{CA: r.f.CAPEM()},
		HTML:         email.DefaultHTML,
		Timeout:      c.Timeout,
		SendResolved: true,
	}
	if c.BadTemplate {
		cfg.Headers = map[string]string{"Subject": "{{ .NoSuchField }}"}
	}
	n, err := email.New(0, cfg, email.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (r *conformanceReceiver) Answer(o ...notifytest.Outcome) {
	for _, o := range o {
		switch o {
		case notifytest.OK:
			r.f.Answer(smtptest.Reply{At: "DATA"})
		case notifytest.Transient:
			r.f.Answer(smtptest.Reply{At: "DATA", Code: 451, Text: "try again later"})
		case notifytest.RateLimited:
			r.f.Answer(smtptest.Reply{At: "DATA", Code: 421, Text: "too many messages, slow down"})
		case notifytest.Permanent:
			r.f.Answer(smtptest.Reply{At: "DATA", Code: 550, Text: notifytest.PermanentBody})
		case notifytest.Hang:
			r.f.Answer(smtptest.Reply{At: "DATA", Hang: true})
		}
	}
}

// Received reads the subject of each message: the default subject names
// the group and says whether it is resolved.
func (r *conformanceReceiver) Received() []notifytest.Received {
	var out []notifytest.Received
	for _, d := range r.f.Messages() {
		subject := "unreadable message"
		if m, err := parseMessage(d.Raw); err == nil {
			subject = m.subject
		}
		out = append(out, notifytest.Received{
			Resolved: strings.HasPrefix(subject, "[RESOLVED]"),
			Text:     subject,
		})
	}
	return out
}

func (*conformanceReceiver) RetryAfter() bool { return false }

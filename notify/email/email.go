package email

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	commoncfg "github.com/prometheus/common/config"

	"github.com/alertd/alertd/notify"
)

// Name is the integration kind, the integration label of the metrics.
const Name = "email"

// The default templates of an email, Alertmanager's.
const (
	// DefaultSubject is the Subject header when none is configured.
	DefaultSubject = `{{ template "email.default.subject" . }}`
	// DefaultHTML is the html of an email_configs entry that sets none
	// (amconfig.Load fills it in).
	DefaultHTML = `{{ template "email.default.html" . }}`
)

// Config is one email_configs entry. To, From, the header values, HTML and
// Text are templates.
type Config struct {
	// To is the recipients: an RFC 5322 address list, comma-separated.
	To string
	// From is the sender: exactly one address.
	From string
	// Hello is the EHLO name; empty sends net/smtp's, "localhost"
	// (Alertmanager's smtp_hello default is "localhost" too).
	Hello string
	// Smarthost is the SMTP server, host:port.
	Smarthost string

	// AuthUsername enables AUTH, when the server offers it.
	AuthUsername string
	// AuthPassword (or the content of AuthPasswordFile, read at every
	// notification) is the PLAIN and LOGIN password. Secret.
	AuthPassword     string
	AuthPasswordFile string
	// AuthSecret (or the content of AuthSecretFile) is the CRAM-MD5
	// secret. Secret.
	AuthSecret     string
	AuthSecretFile string
	// AuthIdentity is PLAIN's authorization identity.
	AuthIdentity string

	// Headers are the message's headers, by name (case-insensitive).
	// Subject, To and From are added when absent: DefaultSubject, and the
	// To and From templates.
	Headers map[string]string
	// HTML is the text/html part, rendered with html/template; empty
	// means none.
	HTML string
	// Text is the text/plain part; empty means none.
	Text string

	// RequireTLS makes STARTTLS mandatory when not using implicit TLS
	// (Alertmanager's default, which Builder applies, is true).
	RequireTLS bool
	// TLSConfig configures TLS, implicit or STARTTLS; its ServerName
	// defaults to the smarthost's host.
	TLSConfig commoncfg.TLSConfig
	// ForceImplicitTLS says whether to speak TLS from the start; nil
	// means only on port 465.
	ForceImplicitTLS *bool

	// Threading adds References and In-Reply-To headers that thread the
	// messages of one aggregation group together, per day when
	// ThreadByDate is "daily" (or empty), for ever when it is "none".
	Threading    bool
	ThreadByDate string

	// Timeout bounds each notification's SMTP conversation; zero means
	// only the flush deadline (Alertmanager has no such setting).
	Timeout time.Duration
	// SendResolved says whether resolved alerts are sent (Alertmanager's
	// default for email is false).
	SendResolved bool
}

// Options configure the emails New and Builder make. The zero value is
// valid.
type Options struct {
	// Templates render the templated fields; nil means Alertmanager's
	// default templates only.
	Templates *notify.Templates
	// Hostname is the domain of generated Message-Ids; empty means
	// os.Hostname().
	Hostname string
}

// header is one configured header.
type header struct {
	name, tmpl string
}

// Notifier is one email integration.
type Notifier struct {
	idx          int
	sendResolved bool
	timeout      time.Duration
	templates    *notify.Templates
	hostname     string

	to, from     string
	headers      []header // sorted by name
	hasMessageID bool
	hasDate      bool
	html, text   string
	threading    bool
	threadDaily  bool

	smarthost   string // host:port
	host        string
	hello       string
	requireTLS  bool
	implicitTLS bool
	tlsConfig   commoncfg.TLSConfig

	username, identity     string
	password, passwordFile string
	secret, secretFile     string
}

var _ notify.Integration = (*Notifier)(nil)

// New builds the email configured at index idx of its receiver's
// email_configs. Its errors never show a password or secret.
func New(idx int, c Config, o Options) (*Notifier, error) {
	switch {
	case strings.TrimSpace(c.To) == "":
		return nil, errors.New("missing to address in email config")
	case strings.TrimSpace(c.From) == "":
		return nil, errors.New("missing from address in email config")
	case c.AuthPassword != "" && c.AuthPasswordFile != "":
		return nil, errors.New("at most one of auth_password & auth_password_file must be configured")
	case c.AuthSecret != "" && c.AuthSecretFile != "":
		return nil, errors.New("at most one of auth_secret & auth_secret_file must be configured")
	case c.Timeout < 0:
		return nil, fmt.Errorf("negative timeout %s", c.Timeout)
	}
	host, port, err := net.SplitHostPort(c.Smarthost)
	if err != nil {
		return nil, fmt.Errorf("smarthost %q: %w", c.Smarthost, err)
	}
	if host == "" || port == "" {
		return nil, fmt.Errorf("smarthost %q: host and port are required", c.Smarthost)
	}
	if err := c.TLSConfig.Validate(); err != nil {
		return nil, fmt.Errorf("tls_config: %w", err)
	}
	if _, err := commoncfg.NewTLSConfig(&c.TLSConfig); err != nil {
		return nil, notify.Redact(fmt.Errorf("tls_config: %w", err), string(c.TLSConfig.Key))
	}
	byDate := cmp.Or(c.ThreadByDate, "daily")
	if c.Threading && byDate != "daily" && byDate != "none" {
		return nil, errors.New("threading.thread_by_date must be either 'none' or 'daily'")
	}

	headers := make(map[string]string, len(c.Headers)+3)
	for k, v := range c.Headers {
		if !validHeaderName(k) {
			return nil, fmt.Errorf("invalid header name %q in email config", k)
		}
		name := textproto.CanonicalMIMEHeaderKey(k)
		if _, dup := headers[name]; dup {
			return nil, fmt.Errorf("duplicate header %q in email config", name)
		}
		headers[name] = v
	}
	if c.Threading {
		for _, h := range []string{"References", "In-Reply-To"} {
			if _, ok := headers[h]; ok {
				return nil, fmt.Errorf("conflicting configuration: threading.enabled conflicts with custom %s header", h)
			}
		}
	}
	for name, v := range map[string]string{"Subject": DefaultSubject, "To": c.To, "From": c.From} {
		if _, ok := headers[name]; !ok {
			headers[name] = v
		}
	}
	n := &Notifier{
		idx:          idx,
		sendResolved: c.SendResolved,
		timeout:      c.Timeout,
		templates:    o.Templates,
		hostname:     o.Hostname,
		to:           c.To,
		from:         c.From,
		html:         c.HTML,
		text:         c.Text,
		threading:    c.Threading,
		threadDaily:  byDate == "daily",
		smarthost:    net.JoinHostPort(host, port),
		host:         host,
		hello:        c.Hello,
		requireTLS:   c.RequireTLS,
		implicitTLS:  port == "465",
		tlsConfig:    c.TLSConfig,
		username:     c.AuthUsername,
		identity:     c.AuthIdentity,
		password:     c.AuthPassword,
		passwordFile: c.AuthPasswordFile,
		secret:       c.AuthSecret,
		secretFile:   c.AuthSecretFile,
	}
	if c.ForceImplicitTLS != nil {
		n.implicitTLS = *c.ForceImplicitTLS
	}
	for name, v := range headers {
		n.headers = append(n.headers, header{name: name, tmpl: v})
	}
	slices.SortFunc(n.headers, func(a, b header) int { return strings.Compare(a.name, b.name) })
	_, n.hasMessageID = headers["Message-Id"]
	_, n.hasDate = headers["Date"]
	if n.templates == nil {
		if n.templates, err = notify.LoadTemplates(nil); err != nil {
			return nil, err
		}
	}
	if n.hostname == "" {
		if n.hostname, err = os.Hostname(); err != nil || n.hostname == "" {
			n.hostname = "localhost.localdomain"
		}
	}
	return n, nil
}

// validHeaderName reports whether s is an RFC 5322 field name: printable
// ASCII but the colon.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r > '~' || r == ':' {
			return false
		}
	}
	return true
}

// Builder returns the notify.BuildFunc of email_configs entries, for
// notify.BuildOptions.Email.
func Builder(o Options) notify.BuildFunc {
	return func(rcv *amconfig.Receiver, idx int) (notify.Integration, error) {
		c := rcv.EmailConfigs[idx]
		if c == nil {
			return nil, errors.New("missing email config")
		}
		cfg := Config{
			To:               c.To,
			From:             c.From,
			Hello:            c.Hello,
			Smarthost:        c.Smarthost.String(),
			AuthUsername:     c.AuthUsername,
			AuthPassword:     string(c.AuthPassword),
			AuthPasswordFile: c.AuthPasswordFile,
			AuthSecret:       string(c.AuthSecret),
			AuthSecretFile:   c.AuthSecretFile,
			AuthIdentity:     c.AuthIdentity,
			Headers:          c.Headers,
			HTML:             c.HTML,
			Text:             c.Text,
			RequireTLS:       c.RequireTLS == nil || *c.RequireTLS,
			ForceImplicitTLS: c.ForceImplicitTLS,
			Threading:        c.Threading.Enabled,
			ThreadByDate:     c.Threading.ThreadByDate,
			SendResolved:     c.SendResolved(),
		}
		if c.TLSConfig != nil {
			cfg.TLSConfig = *c.TLSConfig
		}
		n, err := New(idx, cfg, o)
		if err != nil {
			return nil, err
		}
		return n, nil
	}
}

// Name returns "email".
func (n *Notifier) Name() string { return Name }

// Index returns the email's index in its receiver's email_configs.
func (n *Notifier) Index() int { return n.idx }

// SendResolved reports whether resolved alerts are sent.
func (n *Notifier) SendResolved() bool { return n.sendResolved }

// Notify renders the message of d and sends it. Template and address
// errors and 5yz SMTP replies are permanent; 4yz replies, network, TLS and
// timeout errors are retryable.
func (n *Notifier) Notify(ctx context.Context, d *notify.Data) (bool, error) {
	if d == nil {
		return false, errors.New("no notification data")
	}
	m, err := n.compose(d, time.Now())
	if err != nil {
		return false, err
	}
	if n.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, n.timeout,
			fmt.Errorf("configured email timeout reached (%s): %w", n.timeout, context.DeadlineExceeded))
		defer cancel()
	}
	s := &session{n: n}
	retry, err := s.send(ctx, m)
	return retry, notify.Redact(err, s.secrets()...)
}

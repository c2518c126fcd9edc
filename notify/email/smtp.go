package email

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"time"

	commoncfg "github.com/prometheus/common/config"

	"github.com/alertd/alertd/notify"
)

// quitTimeout bounds the QUIT that ends a conversation, within the
// context's deadline.
const quitTimeout = 5 * time.Second

// session is one notification's SMTP conversation. It remembers the
// secrets it has read, for the redaction of its errors.
type session struct {
	n *Notifier

	// The password and secret, read when first needed.
	password, secret       string
	passwordErr, secretErr error
	readPassword, readSecr bool
}

// secrets returns what the session's errors must not show.
func (s *session) secrets() []string {
	return []string{s.n.password, s.n.secret, s.password, s.secret, string(s.n.tlsConfig.Key)}
}

// send delivers m to the smarthost.
func (s *session) send(ctx context.Context, m *message) (retry bool, err error) {
	n := s.n
	var tlsConf *tls.Config
	if n.implicitTLS || n.requireTLS {
		if tlsConf, err = newTLSConfig(&n.tlsConfig, n.host); err != nil {
			return false, err
		}
	}

	var conn net.Conn
	if n.implicitTLS {
		d := &tls.Dialer{Config: tlsConf}
		if conn, err = d.DialContext(ctx, "tcp", n.smarthost); err != nil {
			return classify(ctx, "establish TLS connection to server", err)
		}
	} else {
		var d net.Dialer
		if conn, err = d.DialContext(ctx, "tcp", n.smarthost); err != nil {
			return classify(ctx, "establish connection to server", err)
		}
	}
	// The context bounds the whole conversation: its deadline is the
	// connection's, and its end closes the connection, which fails the
	// command waiting for an answer.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	c, err := smtp.NewClient(conn, n.host)
	if err != nil {
		_ = conn.Close()
		return classify(ctx, "create SMTP client", err)
	}
	defer func() {
		// Say goodbye if the connection is still usable, briefly.
		if ctx.Err() == nil {
			dl := time.Now().Add(quitTimeout)
			if cdl, ok := ctx.Deadline(); ok && cdl.Before(dl) {
				dl = cdl
			}
			_ = conn.SetDeadline(dl)
			_ = c.Quit()
		}
		_ = c.Close()
	}()

	// EHLO now, not on the first command, whose error it would hide
	// (Extension reports a failed EHLO as no extensions).
	if err := c.Hello(cmp.Or(n.hello, "localhost")); err != nil {
		return classify(ctx, "send EHLO command", err)
	}
	if n.requireTLS && !n.implicitTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return true, fmt.Errorf("'require_tls' is true (default) but %q does not advertise the STARTTLS extension", n.smarthost)
		}
		if err := c.StartTLS(tlsConf); err != nil {
			return classify(ctx, "send STARTTLS command", err)
		}
	}
	if ok, mechs := c.Extension("AUTH"); ok && n.username != "" {
		mech, a, err := s.auth(mechs)
		if err != nil {
			return true, fmt.Errorf("find auth mechanism: %w", err)
		}
		if a != nil {
			if err := c.Auth(a); err != nil {
				return classify(ctx, "AUTH "+mech, err)
			}
		}
	}

	if err := c.Mail(m.from); err != nil {
		return classify(ctx, "send MAIL command", err)
	}
	for _, to := range m.to {
		if err := c.Rcpt(to); err != nil {
			return classify(ctx, "send RCPT command", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return classify(ctx, "send DATA command", err)
	}
	if _, err := w.Write(m.data); err != nil {
		return classify(ctx, "write message", err)
	}
	if err := w.Close(); err != nil {
		return classify(ctx, "delivery failure", err)
	}
	return false, nil
}

// newTLSConfig builds the TLS configuration of a connection to host. It is
// built at every notification, as Alertmanager does, so that a renewed CA
// file is used without a reload.
func newTLSConfig(c *commoncfg.TLSConfig, host string) (*tls.Config, error) {
	tc, err := commoncfg.NewTLSConfig(c)
	if err != nil {
		return nil, fmt.Errorf("parse TLS configuration: %w", err)
	}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	return tc, nil
}

// classify wraps err, the failure of step, with its failure reason and
// says whether it is retryable: SMTP replies as RFC 5321 says (4yz
// transient, 5yz permanent), anything else (network, TLS, timeouts)
// retryable.
func classify(ctx context.Context, step string, err error) (bool, error) {
	// The connection's deadline is the context's: when it passes, wait
	// the instant it takes the context to notice, so that the error says
	// which deadline it was.
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if _, ok := ctx.Deadline(); ok {
			<-ctx.Done()
		}
	}
	err = fmt.Errorf("%s: %w", step, err)
	if ctx.Err() != nil {
		cause := context.Cause(ctx)
		if !errors.Is(cause, ctx.Err()) {
			cause = fmt.Errorf("%w: %w", ctx.Err(), cause)
		}
		return true, fmt.Errorf("%w: %w", err, cause)
	}
	tpe, ok := errors.AsType[*textproto.Error](err)
	if !ok {
		return true, err
	}
	switch code := tpe.Code; {
	case code == 421:
		// "Service not available, closing transmission channel": the
		// server's way of saying "not now", often a rate limit.
		return true, &notify.Error{Reason: notify.ReasonRateLimited, Err: err}
	case code/100 == 4:
		return true, &notify.Error{Reason: notify.ReasonServerError, Err: err}
	case code == 530 || code == 534 || code == 535 || code == 538:
		// Authentication required, mechanism too weak, credentials
		// invalid, encryption required for the mechanism.
		return false, &notify.Error{Reason: notify.ReasonAuthError, Err: err}
	case code/100 == 5:
		return false, &notify.Error{Reason: notify.ReasonClientError, Err: err}
	}
	return true, err
}

// auth returns the authentication of the first mechanism of the server's
// list (mechs) that the configuration can answer, as Alertmanager chooses
// it: CRAM-MD5 with a secret, PLAIN or LOGIN with a password. It returns
// nil and no error if the server lists none.
func (s *session) auth(mechs string) (string, smtp.Auth, error) {
	n := s.n
	var errs []error
	for _, mech := range strings.Fields(mechs) {
		mech = strings.ToUpper(mech)
		switch mech {
		case "CRAM-MD5":
			secret, err := s.authSecret()
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if secret == "" {
				errs = append(errs, errors.New("missing secret for CRAM-MD5 auth mechanism"))
				continue
			}
			return mech, smtp.CRAMMD5Auth(n.username, secret), nil
		case "PLAIN", "LOGIN":
			password, err := s.authPassword()
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if password == "" {
				errs = append(errs, fmt.Errorf("missing password for %s auth mechanism", mech))
				continue
			}
			if mech == "PLAIN" {
				return mech, smtp.PlainAuth(n.identity, n.username, password, n.host), nil
			}
			return mech, &loginAuth{username: n.username, password: password}, nil
		default:
			errs = append(errs, fmt.Errorf("unknown auth mechanism: %s", mech))
		}
	}
	return "", nil, errors.Join(errs...)
}

// authPassword returns auth_password, or the content of
// auth_password_file read now.
func (s *session) authPassword() (string, error) {
	if !s.readPassword {
		s.readPassword = true
		s.password, s.passwordErr = readSecret(s.n.password, s.n.passwordFile, "auth_password_file")
	}
	return s.password, s.passwordErr
}

// authSecret returns auth_secret, or the content of auth_secret_file read
// now.
func (s *session) authSecret() (string, error) {
	if !s.readSecr {
		s.readSecr = true
		s.secret, s.secretErr = readSecret(s.n.secret, s.n.secretFile, "auth_secret_file")
	}
	return s.secret, s.secretErr
}

// readSecret returns value, or the content of file, trimmed, when file
// is set. Its error names the field, never the content.
func readSecret(value, file, field string) (string, error) {
	if file == "" {
		return value, nil
	}
	return notify.ReadSecretFile(file, field)
}

// loginAuth is the LOGIN mechanism (draft-murchison-sasl-login), which
// net/smtp lacks: the username and the password, each on request.
type loginAuth struct {
	username, password string
}

func (a *loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch prompt := strings.ToLower(strings.TrimSpace(string(fromServer))); {
	case strings.HasPrefix(prompt, "username") || strings.HasPrefix(prompt, "user name"):
		return []byte(a.username), nil
	case strings.HasPrefix(prompt, "password"):
		return []byte(a.password), nil
	default:
		return nil, fmt.Errorf("unexpected LOGIN challenge %q", prompt)
	}
}

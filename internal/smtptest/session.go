package smtptest

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// session is one session (from EHLO) of a Server.
type session struct {
	s    *Server
	conn *smtp.Conn

	mech, user string
	from       string
	to         []string
}

var _ smtp.AuthSession = (*session)(nil)

func (se *session) AuthMechanisms() []string { return se.s.mechs }

func (se *session) Auth(mech string) (sasl.Server, error) {
	if !slices.Contains(se.s.mechs, mech) {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	o := se.s.opts
	check := func(user string, ok bool) error {
		if user != o.Username || !ok {
			return smtp.ErrAuthFailed
		}
		se.mech, se.user = mech, user
		return nil
	}
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(identity, user, password string) error {
			return check(user, (identity == "" || identity == user) && password == o.Password)
		}), nil
	case "LOGIN":
		return &loginServer{check: func(user, password string) error {
			return check(user, password == o.Password)
		}}, nil
	case "CRAM-MD5":
		return &cramMD5Server{
			challenge: fmt.Sprintf("<%d.%d@fake.test>", time.Now().UnixNano(), se.s.Connections()),
			check: func(user, digest, challenge string) error {
				mac := hmac.New(md5.New, []byte(o.cramSecret()))
				mac.Write([]byte(challenge))
				return check(user, hmac.Equal([]byte(digest), []byte(hex.EncodeToString(mac.Sum(nil)))))
			},
		}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if len(se.s.mechs) > 0 && se.mech == "" {
		return smtp.ErrAuthRequired
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if r, ok := se.s.take("RCPT"); ok && (r.Hang || r.Code != 0) {
		return se.refuse(r)
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if r, ok := se.s.take("DATA"); ok && (r.Hang || r.Code != 0) {
		return se.refuse(r)
	}
	_, isTLS := se.conn.TLSConnectionState()
	m := Message{
		Hello:      se.conn.Hostname(),
		TLS:        isTLS,
		Mechanism:  se.mech,
		User:       se.user,
		From:       se.from,
		To:         slices.Clone(se.to),
		Raw:        data,
		ReceivedAt: time.Now(),
	}
	m.parse()
	se.s.mu.Lock()
	defer se.s.mu.Unlock()
	se.s.msgs = append(se.s.msgs, m)
	return nil
}

// refuse answers as r says. To hang, it waits for the client to close the
// connection (or the server to stop): the client sends nothing while it
// waits for the answer, so one read returns only then.
func (se *session) refuse(r Reply) error {
	if r.Hang {
		_, _ = se.conn.Conn().Read(make([]byte, 1))
		return errors.New("hung up")
	}
	return &smtp.SMTPError{Code: r.Code, EnhancedCode: smtp.EnhancedCode{r.Code / 100, 0, 0}, Message: r.Text}
}

func (se *session) Reset() { se.from, se.to = "", nil }

func (se *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl lacks.
type loginServer struct {
	step  int
	user  string
	check func(user, password string) error
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if len(resp) > 0 { // the username as initial response
			l.user, l.step = string(resp), 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

// cramMD5Server is the server side of AUTH CRAM-MD5 (RFC 2195), which
// go-sasl lacks.
type cramMD5Server struct {
	challenge string
	sent      bool
	check     func(user, digest, challenge string) error
}

func (c *cramMD5Server) Next(resp []byte) ([]byte, bool, error) {
	if !c.sent {
		c.sent = true
		return []byte(c.challenge), false, nil
	}
	user, digest, ok := strings.Cut(string(resp), " ")
	if !ok {
		return nil, true, smtp.ErrAuthFailed
	}
	return nil, true, c.check(user, digest, c.challenge)
}

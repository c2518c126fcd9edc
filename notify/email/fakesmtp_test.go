package email_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// fakeOptions configure a fakeSMTP.
type fakeOptions struct {
	// noSTARTTLS: the server does not offer STARTTLS (and allows AUTH
	// in clear text).
	noSTARTTLS bool
	// implicitTLS: the listener speaks TLS from the start, as on port
	// 465.
	implicitTLS bool
	// mechs are the AUTH mechanisms offered, in order; none means no
	// AUTH. With mechs, MAIL needs a successful AUTH first.
	mechs []string
	// The credentials AUTH accepts: user with password (PLAIN, LOGIN)
	// or secret (CRAM-MD5).
	user, password, secret string
}

// reply is how the fake answers one command of one transaction: with code
// and text, by never answering (hang), or, with neither, by accepting it.
type reply struct {
	at   string // "RCPT" or "DATA"
	code int
	text string
	hang bool
}

// delivered is one message the fake accepted, with how it got there.
type delivered struct {
	hello string // EHLO name
	tls   bool
	mech  string // AUTH mechanism used, "" if none
	user  string
	from  string
	to    []string
	data  []byte
}

// fakeSMTP is an SMTP server on 127.0.0.1 (emersion/go-smtp) with a
// self-signed certificate for 127.0.0.1, for STARTTLS or implicit TLS,
// AUTH PLAIN, LOGIN and CRAM-MD5, and replies queued by the test.
type fakeSMTP struct {
	addr string
	// caPEM is the certificate, the CA a client must trust.
	caPEM string
	opts  fakeOptions

	mu       sync.Mutex
	replies  []reply
	msgs     []delivered
	sessions int
}

func startFakeSMTP(t *testing.T, o fakeOptions) *fakeSMTP {
	t.Helper()
	cert, caPEM := selfSigned(t)
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	f := &fakeSMTP{caPEM: caPEM, opts: o}

	srv := smtp.NewServer(smtp.BackendFunc(f.newSession))
	srv.Domain = "fake.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.AllowInsecureAuth = o.noSTARTTLS
	if !o.noSTARTTLS && !o.implicitTLS {
		srv.TLSConfig = tlsConf
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.implicitTLS {
		ln = tls.NewListener(ln, tlsConf)
	}
	f.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return f
}

// selfSigned returns a certificate for 127.0.0.1 and its PEM.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fake smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// answer queues replies, one per transaction, in order.
func (f *fakeSMTP) answer(r ...reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies = append(f.replies, r...)
}

// take pops the next queued reply if it is for the command at.
func (f *fakeSMTP) take(at string) (reply, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.replies) == 0 || f.replies[0].at != at {
		return reply{}, false
	}
	r := f.replies[0]
	f.replies = f.replies[1:]
	return r, true
}

// delivered returns the messages accepted so far.
func (f *fakeSMTP) delivered() []delivered {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.msgs)
}

// connections returns how many EHLOs the server has seen (STARTTLS
// counts a second one).
func (f *fakeSMTP) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sessions
}

func (f *fakeSMTP) newSession(c *smtp.Conn) (smtp.Session, error) {
	f.mu.Lock()
	f.sessions++
	f.mu.Unlock()
	return &fakeSession{f: f, conn: c}, nil
}

// fakeSession is one session (from EHLO) of a fakeSMTP.
type fakeSession struct {
	f    *fakeSMTP
	conn *smtp.Conn

	mech, user string
	from       string
	to         []string
}

var _ smtp.AuthSession = (*fakeSession)(nil)

func (s *fakeSession) AuthMechanisms() []string { return s.f.opts.mechs }

func (s *fakeSession) Auth(mech string) (sasl.Server, error) {
	if !slices.Contains(s.f.opts.mechs, mech) {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	o := s.f.opts
	check := func(user string, ok bool) error {
		if user != o.user || !ok {
			return smtp.ErrAuthFailed
		}
		s.mech, s.user = mech, user
		return nil
	}
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(identity, user, password string) error {
			return check(user, (identity == "" || identity == user) && password == o.password)
		}), nil
	case "LOGIN":
		return &loginServer{check: func(user, password string) error {
			return check(user, password == o.password)
		}}, nil
	case "CRAM-MD5":
		return &cramMD5Server{
			challenge: fmt.Sprintf("<%d.%d@fake.test>", time.Now().UnixNano(), s.f.connections()),
			check: func(user, digest, challenge string) error {
				mac := hmac.New(md5.New, []byte(o.secret))
				mac.Write([]byte(challenge))
				return check(user, hmac.Equal([]byte(digest), []byte(hex.EncodeToString(mac.Sum(nil)))))
			},
		}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *fakeSession) Mail(from string, _ *smtp.MailOptions) error {
	if len(s.f.opts.mechs) > 0 && s.mech == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *fakeSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if r, ok := s.f.take("RCPT"); ok && (r.hang || r.code != 0) {
		return s.refuse(r)
	}
	s.to = append(s.to, to)
	return nil
}

func (s *fakeSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if r, ok := s.f.take("DATA"); ok && (r.hang || r.code != 0) {
		return s.refuse(r)
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.msgs = append(s.f.msgs, delivered{
		hello: s.conn.Hostname(),
		tls:   isTLS,
		mech:  s.mech,
		user:  s.user,
		from:  s.from,
		to:    slices.Clone(s.to),
		data:  data,
	})
	return nil
}

// refuse answers as r says. To hang, it waits for the client to close the
// connection (or the server to stop): the client sends nothing while it
// waits for the answer, so one read returns only then.
func (s *fakeSession) refuse(r reply) error {
	if r.hang {
		_, _ = s.conn.Conn().Read(make([]byte, 1))
		return errors.New("hung up")
	}
	return &smtp.SMTPError{Code: r.code, EnhancedCode: smtp.EnhancedCode{r.code / 100, 0, 0}, Message: r.text}
}

func (s *fakeSession) Reset() { s.from, s.to = "", nil }

func (s *fakeSession) Logout() error { return nil }

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

package smtptest_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/alertd/alertd/internal/smtptest"
)

const message = "From: alertd@example.org\r\n" +
	"To: ops@example.org\r\n" +
	"Subject: =?utf-8?q?[FIRING:1]_=C3=A9t=C3=A9?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=b1\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"caf=C3=A9\r\n" +
	"--b1\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PGI+aDE8L2I+\r\n" +
	"--b1--\r\n"

// dial connects to s over STARTTLS, trusting its CA file.
func dial(t *testing.T, s *smtptest.Server) *smtp.Client {
	t.Helper()
	pem, err := os.ReadFile(s.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("CA file holds no certificate")
	}
	c, err := smtp.DialStartTLS(s.Addr(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestServer sends a message over STARTTLS with AUTH, one the server
// refuses as queued, and one without AUTH, and reads back what it kept.
func TestServer(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{STARTTLS: true, Username: "u", Password: "pw"})
	c := dial(t, s)
	if err := c.SendMail("a@example.org", []string{"ops@example.org"}, strings.NewReader(message)); err == nil {
		t.Error("message without AUTH accepted")
	}
	if err := c.Auth(sasl.NewPlainClient("", "u", "pw")); err != nil {
		t.Fatal(err)
	}
	s.Answer(smtptest.Reply{At: "DATA", Code: 452, Text: "mailbox full"})
	var se *smtp.SMTPError
	if err := c.SendMail("a@example.org", []string{"ops@example.org"}, strings.NewReader(message)); !errors.As(err, &se) || se.Code != 452 {
		t.Errorf("error %v, want the queued 452", err)
	}
	if err := c.SendMail("a@example.org", []string{"ops@example.org", "b@example.org"}, strings.NewReader(message)); err != nil {
		t.Fatal(err)
	}

	got := s.Messages()
	want := []smtptest.Message{{
		From: "a@example.org", To: []string{"ops@example.org", "b@example.org"},
		Hello: "localhost", TLS: true, Mechanism: "PLAIN", User: "u",
		Subject: "[FIRING:1] été", Text: "café", HTML: "<b>h1</b>",
		Raw: []byte(message),
	}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(smtptest.Message{}, "Header", "ReceivedAt")); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if len(got) == 1 && (got[0].Header.Get("To") != "ops@example.org" || got[0].ReceivedAt.IsZero()) {
		t.Errorf("header To %q, received at %v", got[0].Header.Get("To"), got[0].ReceivedAt)
	}
	if s.CAPEM() == "" {
		t.Error("no CA PEM with STARTTLS")
	}
}

// TestNoTLS: without TLS there is no certificate, and AUTH works in clear
// text with the mechanisms asked for.
func TestNoTLS(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "u", Password: "pw", Mechanisms: []string{"LOGIN"}})
	if s.CAFile() != "" || s.CAPEM() != "" {
		t.Errorf("CA file %q, PEM %q without TLS", s.CAFile(), s.CAPEM())
	}
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if c.SupportsAuth("PLAIN") || !c.SupportsAuth("LOGIN") {
		t.Error("the server does not offer LOGIN only")
	}
	if err := c.Auth(sasl.NewLoginClient("u", "pw")); err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("a@example.org", []string{"ops@example.org"}, strings.NewReader("Subject: plain\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	got := s.Messages()
	if len(got) != 1 || got[0].TLS || got[0].Hello != "client.test" || got[0].Mechanism != "LOGIN" ||
		got[0].Subject != "plain" || got[0].Text != "body\r\n" || got[0].ParseErr != nil {
		t.Errorf("messages %+v", got)
	}
	if n := s.Connections(); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
}

package smtptest

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/alertd/alertd/internal/testenv"
)

// Options configure a Server. The zero value is a server without TLS or
// AUTH.
type Options struct {
	// STARTTLS offers STARTTLS with a self-signed certificate for
	// 127.0.0.1. Without it (and without ImplicitTLS), AUTH is allowed
	// in clear text.
	STARTTLS bool
	// ImplicitTLS makes the listener speak TLS from the first byte, as
	// on port 465. STARTTLS is then not offered.
	ImplicitTLS bool
	// Username and Password are the credentials AUTH accepts. When
	// Username is not empty, MAIL needs a successful AUTH first, and
	// PLAIN and LOGIN are offered unless Mechanisms says otherwise.
	Username, Password string
	// Secret is the CRAM-MD5 secret; "" means Password.
	Secret string
	// Mechanisms overrides the offered AUTH mechanisms, in order:
	// "PLAIN", "LOGIN", "CRAM-MD5" are understood, others are listed but
	// refused. It applies only with a Username.
	Mechanisms []string
}

// mechanisms returns the AUTH mechanisms o offers, none without a
// Username.
func (o Options) mechanisms() []string {
	switch {
	case o.Username == "":
		return nil
	case o.Mechanisms != nil:
		return o.Mechanisms
	}
	return []string{"PLAIN", "LOGIN"}
}

// cramSecret is the CRAM-MD5 secret o accepts.
func (o Options) cramSecret() string {
	if o.Secret != "" {
		return o.Secret
	}
	return o.Password
}

// Reply is how the server answers one command of one transaction: with Code
// and Text, by never answering (Hang), or, with neither, by accepting it.
type Reply struct {
	// At is the command it answers: "RCPT" or "DATA".
	At   string
	Code int
	Text string
	// Hang never answers: the server waits for the client to close the
	// connection (or the server to stop).
	Hang bool
}

// Server is an SMTP server on 127.0.0.1, stopped when the test ends.
type Server struct {
	addr   string
	caPEM  string
	caFile string
	opts   Options
	mechs  []string

	mu       sync.Mutex
	replies  []Reply
	msgs     []Message
	sessions int
}

// Start starts a server configured by o; t's cleanup stops it.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{opts: o, mechs: o.mechanisms()}

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "fake.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.AllowInsecureAuth = !o.STARTTLS
	var tlsConf *tls.Config
	if o.STARTTLS || o.ImplicitTLS {
		cert, caPEM, _ := testenv.SelfSigned(t)
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.caPEM = string(caPEM)
		s.caFile = filepath.Join(t.TempDir(), "smtptest-ca.pem")
		if err := os.WriteFile(s.caFile, caPEM, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if o.STARTTLS && !o.ImplicitTLS {
		srv.TLSConfig = tlsConf
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.ImplicitTLS {
		ln = tls.NewListener(ln, tlsConf)
	}
	s.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		// Closing the listener too: go-smtp's Close closes only the
		// listeners Serve has registered, and Serve may not have started.
		_ = srv.Close()
		_ = ln.Close()
		<-done
	})
	return s
}

// Addr is the server's address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr }

// CAPEM is the server's certificate in PEM, the CA a client must trust
// (tls_config.ca); "" without TLS.
func (s *Server) CAPEM() string { return s.caPEM }

// CAFile is the path of a file holding CAPEM (tls_config.ca_file); ""
// without TLS.
func (s *Server) CAFile() string { return s.caFile }

// Answer queues replies, one per transaction, in order: the next
// transaction reaching r.At gets r. Transactions that find a reply for
// another command at the head of the queue are accepted.
func (s *Server) Answer(r ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = append(s.replies, r...)
}

// take pops the next queued reply if it is for the command at.
func (s *Server) take(at string) (Reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.replies) == 0 || s.replies[0].At != at {
		return Reply{}, false
	}
	r := s.replies[0]
	s.replies = s.replies[1:]
	return r, true
}

// Messages returns the messages accepted so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Connections returns how many sessions the server has started: one per
// EHLO, so STARTTLS counts a second one.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.sessions++
	s.mu.Unlock()
	return &session{s: s, conn: c}, nil
}

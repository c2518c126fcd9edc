package smtptest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// maxParts bounds the parts of a message that parse reads.
const maxParts = 20

// Message is one message the server accepted: its envelope, how it got
// there, and its content read back as a mail client would (net/mail for
// the headers, mime/multipart for the body, the parts' transfer encodings
// undone).
type Message struct {
	// From and To are the envelope: MAIL FROM and the RCPT TOs.
	From string
	To   []string
	// Hello is the EHLO name, TLS whether the connection was encrypted,
	// Mechanism the AUTH mechanism used and User the user it
	// authenticated ("" without AUTH).
	Hello     string
	TLS       bool
	Mechanism string
	User      string

	// Header is the parsed header; nil if the message does not parse.
	Header mail.Header
	// Subject is the Subject header, MIME-decoded.
	Subject string
	// Text and HTML are the decoded text/plain and text/html parts of a
	// multipart/alternative body (or the body itself when it is one of
	// them); "" when absent.
	Text, HTML string
	// ParseErr says why the message could not be read back, nil if it
	// could.
	ParseErr error

	// Raw is the message as received (after DATA).
	Raw []byte
	// ReceivedAt is when the server accepted it.
	ReceivedAt time.Time
}

// parse fills m's content fields from m.Raw.
func (m *Message) parse() {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		m.ParseErr = err
		return
	}
	m.Header = msg.Header
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		m.ParseErr = fmt.Errorf("subject: %w", err)
		return
	}
	ct := msg.Header.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		m.ParseErr = fmt.Errorf("content type: %w", err)
		return
	}
	if !strings.HasPrefix(mt, "multipart/") {
		m.ParseErr = m.addPart(mt, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
		return
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for range maxParts {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			m.ParseErr = err
			return
		}
		pt, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			m.ParseErr = fmt.Errorf("part content type: %w", err)
			return
		}
		if err := m.addPart(pt, p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
			m.ParseErr = err
			return
		}
	}
	m.ParseErr = errors.New("too many parts")
}

// addPart decodes a part of media type mt and transfer encoding enc into
// Text or HTML; other types are skipped.
func (m *Message) addPart(mt, enc string, r io.Reader) error {
	var dst *string
	switch mt {
	case "text/plain":
		dst = &m.Text
	case "text/html":
		dst = &m.HTML
	default:
		return nil
	}
	switch strings.ToLower(enc) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("%s part: %w", mt, err)
	}
	*dst = string(b)
	return nil
}

package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"time"

	"github.com/alertd/alertd/notify"
)

// message is a composed email: its envelope and its content.
type message struct {
	from string   // MAIL FROM address
	to   []string // RCPT TO addresses
	data []byte   // headers and body, CRLF line endings
}

// content is the rendered templated fields of one email.
type content struct {
	from, to   string
	values     []string // of n.headers, in order
	text, html string
}

// render renders the templated fields of d. Its errors are permanent.
func (n *Notifier) render(d *notify.Data) (*content, error) {
	e := n.templates.Expander(d)
	c := &content{from: e.Text("from", n.from), to: e.Text("to", n.to), values: make([]string, len(n.headers))}
	for i, h := range n.headers {
		c.values[i] = e.Text("headers."+h.name, h.tmpl)
	}
	if n.text != "" {
		c.text = e.Text("text", n.text)
	}
	if n.html != "" {
		c.html = e.HTML("html", n.html)
	}
	if err := e.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// compose renders the templated fields of d and builds the message, as
// Alertmanager does, at now. Its errors are permanent.
func (n *Notifier) compose(d *notify.Data, now time.Time) (*message, error) {
	c, err := n.render(d)
	if err != nil {
		return nil, err
	}
	return n.assemble(d, c, now)
}

// assemble builds the message of the rendered content c of d at now.
func (n *Notifier) assemble(d *notify.Data, c *content, now time.Time) (*message, error) {
	from, to, values, text, html := c.from, c.to, c.values, c.text, c.html
	fromAddrs, err := mail.ParseAddressList(from)
	if err != nil {
		return nil, fmt.Errorf("parse 'from' addresses %q: %w", from, err)
	}
	if len(fromAddrs) != 1 {
		return nil, fmt.Errorf("must be exactly one 'from' address (got: %d)", len(fromAddrs))
	}
	toAddrs, err := mail.ParseAddressList(to)
	if err != nil {
		return nil, fmt.Errorf("parse 'to' addresses %q: %w", to, err)
	}
	m := &message{from: fromAddrs[0].Address, to: make([]string, len(toAddrs))}
	for i, a := range toAddrs {
		m.to[i] = a.Address
	}

	var buf bytes.Buffer
	for i, h := range n.headers {
		fmt.Fprintf(&buf, "%s: %s\r\n", h.name, mime.QEncoding.Encode("utf-8", values[i]))
	}
	if !n.hasMessageID {
		fmt.Fprintf(&buf, "Message-Id: <%d.%d@%s>\r\n", now.UnixNano(), rand.Uint64(), n.hostname)
	}
	if n.threading {
		sum := sha256.Sum256([]byte(d.GroupKey))
		var day string
		if n.threadDaily {
			day = now.Format(time.DateOnly)
		}
		// A Message-Id no message has: clients following the JWZ
		// threading algorithm group the messages under it.
		root := fmt.Sprintf("<alert-%s-%s@alertmanager>", hex.EncodeToString(sum[:8]), day)
		fmt.Fprintf(&buf, "References: %s\r\nIn-Reply-To: %s\r\n", root, root)
	}
	if !n.hasDate {
		fmt.Fprintf(&buf, "Date: %s\r\n", now.Format(time.RFC1123Z))
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fmt.Fprintf(&buf, "Content-Type: multipart/alternative; boundary=%s\r\n", mw.Boundary())
	buf.WriteString("MIME-Version: 1.0\r\n\r\n")
	// The preferred alternative, HTML, comes last (RFC 2046 §5.1.4).
	if n.text != "" {
		writePart(mw, "text/plain; charset=UTF-8", text)
	}
	if n.html != "" {
		writePart(mw, "text/html; charset=UTF-8", html)
	}
	_ = mw.Close() // writes to a bytes.Buffer: cannot fail
	buf.Write(body.Bytes())
	m.data = buf.Bytes()
	return m, nil
}

// writePart adds a quoted-printable part of content type ct to mw, which
// writes to memory and so cannot fail.
func writePart(mw *multipart.Writer, ct, content string) {
	w, _ := mw.CreatePart(textproto.MIMEHeader{
		"Content-Transfer-Encoding": {"quoted-printable"},
		"Content-Type":              {ct},
	})
	qw := quotedprintable.NewWriter(w)
	_, _ = qw.Write([]byte(content))
	_ = qw.Close()
}

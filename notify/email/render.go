package email

import (
	"errors"
	"time"

	"github.com/alertd/alertd/notify"
)

var _ notify.Renderer = (*Notifier)(nil)

// Render returns the message Notify would send for d at now: its headers
// and MIME body, exactly as written to the SMTP server, but for the
// Message-Id and the MIME boundary, which are random for each message.
// Its fields are "subject" (the rendered Subject header, before
// encoding), "from" and "to" (the rendered from and to settings, which
// give the envelope), "text" and "html" (the rendered parts; empty when
// not configured), and "headers.<Name>" for every header, configured or
// defaulted.
func (n *Notifier) Render(d *notify.Data, now time.Time) (*notify.Rendered, error) {
	if d == nil {
		return nil, errors.New("no notification data")
	}
	c, err := n.render(d)
	if err != nil {
		return nil, err
	}
	m, err := n.assemble(d, c, now)
	if err != nil {
		return nil, err
	}
	fields := map[string]string{"from": c.from, "to": c.to, "text": c.text, "html": c.html}
	for i, h := range n.headers {
		fields["headers."+h.name] = c.values[i]
		if h.name == "Subject" {
			fields["subject"] = c.values[i]
		}
	}
	return &notify.Rendered{ContentType: "message/rfc822", Body: m.data, Fields: fields}, nil
}

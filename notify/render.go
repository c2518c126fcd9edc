package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/alertd/alertd/alert"
)

// Rendered is one notification as an integration would send it, rendered
// without sending it: what `alertd dry-run` and route tests show.
type Rendered struct {
	// ContentType is Body's media type: application/json for webhooks,
	// Slack and PagerDuty, message/rfc822 for email.
	ContentType string
	// Body is what the integration would send: the request body, or for
	// email the whole message, headers and MIME body, CRLF line endings.
	// It may hold Secrets; show Redacted instead.
	Body []byte
	// Fields are named parts of the message for people and assertions,
	// e.g. Slack's "title", an email's "subject", PagerDuty's "summary";
	// each integration documents its own.
	Fields map[string]string
	// Secrets are values Body holds that must not be shown (PagerDuty's
	// routing key).
	Secrets []string
}

// Redacted returns Body with every secret, raw or as a JSON string would
// escape it, replaced by "<redacted>".
func (r *Rendered) Redacted() []byte {
	b := r.Body
	for _, s := range r.Secrets {
		if len(s) < 2 {
			continue // as Redact: no secret, and would mangle the text
		}
		b = bytes.ReplaceAll(b, []byte(s), []byte("<redacted>"))
		if q, err := json.Marshal(s); err == nil && len(q) > 2 {
			b = bytes.ReplaceAll(b, q[1:len(q)-1], []byte("<redacted>"))
		}
	}
	return b
}

// Renderer is an Integration that can render a notification without
// sending it. Every integration of alertd's is one.
type Renderer interface {
	Integration
	// Render returns what Notify would send for d at now. Its errors are
	// those Notify would fail with before sending anything (a template
	// that fails, an address that does not parse, an unreadable secret
	// file); they never show a secret.
	Render(d *Data, now time.Time) (*Rendered, error)
}

// FlushPreview is what Notify would do with one flush, worked out without
// sending, logging or counting anything. The notification log plays no
// part: it is as if the group had never been notified.
type FlushPreview struct {
	// Inhibited and Silenced map the fingerprint of each muted alert to
	// what mutes it: the fingerprints (16 hex digits) of the alerts that
	// inhibit it, and the IDs of the silences. Both are worked out for
	// every alert, although Notify does not ask the silences about an
	// alert already inhibited.
	Inhibited, Silenced map[uint64][]string
	// MutedBy names the time intervals that mute the whole flush, as
	// Pipeline.MutedBy: then nothing is sent.
	MutedBy []string
	// Sent are the alerts handed to the integrations: those neither
	// inhibited nor silenced, none if MutedBy is set.
	Sent []*alert.Alert
	// Integrations are the receiver's integrations, in order, with what
	// each would send.
	Integrations []IntegrationPreview
}

// IntegrationPreview is what one integration would send for a flush.
type IntegrationPreview struct {
	Name  string // the kind: "email", "slack", …
	Index int    // among the receiver's integrations of that kind
	// Data is what it would be given; nil when it would send nothing:
	// every alert muted, or only resolved alerts and no send_resolved.
	Data *Data
	// Rendered is the message, when Data is set and rendering succeeded.
	Rendered *Rendered
	// Err is why rendering failed: the notification would fail.
	Err error
}

// Preview returns what Notify would do with the flush n: which alerts the
// inhibitor, the time intervals and the silencer mute, and the message
// each integration of the receiver would send, rendered at n.Now.
func (p *Pipeline) Preview(n *alert.Notification) (*FlushPreview, error) {
	integrations, ok := p.receivers[n.Receiver]
	if !ok {
		return nil, fmt.Errorf("notify: unknown receiver %q", n.Receiver)
	}
	fp := &FlushPreview{Inhibited: map[uint64][]string{}, Silenced: map[uint64][]string{}}
	for _, a := range n.Alerts {
		muted := false
		for _, m := range []struct {
			muter Muter
			into  map[uint64][]string
		}{{p.inhibitor, fp.Inhibited}, {p.silencer, fp.Silenced}} {
			if m.muter == nil {
				continue
			}
			if by := m.muter.Mutes(a.Labels); len(by) > 0 {
				m.into[a.Fingerprint()] = slices.Clone(by)
				muted = true
			}
		}
		if !muted {
			fp.Sent = append(fp.Sent, a)
		}
	}
	fp.MutedBy = p.MutedBy(n.MuteTimeIntervals, n.ActiveTimeIntervals, n.Now)
	if len(fp.MutedBy) > 0 {
		fp.Sent = nil
	}
	for _, ig := range integrations {
		ip := IntegrationPreview{Name: ig.Name(), Index: ig.Index()}
		if len(fp.Sent) > 0 {
			ip.Data = integrationData(n, p.externalURL, fp.Sent, ig.SendResolved())
		}
		if ip.Data != nil {
			if r, ok := ig.(Renderer); ok {
				ip.Rendered, ip.Err = r.Render(ip.Data, n.Now)
			} else {
				ip.Err = fmt.Errorf("%s[%d] cannot render a notification without sending it", ig.Name(), ig.Index())
			}
		}
		fp.Integrations = append(fp.Integrations, ip)
	}
	return fp, nil
}

// integrationData is the data an integration is given for the alerts left
// of the flush n after muting: every alert with send_resolved, else the
// firing ones, nil if there are none.
func integrationData(n *alert.Notification, externalURL string, alerts []*alert.Alert, sendResolved bool) *Data {
	if sendResolved {
		return newData(n, externalURL, alerts)
	}
	firing := firingAlerts(alerts, n.Now)
	if len(firing) == 0 {
		return nil
	}
	return newData(n, externalURL, firing)
}

// firingAlerts returns the alerts not resolved at now.
func firingAlerts(alerts []*alert.Alert, now time.Time) []*alert.Alert {
	firing := make([]*alert.Alert, 0, len(alerts))
	for _, a := range alerts {
		if !a.Resolved(now) {
			firing = append(firing, a)
		}
	}
	return firing
}

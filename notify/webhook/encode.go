package webhook

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/notify"
)

// appendMessage appends the JSON of Message{Data: d, …} followed by a
// newline, byte for byte what json.Encoder.Encode writes for it, without
// reflection or sorting through reflect: a webhook flush spends most of its
// CPU here otherwise. TestAppendMessage and FuzzAppendMessage compare it
// with encoding/json.
func appendMessage(b []byte, d *notify.Data) []byte {
	keys := keysPool.Get().(*[]string)
	defer keysPool.Put(keys)

	b = append(b, `{"receiver":`...)
	b = appendString(b, d.Receiver)
	b = append(b, `,"status":`...)
	b = appendString(b, d.Status)
	b = append(b, `,"alerts":`...)
	if d.Alerts == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range d.Alerts {
			a := &d.Alerts[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"status":`...)
			b = appendString(b, a.Status)
			b = append(b, `,"labels":`...)
			b = appendKV(b, a.Labels, keys)
			b = append(b, `,"annotations":`...)
			b = appendKV(b, a.Annotations, keys)
			b = append(b, `,"startsAt":`...)
			b = appendTime(b, a.StartsAt)
			b = append(b, `,"endsAt":`...)
			b = appendTime(b, a.EndsAt)
			b = append(b, `,"generatorURL":`...)
			b = appendString(b, a.GeneratorURL)
			b = append(b, `,"fingerprint":`...)
			b = appendString(b, a.Fingerprint)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"groupLabels":`...)
	b = appendKV(b, d.GroupLabels, keys)
	b = append(b, `,"commonLabels":`...)
	b = appendKV(b, d.CommonLabels, keys)
	b = append(b, `,"commonAnnotations":`...)
	b = appendKV(b, d.CommonAnnotations, keys)
	b = append(b, `,"externalURL":`...)
	b = appendString(b, d.ExternalURL)
	b = append(b, `,"version":"`+Version+`","groupKey":`...)
	b = appendString(b, d.GroupKey)
	b = append(b, `,"truncatedAlerts":`...)
	b = strconv.AppendInt(b, int64(d.TruncatedAlerts), 10)
	return append(b, "}\n"...)
}

// appendAlerts appends the JSON of the Message of a with at most maxAlerts
// alerts: byte for byte what appendMessage writes for
// a.Data().Truncate(maxAlerts), written from the labels themselves (sorted
// by name, as encoding/json sorts map keys) without building Data.
// TestAppendAlerts and FuzzAppendAlerts compare the two.
func appendAlerts(b []byte, a *notify.Alerts, maxAlerts int) []byte {
	alerts := a.Alerts
	truncated := 0
	if maxAlerts > 0 && len(alerts) > maxAlerts {
		truncated = len(alerts) - maxAlerts
		alerts = alerts[:maxAlerts]
	}
	status := notify.StatusResolved
	for _, al := range alerts {
		if !al.Resolved(a.Now) {
			status = notify.StatusFiring
			break
		}
	}
	b = append(b, `{"receiver":`...)
	b = appendString(b, regexp.QuoteMeta(a.Receiver))
	b = append(b, `,"status":`...)
	b = appendString(b, status)
	b = append(b, `,"alerts":[`...)
	// The alerts of a group often start together (one rule evaluation,
	// one POST): a startsAt equal to the previous alert's is copied from
	// what was written for it.
	var prevStart time.Time
	prevAt, prevEnd := -1, -1
	for i, al := range alerts {
		if i > 0 {
			b = append(b, ',')
		}
		resolved := al.Resolved(a.Now)
		b = append(b, `{"status":`...)
		if resolved {
			b = appendString(b, notify.StatusResolved)
		} else {
			b = appendString(b, notify.StatusFiring)
		}
		b = append(b, `,"labels":`...)
		b = appendLabels(b, al.Labels)
		b = append(b, `,"annotations":`...)
		b = appendLabels(b, al.Annotations)
		b = append(b, `,"startsAt":`...)
		if start := al.StartsAt.UTC(); prevAt >= 0 && start.Equal(prevStart) {
			b = append(b, b[prevAt:prevEnd]...)
		} else {
			prevStart, prevAt = start, len(b)
			b = appendTime(b, start)
			prevEnd = len(b)
		}
		b = append(b, `,"endsAt":`...)
		if resolved {
			b = appendTime(b, al.EndsAt.UTC())
		} else {
			b = append(b, zeroTimeJSON...)
		}
		b = append(b, `,"generatorURL":`...)
		b = appendString(b, al.GeneratorURL)
		b = append(b, `,"fingerprint":"`...)
		fp := alert.Fingerprint(al.Labels)
		for shift := 60; shift >= 0; shift -= 4 {
			b = append(b, hex[(fp>>shift)&0xf])
		}
		b = append(b, `"}`...)
	}
	b = append(b, `],"groupLabels":`...)
	b = appendLabels(b, a.GroupLabels)
	b = append(b, `,"commonLabels":`...)
	b = appendCommon(b, alerts, func(al *alert.Alert) labels.Labels { return al.Labels })
	b = append(b, `,"commonAnnotations":`...)
	b = appendCommon(b, alerts, func(al *alert.Alert) labels.Labels { return al.Annotations })
	b = append(b, `,"externalURL":`...)
	b = appendString(b, a.ExternalURL)
	b = append(b, `,"version":"`+Version+`","groupKey":`...)
	b = appendString(b, a.GroupKey)
	b = append(b, `,"truncatedAlerts":`...)
	b = strconv.AppendInt(b, int64(truncated), 10)
	return append(b, "}\n"...)
}

// appendLabels appends ls as a JSON object: its pairs are sorted by name,
// as encoding/json sorts a map's keys.
func appendLabels(b []byte, ls labels.Labels) []byte {
	b = append(b, '{')
	first := true
	ls.Range(func(l labels.Label) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, l.Name)
		b = append(b, ':')
		b = appendString(b, l.Value)
	})
	return append(b, '}')
}

// appendCommon appends, as a JSON object, the pairs of field that every
// alert has (Data's CommonLabels or CommonAnnotations). Label sets are
// sorted by name: each other alert's is merged with the first's in one
// walk.
func appendCommon(b []byte, alerts []*alert.Alert, field func(*alert.Alert) labels.Labels) []byte {
	if len(alerts) == 0 {
		return append(b, "{}"...)
	}
	var buf [16]labels.Label
	first := buf[:0]
	field(alerts[0]).Range(func(l labels.Label) { first = append(first, l) })
	var keepBuf [16]bool
	keep := keepBuf[:0]
	for range first {
		keep = append(keep, true)
	}
	for _, al := range alerts[1:] {
		j := 0
		field(al).Range(func(l labels.Label) {
			for j < len(first) && first[j].Name < l.Name {
				keep[j] = false // not in this alert
				j++
			}
			if j < len(first) && first[j].Name == l.Name {
				if first[j].Value != l.Value {
					keep[j] = false
				}
				j++
			}
		})
		for ; j < len(first); j++ {
			keep[j] = false
		}
	}
	b = append(b, '{')
	n := 0
	for i, l := range first {
		if !keep[i] {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendString(b, l.Name)
		b = append(b, ':')
		b = appendString(b, l.Value)
	}
	return append(b, '}')
}

var keysPool = sync.Pool{New: func() any { return new([]string) }}

// appendKV appends kv as a JSON object with sorted keys, as encoding/json
// does; keys is scratch space.
func appendKV(b []byte, kv notify.KV, keys *[]string) []byte {
	if kv == nil {
		return append(b, "null"...)
	}
	ks := (*keys)[:0]
	for k := range kv {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	b = append(b, '{')
	for i, k := range ks {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, kv[k])
	}
	*keys = ks[:0]
	return append(b, '}')
}

// zeroTimeJSON is the JSON of time.Time{}, a firing alert's endsAt.
const zeroTimeJSON = `"0001-01-01T00:00:00Z"`

// appendTime appends t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds). Times outside years 0–9999 cannot be marshalled by
// encoding/json; they never reach here (alerts' times are validated on
// ingest) and are written as the zero time.
func appendTime(b []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y > 9999 {
		t = time.Time{}
	}
	b = append(b, '"')
	if _, offset := t.Zone(); offset == 0 {
		b = appendUTC(b, t)
	} else {
		b = t.AppendFormat(b, time.RFC3339Nano)
	}
	return append(b, '"')
}

// appendUTC appends t, whose zone has offset zero, as
// t.AppendFormat(b, time.RFC3339Nano) does: time.Time's formatting
// interprets its layout at every call, a cost every alert's two times pay
// otherwise. TestAppendUTC and FuzzAppendUTC compare the two.
func appendUTC(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z')
}

const hex = "0123456789abcdef"

// jsonSafe holds the bytes appendString copies as they are: ASCII but for
// control characters, '"', '\\', '<', '>' and '&'.
var jsonSafe = func() (safe [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		safe[c] = !strings.ContainsRune(`"\\<>&`, rune(c))
	}
	return safe
}()

// appendString appends s as a JSON string exactly as encoding/json does
// with HTML escaping on (its default): <, > and & as \u003c, \u003e,
// \u0026; U+2028 and U+2029 escaped; invalid UTF-8 as \ufffd.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonSafe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

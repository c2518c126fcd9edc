package webhook

import (
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

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

// appendTime appends t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds). Times outside years 0–9999 cannot be marshalled by
// encoding/json; they never reach here (alerts' times are validated on
// ingest) and are written as the zero time.
func appendTime(b []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y > 9999 {
		t = time.Time{}
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string exactly as encoding/json does
// with HTML escaping on (its default): <, > and & as \u003c, \u003e,
// \u0026; U+2028 and U+2029 escaped; invalid UTF-8 as \ufffd.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
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

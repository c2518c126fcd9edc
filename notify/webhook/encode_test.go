package webhook

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/alertd/alertd/notify"
)

// encodingJSON is the message as encoding/json writes it, the reference.
func encodingJSON(t testing.TB, d *notify.Data) []byte {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(Message{Data: d, Version: Version, GroupKey: d.GroupKey, TruncatedAlerts: d.TruncatedAlerts}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAppendMessage(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 58, 0, 123456789, time.UTC)
	for _, tc := range []struct {
		name string
		d    *notify.Data
	}{
		{"empty", &notify.Data{}},
		{"empty maps and alerts", &notify.Data{Alerts: []notify.DataAlert{}, GroupLabels: notify.KV{}, CommonLabels: notify.KV{}, CommonAnnotations: notify.KV{}}},
		{"escapes", &notify.Data{
			Receiver: `team\.x "quoted" <b>&amp;</b>`,
			Status:   notify.StatusFiring,
			Alerts: []notify.DataAlert{{
				Status:       notify.StatusFiring,
				Labels:       notify.KV{"alertname": "Down", "z": "\x00\x01\x1f\t\n\r\b\f", "a": "\u2028\u2029é日本\xff\xfe"},
				Annotations:  notify.KV{"runbook": "https://wiki.example.org/Down?a=1&b=<2>"},
				StartsAt:     start,
				GeneratorURL: "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
				Fingerprint:  "cd80f5ec1ba45477",
			}, {
				Status:   notify.StatusResolved,
				Labels:   notify.KV{},
				StartsAt: start.In(time.FixedZone("x", 3600)),
				EndsAt:   start.Add(time.Minute),
			}},
			GroupLabels:       notify.KV{"alertname": "Down"},
			CommonLabels:      notify.KV{"b": "2", "a": "1", "c": ""},
			CommonAnnotations: notify.KV{},
			ExternalURL:       "http://alertd:9093",
			GroupKey:          `{}/{severity="page"}:{alertname="Down"}`,
			TruncatedAlerts:   3,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := encodingJSON(t, tc.d)
			if got := appendMessage(nil, tc.d); !bytes.Equal(got, want) {
				t.Errorf("appendMessage:\n%s\nencoding/json:\n%s", got, want)
			}
		})
	}
}

func FuzzAppendMessage(f *testing.F) {
	f.Add("team-x", "alertname", "Down", "summary", "<b>&</b>", int64(1772445480), "fp", 0)
	f.Add("\xff\u2028", "\x00", "\"\\", "", "\t", int64(-62135596800), "", 7)
	f.Fuzz(func(t *testing.T, receiver, k, v, ak, av string, unix int64, fp string, truncated int) {
		ts := time.Unix(unix, unix%1e9).UTC()
		if y := ts.Year(); y < 0 || y > 9999 {
			return // encoding/json cannot marshal it either
		}
		d := &notify.Data{
			Receiver: receiver,
			Status:   v,
			Alerts: []notify.DataAlert{{
				Status: k, Labels: notify.KV{k: v, v: k}, Annotations: notify.KV{ak: av},
				StartsAt: ts, EndsAt: ts.Add(time.Second), GeneratorURL: av, Fingerprint: fp,
			}},
			GroupLabels:       notify.KV{k: v},
			CommonLabels:      notify.KV{},
			CommonAnnotations: notify.KV{ak: av, av: ak},
			ExternalURL:       ak,
			GroupKey:          receiver + k,
			TruncatedAlerts:   truncated,
		}
		if want, got := encodingJSON(t, d), appendMessage(nil, d); !bytes.Equal(got, want) {
			t.Errorf("appendMessage:\n%q\nencoding/json:\n%q", got, want)
		}
	})
}

func TestAppendUTC(t *testing.T) {
	for _, tm := range []time.Time{
		{},
		time.Date(2026, 12, 2, 15, 4, 5, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 120_000_000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(2026, 6, 1, 12, 0, 0, 0, time.FixedZone("UTC+0", 0)),
		time.Unix(1_790_000_000, 500).UTC(),
	} {
		want := tm.AppendFormat(nil, time.RFC3339Nano)
		if got := appendUTC(nil, tm); string(got) != string(want) {
			t.Errorf("appendUTC(%v) = %s, want %s", tm, got, want)
		}
	}
}

func FuzzAppendUTC(f *testing.F) {
	f.Add(int64(0), int64(0))
	f.Add(int64(1_790_000_000), int64(123_456_789))
	f.Add(int64(-62_135_596_800), int64(1)) // year 1
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		tm := time.Unix(sec, nsec).UTC()
		if y := tm.Year(); y < 0 || y > 9999 {
			return
		}
		want := tm.AppendFormat(nil, time.RFC3339Nano)
		if got := appendUTC(nil, tm); string(got) != string(want) {
			t.Fatalf("appendUTC(%v) = %s, want %s", tm, got, want)
		}
	})
}

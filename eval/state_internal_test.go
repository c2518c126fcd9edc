package eval

import (
	"bytes"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

func FuzzDecodeState(f *testing.F) {
	g := &Group{alerting: []*AlertingRule{{
		name:      "Down",
		rawLabels: labels.FromStrings("severity", "page"),
		active: map[uint64]*Alert{1: {
			State: StateFiring, Labels: labels.FromStrings("alertname", "Down", "instance", "a"),
			Annotations: labels.FromStrings("summary", "a is down"), Value: 1,
			ActiveAt: time.Unix(100, 0), FiredAt: time.Unix(160, 0), LastSentAt: time.Unix(160, 0), ValidUntil: time.Unix(400, 0),
		}},
	}}}
	f.Add(g.encodeState(time.Unix(200, 0)))
	f.Add([]byte{stateVersion, 0, 0})
	f.Add([]byte{stateVersion, 2, 1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		sg, err := decodeState(b)
		if err != nil {
			return
		}
		// What decodes encodes back to the same state.
		ng := &Group{}
		for _, sr := range sg.rules {
			r := &AlertingRule{name: sr.name, active: map[uint64]*Alert{}}
			for i, a := range sr.alerts {
				r.active[uint64(i)] = a
			}
			ng.alerting = append(ng.alerting, r)
		}
		again, err := decodeState(ng.encodeState(sg.lastEval))
		if err != nil {
			t.Fatalf("re-encoded state of %x: %v", b, err)
		}
		if len(again.rules) != len(sg.rules) || !again.lastEval.Equal(sg.lastEval) {
			t.Fatalf("round trip changed the state: %+v, %+v", sg, again)
		}
	})
}

func TestEncodeStateRoundTrip(t *testing.T) {
	a := &Alert{
		State: StatePending, Labels: labels.FromStrings("alertname", "Load", "instance", "é\x00"),
		Annotations: labels.FromStrings("summary", ""), Value: -1.5,
		ActiveAt: time.Unix(100, 5).UTC(), KeepFiringSince: time.Unix(-3, 0).UTC(),
	}
	g := &Group{alerting: []*AlertingRule{{name: "Load", rawLabels: labels.EmptyLabels(), active: map[uint64]*Alert{7: a}}}}
	b := g.encodeState(time.Unix(300, 0))
	sg, err := decodeState(b)
	if err != nil {
		t.Fatal(err)
	}
	got := sg.rules[0].alerts[0]
	if got.State != a.State || !labels.Equal(got.Labels, a.Labels) || !labels.Equal(got.Annotations, a.Annotations) ||
		got.Value != a.Value || !got.ActiveAt.Equal(a.ActiveAt) || !got.KeepFiringSince.Equal(a.KeepFiringSince) || !got.FiredAt.IsZero() {
		t.Errorf("round trip: %+v, want %+v", got, a)
	}
	if _, err := decodeState(append(bytes.Clone(b), 0)); err == nil {
		t.Error("trailing bytes accepted")
	}
	for n := range len(b) {
		if _, err := decodeState(b[:n]); err == nil {
			t.Errorf("truncated to %d bytes accepted", n)
		}
	}
}

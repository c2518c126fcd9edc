package alert

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

func TestFingerprintIsPrometheusCommons(t *testing.T) {
	for _, ls := range []labels.Labels{
		labels.EmptyLabels(),
		labels.FromStrings("alertname", "A"),
		labels.FromStrings("alertname", "Down", "instance", "h:9100", "job", "node", "ü", "ß\xff"),
	} {
		m := model.LabelSet{}
		ls.Range(func(l labels.Label) { m[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
		if got, want := Fingerprint(ls), uint64(m.Fingerprint()); got != want {
			t.Errorf("%s: %x, want %x", ls, got, want)
		}
	}
}

func TestResolved(t *testing.T) {
	now := time.Unix(100, 0)
	a := &Alert{}
	if a.Resolved(now) {
		t.Error("no EndsAt is resolved")
	}
	a.EndsAt = now
	if !a.Resolved(now) {
		t.Error("EndsAt == now is not resolved")
	}
	a.EndsAt = now.Add(time.Second)
	if a.Resolved(now) {
		t.Error("future EndsAt is resolved")
	}
}

package notify

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
)

// TestNewDataCommon checks newData's common labels and annotations, worked
// out on the alerts' label sets, against common, the map-based reference
// that Truncate uses, and its fingerprints against fmt.
func TestNewDataCommon(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pairs := func(names ...string) labels.Labels {
		b := labels.NewScratchBuilder(len(names))
		for _, n := range names {
			if rng.IntN(3) > 0 {
				b.Add(n, fmt.Sprint(rng.IntN(2)))
			} else if rng.IntN(2) == 0 {
				b.Add(n, "") // annotations may be empty
			}
		}
		b.Sort()
		return b.Labels()
	}
	now := time.Unix(1000, 0)
	for i := range 500 {
		alerts := make([]*alert.Alert, rng.IntN(5))
		for j := range alerts {
			alerts[j] = &alert.Alert{
				Labels:      pairs("alertname", "a", "b", "c"),
				Annotations: pairs("summary", "x", "y"),
				StartsAt:    now,
			}
		}
		d := newData(&alert.Notification{Receiver: "r", Now: now}, "", alerts)
		want := &Data{Alerts: d.Alerts}
		want.summarise()
		if diff := cmp.Diff(want.CommonLabels, d.CommonLabels); diff != "" {
			t.Fatalf("case %d: common labels (-reference +newData):\n%s", i, diff)
		}
		if diff := cmp.Diff(want.CommonAnnotations, d.CommonAnnotations); diff != "" {
			t.Fatalf("case %d: common annotations (-reference +newData):\n%s", i, diff)
		}
		if want.Status != d.Status {
			t.Fatalf("case %d: status %q, reference %q", i, d.Status, want.Status)
		}
		for j, a := range alerts {
			if got, want := d.Alerts[j].Fingerprint, fmt.Sprintf("%016x", alert.Fingerprint(a.Labels)); got != want {
				t.Fatalf("fingerprint %s, want %s", got, want)
			}
		}
	}
}

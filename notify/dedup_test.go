package notify

import (
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
)

func TestHashLabelsIsAlertmanagersHashAlert(t *testing.T) {
	for _, tc := range []struct {
		name string
		ls   labels.Labels
		want string // the bytes Alertmanager's hashAlert hashes
	}{
		{"empty", labels.EmptyLabels(), ""},
		{"one", labels.FromStrings("alertname", "A"), "alertname\xffA\xff"},
		{"sorted by name", labels.FromStrings("job", "node", "alertname", "Down", "instance", "h:9100"),
			"alertname\xffDown\xffinstance\xffh:9100\xffjob\xffnode\xff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := hashLabels(nil, tc.ls)
			if want := xxhash.Sum64String(tc.want); got != want {
				t.Errorf("hash %x, want %x", got, want)
			}
		})
	}
}

func TestHashAlertsIgnoresAnnotationsAndTimes(t *testing.T) {
	now := time.Unix(1000, 0)
	a := &alert.Alert{Labels: labels.FromStrings("alertname", "A"), StartsAt: now.Add(-time.Hour)}
	b := &alert.Alert{Labels: labels.FromStrings("alertname", "A"), Annotations: labels.FromStrings("summary", "x"), StartsAt: now, GeneratorURL: "http://x"}
	if got, want := hashAlerts([]*alert.Alert{a}, now), hashAlerts([]*alert.Alert{b}, now); !cmp.Equal(got, want, cmp.AllowUnexported(hashes{})) {
		t.Errorf("%v != %v", got, want)
	}
	r := &alert.Alert{Labels: labels.FromStrings("alertname", "R"), EndsAt: now}
	h := hashAlerts([]*alert.Alert{r, a}, now)
	if len(h.firing) != 1 || len(h.resolved) != 1 {
		t.Errorf("firing %v resolved %v: an alert with EndsAt == now is resolved", h.firing, h.resolved)
	}
}

func TestSubset(t *testing.T) {
	for _, tc := range []struct {
		name       string
		sub, super []uint64
		want       bool
	}{
		{"both empty", nil, nil, true},
		{"empty sub", nil, []uint64{1}, true},
		{"empty super", []uint64{1}, nil, false},
		{"equal", []uint64{1, 5}, []uint64{1, 5}, true},
		{"proper", []uint64{5}, []uint64{1, 5, 9}, true},
		{"missing middle", []uint64{1, 4, 9}, []uint64{1, 5, 9}, false},
		{"missing last", []uint64{9, 10}, []uint64{1, 5, 9}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := subset(tc.sub, tc.super); got != tc.want {
				t.Errorf("subset(%v, %v) = %v", tc.sub, tc.super, got)
			}
		})
	}
}

func TestNeedsUpdate(t *testing.T) {
	now := time.Unix(100000, 0)
	const repeat = time.Hour
	ent := func(firing, resolved []uint64, age time.Duration) *entry {
		return &entry{timestamp: now.Add(-age), firing: firing, resolved: resolved}
	}
	for _, tc := range []struct {
		name         string
		e            *entry
		h            hashes
		sendResolved bool
		want         reason
	}{
		{"no entry, firing", nil, hashes{firing: []uint64{1}}, true, reasonFirst},
		{"no entry, only resolved", nil, hashes{resolved: []uint64{1}}, true, reasonNone},
		{"new firing alert", ent([]uint64{1}, nil, 0), hashes{firing: []uint64{1, 2}}, true, reasonNewAlerts},
		{"firing after a resolution", ent(nil, []uint64{1}, 0), hashes{firing: []uint64{1}}, true, reasonFirst},
		{"all resolved", ent([]uint64{1}, nil, 0), hashes{resolved: []uint64{1}}, false, reasonAllResolved},
		{"all resolved, none fired before", ent(nil, []uint64{1}, 0), hashes{resolved: []uint64{1, 2}}, true, reasonNone},
		{"new resolved, send_resolved", ent([]uint64{1, 2}, nil, 0), hashes{firing: []uint64{2}, resolved: []uint64{1}}, true, reasonNewResolved},
		{"new resolved, no send_resolved", ent([]uint64{1, 2}, nil, 0), hashes{firing: []uint64{2}, resolved: []uint64{1}}, false, reasonNone},
		{"resolved already sent", ent([]uint64{2}, []uint64{1}, 0), hashes{firing: []uint64{2}, resolved: []uint64{1}}, true, reasonNone},
		{"repeat not elapsed at exactly repeat", ent([]uint64{1}, nil, repeat), hashes{firing: []uint64{1}}, true, reasonNone},
		{"repeat elapsed", ent([]uint64{1}, nil, repeat+time.Nanosecond), hashes{firing: []uint64{1}}, true, reasonRepeat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := needsUpdate(tc.e, tc.h, tc.sendResolved, repeat, now); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

package notify

import (
	"slices"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
)

// reason is why the dedup stage lets a notification through, or
// reasonNone; Alertmanager's NotifyReason.
type reason int

const (
	reasonNone reason = iota
	reasonFirst
	reasonNewAlerts
	reasonNewResolved
	reasonAllResolved
	reasonRepeat
)

func (r reason) String() string {
	switch r {
	case reasonFirst:
		return "first notification"
	case reasonNewAlerts:
		return "new alerts added"
	case reasonNewResolved:
		return "some alerts resolved"
	case reasonAllResolved:
		return "all alerts resolved"
	case reasonRepeat:
		return "repeat interval elapsed"
	default:
		return "none"
	}
}

// hashes are the label hashes of a flush's alerts, each list sorted and
// without duplicates.
type hashes struct {
	firing, resolved []uint64
}

// hashAlerts splits alerts into firing and resolved at now and hashes
// their labels.
func hashAlerts(alerts []*alert.Alert, now time.Time) hashes {
	var h hashes
	buf := make([]byte, 0, 1024)
	// Sized for the usual flush, where every alert fires.
	h.firing = make([]uint64, 0, len(alerts))
	for _, a := range alerts {
		var sum uint64
		sum, buf = hashLabels(buf, a.Labels)
		if a.Resolved(now) {
			h.resolved = append(h.resolved, sum)
		} else {
			h.firing = append(h.firing, sum)
		}
	}
	if len(h.firing) == 0 {
		h.firing = nil
	}
	h.firing = sortedSet(h.firing)
	h.resolved = sortedSet(h.resolved)
	return h
}

// hashLabels is Alertmanager's hashAlert: xxhash64 over the labels only,
// sorted by name, each as name 0xff value 0xff. It reuses buf.
func hashLabels(buf []byte, ls labels.Labels) (uint64, []byte) {
	const sep = 0xff
	buf = buf[:0]
	// labels.Labels are sorted by name.
	ls.Range(func(l labels.Label) {
		buf = append(buf, l.Name...)
		buf = append(buf, sep)
		buf = append(buf, l.Value...)
		buf = append(buf, sep)
	})
	return xxhash.Sum64(buf), buf
}

func sortedSet(s []uint64) []uint64 {
	slices.Sort(s)
	return slices.Compact(s)
}

// subset reports whether every element of sub is in super; both are
// sorted.
func subset(sub, super []uint64) bool {
	j := 0
	for _, x := range sub {
		for j < len(super) && super[j] < x {
			j++
		}
		if j == len(super) || super[j] != x {
			return false
		}
	}
	return true
}

// needsUpdate is Alertmanager's DedupStage.needsUpdate (spec §2.3): e is
// the integration's last notification (nil if none), h the flush's
// alerts, now the tick time.
func needsUpdate(e *entry, h hashes, sendResolved bool, repeat time.Duration, now time.Time) reason {
	if e == nil {
		// Never notify a group that only has resolved alerts.
		if len(h.firing) > 0 {
			return reasonFirst
		}
		return reasonNone
	}
	if !subset(h.firing, e.firing) {
		// A last notification without firing alerts was a resolution.
		if len(e.firing) == 0 {
			return reasonFirst
		}
		return reasonNewAlerts
	}
	if len(h.firing) == 0 {
		// Whatever send_resolved says, so that the log is cleared of the
		// firing alerts; alerts that fired and resolved since the last
		// notification are not news to the receiver.
		if len(e.firing) > 0 {
			return reasonAllResolved
		}
		return reasonNone
	}
	if sendResolved && !subset(h.resolved, e.resolved) {
		return reasonNewResolved
	}
	if e.timestamp.Before(now.Add(-repeat)) {
		return reasonRepeat
	}
	return reasonNone
}

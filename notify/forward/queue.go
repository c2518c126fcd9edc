package forward

import "github.com/alertd/alertd/alert"

// ring is a fixed-capacity FIFO of alerts that overwrites its oldest
// entries when full. It is not safe for concurrent use.
type ring struct {
	buf  []*alert.Alert
	head int // index of the oldest element
	n    int // number of elements
}

func newRing(capacity int) *ring { return &ring{buf: make([]*alert.Alert, capacity)} }

func (r *ring) len() int { return r.n }

// push appends alerts and returns how many of the oldest ones (queued or
// among alerts) it had to drop to stay within capacity.
func (r *ring) push(alerts []*alert.Alert) (dropped int) {
	c := len(r.buf)
	if d := len(alerts) - c; d > 0 {
		dropped += d
		alerts = alerts[d:]
	}
	if d := r.n + len(alerts) - c; d > 0 {
		dropped += d
		r.pop(d, nil)
	}
	for _, a := range alerts {
		r.buf[(r.head+r.n)%c] = a
		r.n++
	}
	return dropped
}

// pop removes up to limit of the oldest alerts and appends them to dst,
// which may be nil to discard them.
func (r *ring) pop(limit int, dst []*alert.Alert) []*alert.Alert {
	c := len(r.buf)
	k := min(limit, r.n)
	for range k {
		if dst != nil {
			dst = append(dst, r.buf[r.head])
		}
		r.buf[r.head] = nil
		r.head = (r.head + 1) % c
	}
	r.n -= k
	if r.n == 0 {
		r.head = 0
	}
	return dst
}

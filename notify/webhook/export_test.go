package webhook

import "time"

// Direct reports whether n posts over its own connections (direct) rather
// than through net/http's client.
func (n *Notifier) Direct() bool { return n.direct != nil }

// SetAliveCheckAfter sets how long a connection must have been idle for
// the direct client to check it before reuse, until the test ends.
func SetAliveCheckAfter(t interface{ Cleanup(func()) }, d time.Duration) {
	old := aliveCheckAfter
	aliveCheckAfter = d
	t.Cleanup(func() { aliveCheckAfter = old })
}

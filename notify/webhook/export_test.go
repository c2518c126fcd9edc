package webhook

// Direct reports whether n posts over its own connections (direct) rather
// than through net/http's client.
func (n *Notifier) Direct() bool { return n.direct != nil }

package notify

import "time"

// SetBackoff shortens p's retry backoff, so that retry tests take
// milliseconds.
func SetBackoff(p *Pipeline, initial, maxInterval time.Duration) {
	p.backoffInitial, p.backoffMax = initial, maxInterval
}

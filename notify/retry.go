package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// The retry backoff: cenkalti/backoff/v5's NewExponentialBackOff defaults,
// which Alertmanager's retry stage uses, with no maximum elapsed time (the
// flush deadline ends the retries).
const (
	DefaultBackoffInitial = 500 * time.Millisecond
	DefaultBackoffMax     = 60 * time.Second
	backoffMultiplier     = 1.5
	backoffJitter         = 0.5
)

// backoff yields the waits between attempts: the current interval ±50%,
// the interval growing ×1.5 after each wait up to max.
type backoff struct {
	initial, max time.Duration
	cur          time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.initial
	}
	cur := float64(b.cur)
	delta := backoffJitter * cur
	d := cur - delta + rand.Float64()*(2*delta)
	if cur >= float64(b.max)/backoffMultiplier {
		b.cur = b.max
	} else {
		b.cur = time.Duration(cur * backoffMultiplier)
	}
	return time.Duration(d)
}

// retry calls send (ig's, for alerts alerts) until it succeeds, says not to
// retry, or ctx ends, as Alertmanager's RetryStage: the first attempt at
// once, then after each backoff wait, or after the receiver's Retry-After
// if that is longer. A Retry-After that ends past ctx's deadline ends the
// retries at once. send gets state, and what it returns on success is
// returned (a Stateful integration's next state).
func (p *Pipeline) retry(ctx context.Context, ig Integration, send sendFunc, alerts int, state []byte, logger *flushLogger) ([]byte, error) {
	b := backoff{initial: p.backoffInitial, max: p.backoffMax}
	im := p.metrics.integration(ig.Name())
	latency, requests, requestsFailed := im.latency, im.requests, im.requestsFailed
	var last error
	for attempts := 0; ; {
		if err := ctx.Err(); err != nil {
			if last == nil {
				last = err
			}
			return nil, fmt.Errorf("notify retry canceled after %d attempts: %w", attempts, last)
		}
		start := time.Now()
		next, retry, err := send(ctx, state)
		attempts++
		latency.Observe(time.Since(start).Seconds())
		requests.Inc()
		if err == nil {
			if attempts > 1 {
				logger.get().Info("notify success", "attempts", attempts, "duration", time.Since(start), "alerts", alerts)
			}
			return next, nil
		}
		requestsFailed.Inc()
		if !retry {
			return nil, fmt.Errorf("notify retry canceled due to unrecoverable error after %d attempts: %w", attempts, err)
		}
		if ctx.Err() == nil {
			if last == nil || err.Error() != last.Error() {
				logger.get().Warn("notify attempt failed, will retry later", "attempts", attempts, "err", err)
			}
			last = err
		}

		wait := b.next()
		if e, ok := errors.AsType[*Error](err); ok && e.RetryAfter > wait {
			wait = e.RetryAfter
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
				return nil, fmt.Errorf("notify retry canceled after %d attempts: Retry-After %s ends past the flush deadline: %w", attempts, e.RetryAfter, err)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

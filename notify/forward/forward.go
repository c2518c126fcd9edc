package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
)

// Defaults, from Prometheus.
const (
	// DefaultQueueCapacity is Prometheus's
	// --alertmanager.notification-queue-capacity default.
	DefaultQueueCapacity = 10000
	// DefaultMaxBatchSize is Prometheus's notifier.DefaultMaxBatchSize.
	DefaultMaxBatchSize = 256
)

// Target is one Alertmanager.
type Target struct {
	// URL is the base URL including any path prefix, e.g.
	// http://127.0.0.1:9093 or https://am.example.org/alertmanager; alerts
	// are posted to <URL>/api/v2/alerts. Userinfo, if any, is sent as basic
	// auth and never logged; it cannot be combined with HTTPConfig
	// authentication. A query or fragment is an error.
	URL string
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
	// HTTPConfig configures the client (auth, TLS, proxy). Its zero value
	// does not follow redirects and does not enable HTTP/2; use
	// config.DefaultHTTPClientConfig for Prometheus's defaults.
	HTTPConfig config.HTTPClientConfig
}

// Options configure a Forwarder. The zero value is valid: no targets,
// Prometheus's defaults, no logging, no metrics.
type Options struct {
	// Targets are the Alertmanagers every alert is posted to.
	Targets []Target
	// QueueCapacity bounds the queue; zero or less means DefaultQueueCapacity.
	QueueCapacity int
	// MaxBatchSize bounds the alerts per request; zero or less means
	// DefaultMaxBatchSize.
	MaxBatchSize int
	// ExternalLabels are added to each alert that lacks that label name,
	// as Prometheus's notifier does: alert labels win.
	ExternalLabels labels.Labels
	// Logger receives the forwarder's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the alertd_notifications_* metrics; nil registers
	// none. If they are already registered (a Forwarder re-created on
	// reload), the existing collectors are reused.
	Registerer prometheus.Registerer
}

// Forwarder queues alerts and posts them in batches to every configured
// Alertmanager. Its methods are safe for concurrent use.
type Forwarder struct {
	logger       *slog.Logger
	metrics      *metrics
	maxBatchSize int

	// cfg is replaced as a whole by ApplyConfig.
	cfg     atomic.Pointer[snapshot]
	applyMu sync.Mutex // serialises ApplyConfig

	mu      sync.Mutex // guards queue and stopped
	queue   *ring
	stopped bool // Run has returned; Send drops
	hasWork chan struct{}
	running atomic.Bool
}

// snapshot is one configuration: what Send and a batch use together.
type snapshot struct {
	targets        []*target
	externalLabels labels.Labels
}

// New validates o and builds the HTTP clients. It starts nothing.
func New(o Options) (*Forwarder, error) {
	if o.QueueCapacity <= 0 {
		o.QueueCapacity = DefaultQueueCapacity
	}
	if o.MaxBatchSize <= 0 {
		o.MaxBatchSize = DefaultMaxBatchSize
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	targets, err := newTargets(o.Targets, m)
	if err != nil {
		return nil, err
	}
	f := &Forwarder{
		logger:       logger.With("component", "forward"),
		metrics:      m,
		maxBatchSize: o.MaxBatchSize,
		queue:        newRing(o.QueueCapacity),
		hasWork:      make(chan struct{}, 1),
	}
	f.cfg.Store(&snapshot{targets: targets, externalLabels: o.ExternalLabels})
	m.queueCapacity.Set(float64(o.QueueCapacity))
	m.queueLength.Set(0)
	m.discovered.Set(float64(len(targets)))
	return f, nil
}

// ValidateTargets reports whether ApplyConfig would accept targets, so a
// caller can check a whole configuration before applying any of it.
func ValidateTargets(ts []Target) error {
	_, err := buildTargets(ts)
	return err
}

// newTargets builds targets; it creates their series (at zero, as
// Prometheus does) only once all are valid.
func newTargets(ts []Target, m *metrics) ([]*target, error) {
	out, err := buildTargets(ts)
	if err != nil {
		return nil, err
	}
	for _, t := range out {
		t.sent = m.sent.WithLabelValues(t.name)
		t.errors = m.errors.WithLabelValues(t.name)
		t.latency = m.latency.WithLabelValues(t.name)
	}
	return out, nil
}

func buildTargets(ts []Target) ([]*target, error) {
	out := make([]*target, 0, len(ts))
	seen := make(map[string]bool, len(ts))
	for i, t := range ts {
		nt, err := newTarget(t)
		if err != nil {
			return nil, fmt.Errorf("alertmanager target %d: %w", i, err)
		}
		if seen[nt.name] {
			return nil, fmt.Errorf("alertmanager target %d: duplicate of %q", i, nt.name)
		}
		seen[nt.name] = true
		out = append(out, nt)
	}
	return out, nil
}

// ApplyConfig replaces the targets and external labels atomically. Queued
// alerts stay queued and go to the new targets; a batch in flight finishes
// against the old ones. On error nothing changes.
func (f *Forwarder) ApplyConfig(targets []Target, externalLabels labels.Labels) error {
	f.applyMu.Lock()
	defer f.applyMu.Unlock()
	nts, err := newTargets(targets, f.metrics)
	if err != nil {
		return err
	}
	old := f.cfg.Swap(&snapshot{targets: nts, externalLabels: externalLabels})

	kept := make(map[string]bool, len(nts))
	for _, t := range nts {
		kept[t.name] = true
	}
	for _, t := range old.targets {
		if !kept[t.name] {
			f.metrics.deleteTarget(t.name)
		}
		t.http.CloseIdleConnections()
	}
	f.metrics.discovered.Set(float64(len(nts)))
	return nil
}

// Send queues alerts with the external labels added and never blocks. When
// the queue is full the oldest alerts are dropped and counted. Send keeps
// the pointers: the caller must not modify the alerts afterwards. With no
// targets configured it does nothing; after Run has returned it counts the
// alerts as dropped.
func (f *Forwarder) Send(alerts ...*alert.Alert) {
	if len(alerts) == 0 {
		return
	}
	cfg := f.cfg.Load()
	if len(cfg.targets) == 0 {
		return
	}
	alerts = withExternalLabels(cfg.externalLabels, alerts)

	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		f.metrics.dropped.Add(float64(len(alerts)))
		f.logger.Warn("forwarder stopped, dropping alerts", "count", len(alerts))
		return
	}
	dropped := f.queue.push(alerts)
	f.metrics.queueLength.Set(float64(f.queue.len()))
	f.mu.Unlock()

	select {
	case f.hasWork <- struct{}{}:
	default:
	}
	if dropped > 0 {
		f.metrics.dropped.Add(float64(dropped))
		f.logger.Warn("alert queue full, dropping oldest alerts", "count", dropped)
	}
}

// withExternalLabels returns alerts with each external label added where
// the alert has no label of that name. Alerts it changes are copied; the
// slice is copied only if one changes.
func withExternalLabels(ext labels.Labels, alerts []*alert.Alert) []*alert.Alert {
	if ext.IsEmpty() {
		return alerts
	}
	var (
		out []*alert.Alert
		b   *labels.Builder
	)
	for i, a := range alerts {
		missing := false
		ext.Range(func(l labels.Label) {
			if !missing && a.Labels.Get(l.Name) == "" {
				missing = true
			}
		})
		if !missing {
			if out != nil {
				out = append(out, a)
			}
			continue
		}
		if out == nil {
			out = make([]*alert.Alert, i, len(alerts))
			copy(out, alerts[:i])
			b = labels.NewBuilder(labels.EmptyLabels())
		}
		b.Reset(a.Labels)
		ext.Range(func(l labels.Label) {
			if a.Labels.Get(l.Name) == "" {
				b.Set(l.Name, l.Value)
			}
		})
		c := *a
		c.Labels = b.Labels()
		out = append(out, &c)
	}
	if out == nil {
		return alerts
	}
	return out
}

// Run delivers queued alerts until ctx is done, then drains the queue for
// at most the largest target Timeout (a batch in flight when ctx is done
// is not cancelled, and counts against the same bound) and returns nil.
// What is still queued then is counted as dropped. Run may be called once;
// to let final alerts through, cancel its ctx after their producer stops.
func (f *Forwarder) Run(ctx context.Context) error {
	if !f.running.CompareAndSwap(false, true) {
		return errors.New("forward: Run called more than once")
	}

	// Requests outlive ctx until the drain deadline, which starts when ctx
	// is done.
	sendCtx, cancelSend := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		timer := time.NewTimer(f.drainTimeout())
		defer timer.Stop()
		select {
		case <-timer.C:
			cancelSend()
		case <-done:
		}
	})
	defer func() {
		close(done)
		wg.Wait()
		cancelSend()
	}()

	for {
		// A done ctx takes priority over more work: the drain loop is the
		// one that respects the drain deadline.
		select {
		case <-ctx.Done():
			f.drain(sendCtx)
			return nil
		default:
		}
		select {
		case <-ctx.Done():
			f.drain(sendCtx)
			return nil
		case <-f.hasWork:
			f.sendBatch(sendCtx)
			if f.queueLen() > 0 {
				select {
				case f.hasWork <- struct{}{}:
				default:
				}
			}
		}
	}
}

func (f *Forwarder) drainTimeout() time.Duration {
	var d time.Duration
	for _, t := range f.cfg.Load().targets {
		d = max(d, t.timeout)
	}
	return d
}

func (f *Forwarder) drain(ctx context.Context) {
	for f.queueLen() > 0 && ctx.Err() == nil {
		f.sendBatch(ctx)
	}
	f.mu.Lock()
	f.stopped = true
	n := f.queue.len()
	f.queue.pop(n, nil)
	f.metrics.queueLength.Set(0)
	f.mu.Unlock()
	if n > 0 {
		f.metrics.dropped.Add(float64(n))
		f.logger.Warn("alert queue not drained before shutdown deadline, dropping alerts", "count", n)
	}
}

func (f *Forwarder) queueLen() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queue.len()
}

func (f *Forwarder) nextBatch() []*alert.Alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	batch := f.queue.pop(f.maxBatchSize, make([]*alert.Alert, 0, min(f.maxBatchSize, f.queue.len())))
	f.metrics.queueLength.Set(float64(f.queue.len()))
	return batch
}

// sendBatch posts the next batch to every target concurrently. The batch
// is dropped, and counted, unless at least one target accepted it.
func (f *Forwarder) sendBatch(ctx context.Context) {
	batch := f.nextBatch()
	if len(batch) == 0 {
		return
	}
	targets := f.cfg.Load().targets
	if len(targets) == 0 {
		f.metrics.dropped.Add(float64(len(batch)))
		f.logger.Warn("no alertmanagers configured, dropping alerts", "count", len(batch))
		return
	}
	payload := toPostable(batch)
	n := float64(len(batch))

	var (
		wg sync.WaitGroup
		ok atomic.Int64
	)
	for _, t := range targets {
		wg.Go(func() {
			begin := time.Now()
			if err := t.post(ctx, payload); err != nil {
				t.errors.Add(n)
				f.logger.Error("send alerts", "alertmanager", t.name, "count", len(batch), "err", err)
				return
			}
			t.latency.Observe(time.Since(begin).Seconds())
			t.sent.Add(n)
			ok.Add(1)
		})
	}
	wg.Wait()
	if ok.Load() == 0 {
		f.metrics.dropped.Add(n)
	}
}

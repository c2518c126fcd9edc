package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/api"
	"github.com/alertd/alertd/config"
	"github.com/alertd/alertd/grouping"
	"github.com/alertd/alertd/grouping/inhibit"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/email"
	"github.com/alertd/alertd/notify/pagerduty"
	"github.com/alertd/alertd/notify/slack"
	"github.com/alertd/alertd/notify/webhook"
)

// amHalf is the Alertmanager half built from one configuration: routing
// tree, inhibitor, receivers, notification pipeline and dispatcher. A reload
// builds a new one and stops the old, as Alertmanager does.
type amHalf struct {
	cfg        *amconfig.Config
	route      *grouping.Route
	inhibitor  *inhibit.Inhibitor
	receivers  map[string][]notify.Integration
	pipeline   *notify.Pipeline
	dispatcher *grouping.Dispatcher

	cancel context.CancelFunc
	done   sync.WaitGroup
}

// buildAMHalf validates and builds what does not touch shared state: the
// pipeline and dispatcher are made when the half is swapped in.
// Its templates are Alertmanager's defaults and the files of cfg's
// templates globs (already made absolute by config.Load).
func buildAMHalf(cfg *amconfig.Config, logger *slog.Logger) (*amHalf, error) {
	if cfg == nil {
		return nil, nil
	}
	tmpl, err := notify.LoadTemplates(cfg.Templates)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	receivers, err := notify.BuildReceivers(cfg, notify.BuildOptions{
		Webhook:   webhook.Builder(webhook.Options{}),
		Email:     email.Builder(email.Options{Templates: tmpl}),
		Slack:     slack.Builder(slack.Options{Templates: tmpl}),
		PagerDuty: pagerduty.Builder(pagerduty.Options{Templates: tmpl, Logger: logger.With("component", "notify", "integration", pagerduty.Name)}),
	})
	if err != nil {
		return nil, err
	}
	ih, err := inhibit.New(cfg.InhibitRules, inhibit.Options{})
	if err != nil {
		return nil, fmt.Errorf("inhibit_rules: %w", err)
	}
	return &amHalf{cfg: cfg, route: grouping.NewRoute(cfg.Route, nil), inhibitor: ih, receivers: receivers}, nil
}

// swapAMHalf stops the running half and starts h (nil: no routing) with
// every stored alert. a.amMu keeps alerts from arriving in between.
func (a *App) swapAMHalf(h *amHalf, externalURL string) error {
	a.amMu.Lock()
	defer a.amMu.Unlock()
	if old := a.am.Load(); old != nil {
		if err := old.stop(); err != nil {
			a.logger.Error("stopping the previous routing", "err", err)
		}
	}
	a.am.Store(nil)
	if h == nil {
		return nil
	}
	p, err := notify.New(notify.Options{
		Receivers:     h.receivers,
		Inhibitor:     h.inhibitor,
		Silencer:      a.silences,
		TimeIntervals: notify.TimeIntervals(h.cfg),
		Store:         a.store,
		// The log is written in the background, one transaction every
		// 10ms and when the half stops (before the next half loads it):
		// flushes never wait for the disk, and a crash can repeat only
		// the notifications of its last 10ms.
		LogFlushInterval: 10 * time.Millisecond,
		ExternalURL:      externalURL,
		Logger:           a.o.Logger.With("component", "notify"),
		Registerer:       a.reg,
		History:          a.history,
	})
	if err != nil {
		return fmt.Errorf("notification pipeline: %w", err)
	}
	h.pipeline = p
	h.dispatcher = grouping.NewDispatcher(grouping.DispatcherOptions{Route: h.route, Notifier: p, Logger: a.o.Logger})
	all := a.alerts.List()
	h.inhibitor.Put(all...)
	h.dispatcher.Put(all...)
	a.am.Store(h)
	if a.runCtx != nil {
		h.start(a.runCtx)
	}
	return nil
}

func (h *amHalf) start(ctx context.Context) {
	ctx, h.cancel = context.WithCancel(ctx)
	for _, run := range []func(context.Context) error{h.dispatcher.Run, h.pipeline.Run, h.inhibitor.Run} {
		h.done.Add(1)
		go func() {
			defer h.done.Done()
			_ = run(ctx)
		}()
	}
}

// stop stops the half and waits for its flushes to end, then writes the
// notification log entries of those that completed after the pipeline's
// Run wrote it for the last time: the next half, or the next start, loads
// the log and must not notify them again.
func (h *amHalf) stop() error {
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	h.done.Wait()
	if err := h.pipeline.FlushLog(); err != nil {
		return fmt.Errorf("notification log write: %w", err)
	}
	return nil
}

// onPut hands stored alerts to the running half.
func (a *App) onPut(alerts []*alert.Alert) {
	a.amMu.RLock()
	defer a.amMu.RUnlock()
	if h := a.am.Load(); h != nil {
		h.inhibitor.Put(alerts...)
		h.dispatcher.Put(alerts...)
	}
}

// sink sends the evaluator's alerts where Prometheus would: to the
// configured Alertmanagers, and into alertd's own Alertmanager half, as if
// posted to /api/v2/alerts.
type sink struct{ a *App }

// Send implements eval.Sink.
func (s sink) Send(alerts ...*alert.Alert) {
	s.a.fwd.Send(alerts...)
	now := time.Now()
	own := make([]*alert.Alert, len(alerts))
	for i, al := range alerts {
		c := *al
		c.UpdatedAt = now
		own[i] = &c
	}
	_ = s.a.alerts.Put(own...)
}

// router answers the API's routing questions from the running half.
type router struct{ a *App }

// Receivers implements api.Router.
func (r router) Receivers(lset labels.Labels) []string {
	if h := r.a.am.Load(); h != nil {
		return h.dispatcher.Receivers(lset)
	}
	return nil
}

// Groups implements api.Router.
func (r router) Groups() []api.AlertGroup {
	h := r.a.am.Load()
	if h == nil {
		return nil
	}
	gs := h.dispatcher.Groups()
	out := make([]api.AlertGroup, len(gs))
	now := time.Now()
	for i, g := range gs {
		out[i] = api.AlertGroup{Labels: g.Labels, Receiver: g.Receiver, Alerts: g.Alerts, MutedBy: h.pipeline.MutedBy(g.MuteTimeIntervals, g.ActiveTimeIntervals, now)}
	}
	return out
}

// inhibitorMuter mutes by the running half's inhibitor.
type inhibitorMuter struct{ a *App }

// Mutes implements api.Muter.
func (m inhibitorMuter) Mutes(lset labels.Labels) []string {
	if h := m.a.am.Load(); h != nil {
		return h.inhibitor.Mutes(lset)
	}
	return nil
}

func (a *App) receiverNames() []string {
	h := a.am.Load()
	if h == nil {
		return nil
	}
	out := make([]string, 0, len(h.cfg.Receivers))
	for _, r := range h.cfg.Receivers {
		out = append(out, r.Name)
	}
	return out
}

func (a *App) alertmanagerYAML() string {
	if c := a.cfg.Load(); c != nil {
		return c.AlertmanagerString()
	}
	return ""
}

func (a *App) resolveTimeout() time.Duration {
	if h := a.am.Load(); h != nil && h.cfg.Global != nil {
		return time.Duration(h.cfg.Global.ResolveTimeout)
	}
	return 5 * time.Minute
}

// dispatcherGauges are the backlog of the running routing half, in
// /metrics: its aggregation groups, the flushes running, and the flushes
// due but waiting for a place. A receiver that is down shows as flushes
// running (retrying until their deadline) and waiting.
func (a *App) dispatcherGauges() []prometheus.Collector {
	stat := func(pick func(groups, running, waiting int) int) func() float64 {
		return func() float64 {
			h := a.am.Load()
			if h == nil || h.dispatcher == nil {
				return 0
			}
			return float64(pick(h.dispatcher.Stats()))
		}
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "alertd_dispatcher_aggregation_groups",
			Help: "Aggregation groups of the running routing tree.",
		}, stat(func(g, _, _ int) int { return g })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "alertd_dispatcher_flushes_running",
			Help: "Aggregation group flushes under way (notifying, retrying).",
		}, stat(func(_, r, _ int) int { return r })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "alertd_dispatcher_flushes_waiting",
			Help: "Aggregation group flushes due but waiting for a place among the running ones.",
		}, stat(func(_, _, w int) int { return w })),
	}
}

// ValidateRouting builds the routing half of cfg as run does (templates,
// receivers, inhibition rules) without starting anything, so that
// `alertd check config` fails where run would.
func ValidateRouting(cfg *config.Config) error {
	_, err := buildAMHalf(cfg.Alertmanager, slog.New(slog.DiscardHandler))
	return err
}

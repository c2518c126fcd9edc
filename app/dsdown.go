package app

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/eval/datasource"
)

// DatasourceDownAlert is the name of the alert alertd raises about itself
// when its datasource has not answered for datasource.down_alert_after.
const DatasourceDownAlert = "AlertdDatasourceDown"

// dsDownResend is how often the firing AlertdDatasourceDown is sent again,
// as the evaluator re-sends its alerts (resend_delay).
const dsDownResend = time.Minute

// dsHealth follows the datasource's answers: since when the queries have
// been failing for want of an answer, and whether AlertdDatasourceDown
// fires.
type dsHealth struct {
	mu           sync.Mutex
	failingSince time.Time // zero after an answer
	lastErr      string
	firing       bool
	lastSent     time.Time
}

// observe records the outcome of one query at now. Only failures that say
// the datasource did not answer (network errors, timeouts, 5xx, 429)
// count; an error in the query itself is an answer.
func (h *dsHealth) observe(err error, now time.Time) {
	if errors.Is(err, context.Canceled) {
		return // shutting down or reloading
	}
	qe, isQE := errors.AsType[*datasource.QueryError](err)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil || !isQE || !qe.Retryable {
		h.failingSince = time.Time{}
		return
	}
	if h.failingSince.IsZero() {
		h.failingSince = now
	}
	h.lastErr = err.Error()
}

// check returns the AlertdDatasourceDown alert to send at now, or nil: the
// firing alert once the queries have failed for after (and every minute
// while they still do), the resolved one at the first answer after that.
func (h *dsHealth) check(now time.Time, after time.Duration, dsURL string, external labels.Labels) *alert.Alert {
	h.mu.Lock()
	defer h.mu.Unlock()
	down := after > 0 && !h.failingSince.IsZero() && now.Sub(h.failingSince) >= after
	switch {
	case down && (!h.firing || now.Sub(h.lastSent) >= dsDownResend):
		h.firing, h.lastSent = true, now
		return dsDownAlert(h.failingSince, now.Add(4*dsDownResend), dsURL, h.lastErr, external)
	case !down && h.firing:
		h.firing = false
		return dsDownAlert(h.lastSent, now, dsURL, h.lastErr, external)
	}
	return nil
}

func dsDownAlert(startsAt, endsAt time.Time, dsURL, lastErr string, external labels.Labels) *alert.Alert {
	host := "<unparsable url>"
	if u, err := url.Parse(dsURL); err == nil {
		host = u.Scheme + "://" + u.Host
	}
	b := labels.NewBuilder(labels.FromStrings(labels.AlertName, DatasourceDownAlert, "severity", "critical", "datasource", host))
	external.Range(func(l labels.Label) {
		if b.Get(l.Name) == "" {
			b.Set(l.Name, l.Value)
		}
	})
	return &alert.Alert{
		Labels: b.Labels(),
		Annotations: labels.FromStrings(
			"summary", "alertd cannot query its datasource: rules are not evaluated",
			"description", "Queries to "+host+" have failed since "+startsAt.UTC().Format(time.RFC3339)+"; last error: "+lastErr,
		),
		StartsAt: startsAt,
		EndsAt:   endsAt,
	}
}

// watchDatasource sends AlertdDatasourceDown through the running route
// (and to the configured Alertmanagers) when the datasource is down, and
// its resolution when it answers again.
func (a *App) watchDatasource(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			cfg := a.cfg.Load()
			if cfg == nil || cfg.Datasource.URL == "" {
				continue
			}
			ext := labels.FromMap(cfg.Global.ExternalLabels)
			if al := a.dsHealth.check(now, time.Duration(cfg.Datasource.DownAlertAfter), cfg.Datasource.URL, ext); al != nil {
				if al.EndsAt.After(now) {
					a.logger.Error("datasource down: raising "+DatasourceDownAlert, "since", al.StartsAt)
				} else {
					a.logger.Info("datasource answers again: resolving " + DatasourceDownAlert)
				}
				sink{a}.Send(al)
			}
		}
	}
}

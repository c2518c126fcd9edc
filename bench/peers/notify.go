package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/alertd/alertd/bench/internal/alertload"
)

// runNotify runs bench/amload's load through Alertmanager, then alertd.
func runNotify(ctx context.Context, h *harness, o alertload.Options) (*notifyResult, error) {
	o.Alertd, o.Log = h.alertd, h.log
	if err := o.Validate(); err != nil {
		return nil, err
	}
	sink, sinkURL, stopSink, err := alertload.StartSink(alertload.SinkLean)
	if err != nil {
		return nil, err
	}
	defer stopSink()

	n := &notifyResult{Options: o}
	h.logf("notify: %d alerts in %d groups into Alertmanager", o.Alerts, o.Groups)
	r, err := alertload.RunAlertmanager(ctx, o, filepath.Join(h.dir, "notify-alertmanager"), sink, sinkURL)
	if r == nil && err == nil {
		err = fmt.Errorf("alertmanager is not installed (make deps)")
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	n.Alertmanager = notifyCheck("Alertmanager", r, err, o.Alerts)
	h.logf("notify: %d alerts in %d groups into alertd", o.Alerts, o.Groups)
	r, err = alertload.RunAlertd(ctx, o, filepath.Join(h.dir, "notify-alertd"), sink, sinkURL)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	n.Alertd = notifyCheck("alertd", r, err, o.Alerts)
	return n, nil
}

// notifyCheck makes the row of a system: its figures only if every alert
// was delivered exactly once.
func notifyCheck(system string, r *alertload.Result, err error, alerts int) notifyRow {
	row := notifyRow{System: system}
	switch {
	case err != nil:
		row.Failure = err.Error()
	case r.Distinct != alerts:
		row.Failure = fmt.Sprintf("%d of %d alerts delivered", r.Distinct, alerts)
	case r.Delivered != r.Distinct:
		row.Failure = fmt.Sprintf("%d alerts delivered more than once (%d deliveries of %d distinct alerts)", r.Delivered-r.Distinct, r.Delivered, r.Distinct)
	default:
		row.Result = r
	}
	return row
}

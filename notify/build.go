package notify

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/timeinterval"
)

// BuildFunc builds the integration configured at index idx of one kind
// (e.g. webhook_configs[idx]) of receiver rcv.
type BuildFunc func(rcv *amconfig.Receiver, idx int) (Integration, error)

// BuildOptions give BuildReceivers the builders of the integration kinds
// alertd supports; the integration packages provide them (e.g.
// webhook.Builder). A kind without a builder is an error when configured.
type BuildOptions struct {
	// Webhook builds webhook_configs entries, Email email_configs,
	// Slack slack_configs and PagerDuty pagerduty_configs.
	Webhook, Email, Slack, PagerDuty BuildFunc
}

// BuildReceivers builds the integrations of every receiver of cfg, by
// receiver name, in configuration order within each kind. A configured
// kind without a builder is an error that names the receiver and the
// kind; every error is reported, joined.
func BuildReceivers(cfg *amconfig.Config, o BuildOptions) (map[string][]Integration, error) {
	out := make(map[string][]Integration, len(cfg.Receivers))
	var errs []error
	for i := range cfg.Receivers {
		rcv := &cfg.Receivers[i]
		igs, err := buildReceiver(rcv, o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[rcv.Name] = igs
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func buildReceiver(rcv *amconfig.Receiver, o BuildOptions) ([]Integration, error) {
	var (
		igs  []Integration
		errs []error
	)
	// Every *_configs field, so that a kind added to Alertmanager's
	// configuration is an error here rather than silently ignored.
	v := reflect.ValueOf(rcv).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		kind, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !strings.HasSuffix(kind, "_configs") || v.Field(i).Kind() != reflect.Slice {
			continue
		}
		n := v.Field(i).Len()
		if n == 0 {
			continue
		}
		build := map[string]BuildFunc{
			"webhook_configs":   o.Webhook,
			"email_configs":     o.Email,
			"slack_configs":     o.Slack,
			"pagerduty_configs": o.PagerDuty,
		}[kind]
		if build == nil {
			errs = append(errs, fmt.Errorf("receiver %q: %s are not supported", rcv.Name, kind))
			continue
		}
		for idx := range n {
			ig, err := build(rcv, idx)
			if err != nil {
				errs = append(errs, fmt.Errorf("receiver %q: %s[%d]: %w", rcv.Name, kind, idx, err))
				continue
			}
			igs = append(igs, ig)
		}
	}
	return igs, errors.Join(errs...)
}

// TimeIntervals returns cfg's named time intervals, those of
// time_intervals and of the deprecated mute_time_intervals, for
// Options.TimeIntervals.
func TimeIntervals(cfg *amconfig.Config) map[string][]timeinterval.TimeInterval {
	out := make(map[string][]timeinterval.TimeInterval, len(cfg.TimeIntervals)+len(cfg.MuteTimeIntervals))
	for _, ti := range cfg.MuteTimeIntervals {
		out[ti.Name] = ti.TimeIntervals
	}
	for _, ti := range cfg.TimeIntervals {
		out[ti.Name] = ti.TimeIntervals
	}
	return out
}

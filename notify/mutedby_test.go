package notify_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	amconfig "github.com/prometheus/alertmanager/config"

	"github.com/alertd/alertd/notify"
)

func TestMutedBy(t *testing.T) {
	cfg, err := amconfig.Load(`route:
  receiver: r
  routes: [{receiver: r, matchers: [a="b"], mute_time_intervals: [always, never], active_time_intervals: [never]}]
receivers: [{name: r}]
time_intervals:
- name: always
  time_intervals: [{times: [{start_time: "00:00", end_time: "24:00"}]}]
- name: never
  time_intervals: [{years: ["1999"]}]
`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := notify.New(notify.Options{TimeIntervals: notify.TimeIntervals(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name         string
		mute, active []string
		want         []string
	}{
		{"none", nil, nil, nil},
		{"mute interval containing now", []string{"always", "never"}, nil, []string{"always"}},
		{"mute interval not containing now", []string{"never"}, nil, nil},
		{"active interval not containing now", nil, []string{"never"}, []string{"never"}},
		{"active interval containing now", nil, []string{"always"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, p.MutedBy(tc.mute, tc.active, now)); diff != "" {
				t.Errorf("mutedBy (-want +got):\n%s", diff)
			}
		})
	}
}

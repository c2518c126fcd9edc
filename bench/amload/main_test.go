package main

import (
	"testing"
	"time"

	"github.com/alertd/alertd/bench/internal/alertload"
)

func TestMedians(t *testing.T) {
	round := func(delivery time.Duration, rss float64, distinct, delivered int) []alertload.Result {
		return []alertload.Result{
			{System: "alertmanager", Delivery: 10 * delivery, PeakRSS: 10 * rss, Distinct: 100, Delivered: 100},
			{System: "alertd", Delivery: delivery, PeakRSS: rss, Distinct: distinct, Delivered: delivered},
		}
	}
	for _, tc := range []struct {
		name         string
		rounds       [][]alertload.Result
		delivery     time.Duration
		rss          float64
		distinct     int
		duplicates   int
		alertmanager time.Duration
	}{
		{
			name:     "odd",
			rounds:   [][]alertload.Result{round(3*time.Second, 70, 100, 100), round(1*time.Second, 90, 100, 102), round(2*time.Second, 80, 100, 100)},
			delivery: 2 * time.Second, rss: 80, distinct: 100, duplicates: 2, alertmanager: 20 * time.Second,
		},
		{
			name:     "even",
			rounds:   [][]alertload.Result{round(4*time.Second, 70, 100, 100), round(1*time.Second, 90, 98, 99), round(2*time.Second, 80, 100, 101), round(3*time.Second, 60, 100, 100)},
			delivery: 2500 * time.Millisecond, rss: 75, distinct: 98, duplicates: 1, alertmanager: 25 * time.Second,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := medians(tc.rounds)
			if len(m) != 2 || m[0].System != "alertmanager" || m[1].System != "alertd" {
				t.Fatalf("medians = %+v, want alertmanager then alertd", m)
			}
			if m[0].Delivery != tc.alertmanager {
				t.Errorf("alertmanager delivery = %s, want %s", m[0].Delivery, tc.alertmanager)
			}
			ad := m[1]
			if ad.Delivery != tc.delivery || ad.PeakRSS != tc.rss {
				t.Errorf("alertd delivery, peak RSS = %s, %.1f; want %s, %.1f", ad.Delivery, ad.PeakRSS, tc.delivery, tc.rss)
			}
			if ad.Distinct != tc.distinct || ad.Delivered-ad.Distinct != tc.duplicates {
				t.Errorf("alertd distinct, duplicates = %d, %d; want %d, %d", ad.Distinct, ad.Delivered-ad.Distinct, tc.distinct, tc.duplicates)
			}
		})
	}
}

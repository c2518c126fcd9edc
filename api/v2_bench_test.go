package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alertd/alertd/alert"
)

type discardStore struct{}

func (discardStore) Put(...*alert.Alert) error { return nil }
func (discardStore) List() []*alert.Alert      { return nil }

// BenchmarkPostAlerts is POST /api/v2/alerts of 1,000 alerts: decoding,
// defaults and validation, with a store that keeps nothing.
func BenchmarkPostAlerts(b *testing.B) {
	now := time.Now()
	var alerts []map[string]any
	for i := range 1000 {
		alerts = append(alerts, map[string]any{
			"labels":   map[string]string{"alertname": "Load", "group": fmt.Sprint("g", i%100), "instance": fmt.Sprint("i", i)},
			"startsAt": now.Format(time.RFC3339Nano),
			"endsAt":   now.Add(time.Hour).Format(time.RFC3339Nano),
		})
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		b.Fatal(err)
	}
	h := New(Options{Alertmanager: &AlertmanagerOptions{Alerts: discardStore{}}})
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/v2/alerts", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/alert")
}

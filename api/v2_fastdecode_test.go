package api

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/api/v2/models"
)

// TestFastDecodeAgreesWithModels: every body the fast decoder accepts
// decodes to what the generated models give; the rest it leaves to them.
func TestFastDecodeAgreesWithModels(t *testing.T) {
	bodies := []struct {
		name, body string
		fast       bool
	}{
		{"full", `[{"labels":{"alertname":"A","x":""},"annotations":{"s":"v"},"startsAt":"2026-11-23T10:00:00.123Z","endsAt":"2026-11-23T11:00:00+02:00","generatorURL":"http://prom:9090/graph?g0.expr=up"}]`, true},
		{"no times", `[{"labels":{"alertname":"A"}}]`, true},
		{"empty annotations", `[{"labels":{"a":"b"},"annotations":{}}]`, true},
		{"two alerts", `[{"labels":{"a":"1"}},{"labels":{"a":"2"},"endsAt":"2026-11-23T10:00:00Z"}]`, true},
		{"unknown field", `[{"labels":{"a":"1"},"bogus":1}]`, true},
		{"no labels", `[{"annotations":{"a":"1"}}]`, false},
		{"null item", `[null]`, false},
		{"bad time", `[{"labels":{"a":"1"},"startsAt":"yesterday"}]`, false},
		{"date only", `[{"labels":{"a":"1"},"startsAt":"2026-11-23"}]`, false},
		{"number label", `[{"labels":{"a":1}}]`, false},
		{"not an array", `{"labels":{"a":"1"}}`, false},
		{"garbage", `[{"labels":`, false},
	}
	for _, tc := range bodies {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/api/v2/alerts", bytes.NewReader([]byte(tc.body)))
			req.Header.Set("Content-Type", "application/json")
			got, ok := fastDecodeAlerts(req)
			if ok != tc.fast {
				t.Fatalf("fast path %v, want %v", ok, tc.fast)
			}
			if !ok {
				return
			}
			var want models.PostableAlerts
			if err := json.Unmarshal([]byte(tc.body), &want); err != nil {
				t.Fatal(err)
			}
			if err := want.Validate(nil); err != nil {
				t.Fatalf("models reject what the fast path accepted: %v", err)
			}
			for i, w := range want {
				g := got[i]
				type view struct {
					Labels, Annotations map[string]string
					StartsAt, EndsAt    time.Time
					GeneratorURL        string
				}
				wv := view{w.Labels, w.Annotations, time.Time(w.StartsAt), time.Time(w.EndsAt), string(w.GeneratorURL)}
				gv := view{g.Labels, g.Annotations, g.startsAt, g.endsAt, g.GeneratorURL}
				if wv.Annotations == nil {
					wv.Annotations = map[string]string{}
				}
				if gv.Annotations == nil {
					gv.Annotations = map[string]string{}
				}
				if diff := cmp.Diff(wv, gv, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
					t.Errorf("alert %d (-models +fast):\n%s", i, diff)
				}
			}
		})
	}
}

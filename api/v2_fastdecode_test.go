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

// TestFastDecodeAgreesWithModels: every body the scanner accepts decodes
// to what the generated models give; the rest it leaves to them.
func TestFastDecodeAgreesWithModels(t *testing.T) {
	bodies := []struct {
		name, body string
		fast       bool
	}{
		{"full", `[{"labels":{"alertname":"A","x":""},"annotations":{"s":"v"},"startsAt":"2026-11-23T10:00:00.123Z","endsAt":"2026-11-23T11:00:00+02:00","generatorURL":"http://prom:9090/graph?g0.expr=up"}]`, true},
		{"no times", `[{"labels":{"alertname":"A"}}]`, true},
		{"empty annotations", `[{"labels":{"a":"b"},"annotations":{}}]`, true},
		{"two alerts", `[{"labels":{"a":"1"}},{"labels":{"a":"2"},"endsAt":"2026-11-23T10:00:00Z"}]`, true},
		{"white space everywhere", " [ { \"labels\" : { \"a\" : \"b\" } } ] \n", true},
		{"empty array", `[]`, true},
		{"unknown field", `[{"labels":{"a":"1"},"bogus":1}]`, false},
		{"escapes", `[{"labels":{"a":"x\"y\u00e9\n"}}]`, false},
		{"repeated label", `[{"labels":{"a":"x","a":""}}]`, false},
		{"no labels", `[{"annotations":{"a":"1"}}]`, false},
		{"null item", `[null]`, false},
		{"bad time", `[{"labels":{"a":"1"},"startsAt":"yesterday"}]`, false},
		{"empty startsAt is the epoch for the models", `[{"labels":{"a":"1"},"startsAt":""}]`, false},
		{"date only", `[{"labels":{"a":"1"},"startsAt":"2026-11-23"}]`, false},
		{"bad generatorURL", `[{"labels":{"a":"1"},"generatorURL":"not a url %%"}]`, false},
		{"number label", `[{"labels":{"a":1}}]`, false},
		{"not an array", `{"labels":{"a":"1"}}`, false},
		{"garbage", `[{"labels":`, false},
	}
	for _, tc := range bodies {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/api/v2/alerts", bytes.NewReader([]byte(tc.body)))
			req.Header.Set("Content-Type", "application/json")
			got, ok, err := fastDecodeAlerts(req)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.fast {
				t.Fatalf("fast path %v, want %v", ok, tc.fast)
			}
			if ok {
				agreeWithModels(t, []byte(tc.body), got)
			}
		})
	}
}

// agreeWithModels checks that the models accept body and decode it to got.
func agreeWithModels(t *testing.T, body []byte, got []postedAlert) {
	t.Helper()
	var want models.PostableAlerts
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatalf("the models reject what the scanner accepted (%v): %q", err, body)
	}
	if err := want.Validate(nil); err != nil {
		t.Fatalf("the models reject what the scanner accepted (%v): %q", err, body)
	}
	if len(got) != len(want) {
		t.Fatalf("%d alerts, the models %d", len(got), len(want))
	}
	for i, w := range want {
		wv := alertView{labelsFromAPI(w.Labels, true).String(), labelsFromAPI(w.Annotations, false).String(), time.Time(w.StartsAt), time.Time(w.EndsAt), string(w.GeneratorURL)}
		gv := alertView{got[i].lbls.String(), got[i].anns.String(), got[i].startsAt, got[i].endsAt, got[i].GeneratorURL}
		if diff := cmp.Diff(wv, gv, cmpTime); diff != "" {
			t.Errorf("alert %d (-models +scanner):\n%s", i, diff)
		}
	}
}

type alertView struct {
	Labels, Annotations string
	StartsAt, EndsAt    time.Time
	GeneratorURL        string
}

var cmpTime = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

// FuzzScanAlerts: whatever the scanner accepts, the models accept and
// decode to the same alerts.
func FuzzScanAlerts(f *testing.F) {
	f.Add([]byte(`[{"labels":{"alertname":"A","x":""},"annotations":{"s":"v"},"startsAt":"2026-11-23T10:00:00.123Z","endsAt":"2026-11-23T11:00:00+02:00","generatorURL":"http://p/g"}]`))
	f.Add([]byte(`[{"labels":{"a":"1"}},{"labels":{"a":"2"}}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"labels":{},"startsAt":""}]`))
	f.Add([]byte(`[{"labels":{"a":"1"},"generatorURL":"not a url %%"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, ok := scanAlerts(b); ok {
			agreeWithModels(t, b, got)
		}
	})
}

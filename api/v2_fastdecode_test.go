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
		{"escapes", `[{"labels":{"a":"x\"y\u00e9\n"}}]`, true},
		{"repeated label keeps the last", `[{"labels":{"a":"x","a":""}}]`, true},
		{"white space everywhere", " [ { \"labels\" : { \"a\" : \"b\" } } ] \n", true},
		{"empty array", `[]`, true},
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
				if diff := cmp.Diff(viewOf(w.Labels, w.Annotations, time.Time(w.StartsAt), time.Time(w.EndsAt), string(w.GeneratorURL)), viewOfPosted(got[i]), cmpTime); diff != "" {
					t.Errorf("alert %d (-models +fast):\n%s", i, diff)
				}
			}
		})
	}
}

type alertView struct {
	Labels, Annotations string
	StartsAt, EndsAt    time.Time
	GeneratorURL        string
}

var cmpTime = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func viewOf(ls, as map[string]string, startsAt, endsAt time.Time, url string) alertView {
	return alertView{labelsFromAPI(ls, true).String(), labelsFromAPI(as, false).String(), startsAt, endsAt, url}
}

func viewOfPosted(pa postedAlert) alertView {
	if pa.scanned {
		return alertView{pa.lbls.String(), pa.anns.String(), pa.startsAt, pa.endsAt, pa.GeneratorURL}
	}
	return viewOf(pa.Labels, pa.Annotations, pa.startsAt, pa.endsAt, pa.GeneratorURL)
}

// FuzzScanAlerts: whatever the scanner accepts, encoding/json decodes to
// the same alerts.
func FuzzScanAlerts(f *testing.F) {
	f.Add([]byte(`[{"labels":{"alertname":"A","x":""},"annotations":{"s":"v"},"startsAt":"2026-11-23T10:00:00.123Z","endsAt":"2026-11-23T11:00:00+02:00","generatorURL":"http://p/g"}]`))
	f.Add([]byte(`[{"labels":{"a":"1"}},{"labels":{"a":"2"}}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"labels":{"a":"1"},"generatorURL":"not a url %%"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := scanAlerts(b)
		if !ok {
			return
		}
		var models models.PostableAlerts
		if err := json.Unmarshal(b, &models); err != nil || models.Validate(nil) != nil {
			t.Fatalf("the scanner accepted what the models reject (%v, %v): %q", err, models.Validate(nil), b)
		}
		var want []postedAlert
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("the scanner accepted what encoding/json rejects (%v): %q", err, b)
		}
		if len(got) != len(want) {
			t.Fatalf("%d alerts, encoding/json %d", len(got), len(want))
		}
		for i := range want {
			w := want[i]
			var err error
			if w.startsAt, err = parseOrZero(w.StartsAt); err != nil {
				t.Fatal(err)
			}
			if w.endsAt, err = parseOrZero(w.EndsAt); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(viewOf(w.Labels, w.Annotations, w.startsAt, w.endsAt, w.GeneratorURL), viewOfPosted(got[i]), cmpTime); diff != "" {
				t.Errorf("alert %d (-encoding/json +scanner):\n%s", i, diff)
			}
		}
	})
}

func parseOrZero(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

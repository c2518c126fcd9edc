package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alertd/alertd/api"
)

// FuzzV2PostBodies posts arbitrary bodies to POST /api/v2/alerts and
// /api/v2/silences: the handler must answer one of the documented status
// codes and never panic.
func FuzzV2PostBodies(f *testing.F) {
	for _, c := range badCases(time.Now()) {
		if c.method == http.MethodPost {
			f.Add(strings.TrimPrefix(c.path, "/") == "silences", c.body)
		}
	}
	f.Add(false, `[{"labels":{"alertname":"x"},"startsAt":"2026-01-01T00:00:00Z"}]`)
	f.Add(true, `{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2999-01-01T00:00:00Z","createdBy":"me","comment":"c"}`)
	store := newFakeStore()
	sils := newFakeSilences(time.Now)
	h := api.New(api.Options{Alertmanager: &api.AlertmanagerOptions{
		Alerts: store, Router: &fakeRouter{store: store}, Silences: sils, Silencer: sils, Inhibitor: inhibitor(),
	}})
	allowed := map[int]bool{200: true, 400: true, 404: true, 422: true}
	f.Fuzz(func(t *testing.T, silence bool, body string) {
		path := "/api/v2/alerts"
		if silence {
			path = "/api/v2/silences"
		}
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Errorf("POST %s %q: status %d: %s", path, body, rec.Code, rec.Body)
		}
	})
}

package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/api"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/web"
)

func TestNotifications(t *testing.T) {
	history, err := notify.NewHistoryLog(notify.HistoryLogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	history.Record(notify.HistoryEntry{
		Time: at, Receiver: "ops", Integration: "webhook", Index: 0,
		GroupKey: `{}:{alertname="Down"}`, GroupLabels: labels.FromStrings("alertname", "Down"),
		Firing: 2, Resolved: 1, Duration: 15 * time.Millisecond,
	})
	history.Record(notify.HistoryEntry{
		Time: at.Add(time.Second), Receiver: "team-a", Integration: "slack", Index: 1,
		GroupKey: "{}:{}", GroupLabels: labels.EmptyLabels(), Firing: 1, Duration: 2 * time.Second,
		Error: "notify retry canceled after 3 attempts: unexpected status code 500",
	})
	h := api.New(api.Options{Notifications: history})

	code, body := get(t, h, http.MethodGet, "/api/v1/notifications")
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/notifications: %d %s", code, body)
	}
	// The shape docs/api.md documents.
	want := `{"status":"success","data":{"notifications":[` +
		`{"id":2,"time":"2026-03-02T10:00:01Z","receiver":"team-a","integration":"slack","index":1,"groupKey":"{}:{}","groupLabels":{},` +
		`"firing":1,"resolved":0,"success":false,"error":"notify retry canceled after 3 attempts: unexpected status code 500","duration":2},` +
		`{"id":1,"time":"2026-03-02T10:00:00Z","receiver":"ops","integration":"webhook","index":0,"groupKey":"{}:{alertname=\"Down\"}","groupLabels":{"alertname":"Down"},` +
		`"firing":2,"resolved":1,"success":true,"duration":0.015}]}}`
	if diff := cmp.Diff(want, strings.TrimSpace(body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name, query string
		ids         []uint64
	}{
		{"receiver", "?receiver=ops", []uint64{1}},
		{"unknown receiver", "?receiver=nope", []uint64{}},
		{"limit", "?limit=1", []uint64{2}},
		{"limit zero", "?limit=0", []uint64{}},
		{"receiver and limit", "?receiver=ops&limit=5", []uint64{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, h, http.MethodGet, "/api/v1/notifications"+tc.query)
			var got struct {
				Data struct {
					Notifications []struct {
						ID uint64 `json:"id"`
					} `json:"notifications"`
				} `json:"data"`
			}
			if err := json.Unmarshal([]byte(body), &got); code != http.StatusOK || err != nil {
				t.Fatalf("%d %s: %v", code, body, err)
			}
			ids := []uint64{}
			for _, n := range got.Data.Notifications {
				ids = append(ids, n.ID)
			}
			if diff := cmp.Diff(tc.ids, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}

	for _, bad := range []string{"-1", "x", "1.5"} {
		code, body := get(t, h, http.MethodGet, "/api/v1/notifications?limit="+bad)
		if code != http.StatusBadRequest || !strings.Contains(body, `"errorType":"bad_data"`) || !strings.Contains(body, `limit=\"`+bad) {
			t.Errorf("limit=%s: %d %s", bad, code, body)
		}
	}

	// Without a history: an empty list.
	code, body = get(t, api.New(api.Options{}), http.MethodGet, "/api/v1/notifications")
	if code != http.StatusOK || strings.TrimSpace(body) != `{"status":"success","data":{"notifications":[]}}` {
		t.Errorf("no history: %d %s", code, body)
	}
}

func TestDatasourceURL(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func() string
		want string
	}{
		{"none", nil, `{"status":"success","data":{"url":""}}`},
		{"set", func() string { return "http://prom.example.org:9090/prefix" }, `{"status":"success","data":{"url":"http://prom.example.org:9090/prefix"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, api.New(api.Options{DatasourceURL: tc.fn}), http.MethodGet, "/api/v1/status/datasource")
			if code != http.StatusOK || strings.TrimSpace(body) != tc.want {
				t.Errorf("%d %s, want %s", code, body, tc.want)
			}
		})
	}
}

func TestUIMounted(t *testing.T) {
	with := api.New(api.Options{UI: web.Handler()})
	if code, body := get(t, with, http.MethodGet, "/"); code != http.StatusOK || !strings.Contains(body, `<script type="module" src="static/js/main.js">`) {
		t.Errorf("GET /: %d %.200s", code, body)
	}
	if code, _ := get(t, with, http.MethodGet, "/static/js/main.js"); code != http.StatusOK {
		t.Errorf("GET /static/js/main.js: %d", code)
	}
	for _, p := range []string{"/nope", "/static/nope.js", "/index.html"} {
		if code, _ := get(t, with, http.MethodGet, p); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, code)
		}
	}
	if code, _ := get(t, api.New(api.Options{}), http.MethodGet, "/"); code != http.StatusNotFound {
		t.Errorf("GET / without a UI: %d, want 404", code)
	}
}

package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alertd/alertd/api"
)

// batch returns a POST /api/v2/alerts body of n alerts with a realistic
// number of labels and annotations, as Prometheus sends them.
func batch(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"labels":{"alertname":"HighLatency","instance":"node-%04d.example.com:9100","job":"node","env":"production","region":"eu-west-1","team":"storage","severity":"page","cluster":"c%d"},`+
			`"annotations":{"summary":"p99 latency of node-%04d is above 500ms","description":"The 99th percentile latency has been above 500ms for 10 minutes.","runbook_url":"https://runbooks.example.com/HighLatency"},`+
			`"startsAt":"2026-11-23T09:00:00Z","generatorURL":"http://prometheus.example.com:9090/graph?g0.expr=latency%%3E0.5"}`, i, i%7, i)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// padTo pads a JSON body with trailing spaces to n bytes.
func padTo(body []byte, n int) []byte {
	return append(body, bytes.Repeat([]byte(" "), n-len(body))...)
}

// TestBodyLimits posts bodies at and over each limit, with their length
// declared and chunked (unknown length): at the limit they are accepted,
// over it they are 413 with go-openapi's JSON error and store nothing.
func TestBodyLimits(t *testing.T) {
	now := time.Now()
	silence := []byte(`{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"` + now.UTC().Format(time.RFC3339) +
		`","endsAt":"` + now.Add(time.Hour).UTC().Format(time.RFC3339) + `","createdBy":"me","comment":"c"}`)
	oneAlert := []byte(`[{"labels":{"alertname":"A"}}]`)
	thousand := batch(1000)
	if len(thousand) > api.MaxAlertsBodyBytes/16 {
		t.Fatalf("1,000 alerts are %d bytes, too close to the limit", len(thousand))
	}
	overLimit := batch(api.MaxAlertsBodyBytes/len(batch(1)) + 100)
	if len(overLimit) <= api.MaxAlertsBodyBytes {
		t.Fatalf("overLimit is %d bytes, not over the limit", len(overLimit))
	}
	tests := []struct {
		name    string
		path    string
		body    []byte
		chunked bool // no Content-Length
		code    int
		stored  int // alerts or silences stored
	}{
		{name: "1000 alerts", path: "/api/v2/alerts", body: thousand, code: 200, stored: 1000},
		{name: "1000 alerts chunked", path: "/api/v2/alerts", body: thousand, chunked: true, code: 200, stored: 1000},
		{name: "alerts at the limit", path: "/api/v2/alerts", body: padTo(oneAlert, api.MaxAlertsBodyBytes), code: 200, stored: 1},
		{name: "alerts over the limit", path: "/api/v2/alerts", body: padTo(oneAlert, api.MaxAlertsBodyBytes+1), code: 413},
		{name: "alerts over the limit chunked", path: "/api/v2/alerts", body: padTo(oneAlert, api.MaxAlertsBodyBytes+1), chunked: true, code: 413},
		{name: "alerts over the limit chunked, in the array", path: "/api/v2/alerts", body: overLimit, chunked: true, code: 413},
		{name: "silence at the limit", path: "/api/v2/silences", body: padTo(silence, api.MaxSilenceBodyBytes), code: 200, stored: 1},
		{name: "silence at the limit chunked", path: "/api/v2/silences", body: padTo(silence, api.MaxSilenceBodyBytes), chunked: true, code: 200, stored: 1},
		{name: "silence over the limit", path: "/api/v2/silences", body: padTo(silence, api.MaxSilenceBodyBytes+1), code: 413},
		{name: "silence over the limit chunked", path: "/api/v2/silences", body: padTo(silence, api.MaxSilenceBodyBytes+1), chunked: true, code: 413},
		{name: "silence over the limit chunked, in the comment", path: "/api/v2/silences", body: bytes.Replace(silence, []byte(`"c"`), []byte(`"`+strings.Repeat("c", api.MaxSilenceBodyBytes)+`"`), 1), chunked: true, code: 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, time.Now)
			req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, tc.path, bytes.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			if tc.chunked {
				req.ContentLength = -1
				req.Body = io.NopCloser(bytes.NewReader(tc.body))
			}
			rec := httptest.NewRecorder()
			e.srv.Config.Handler.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Fatalf("%d, want %d: %.200s", rec.Code, tc.code, rec.Body.String())
			}
			if tc.code == http.StatusRequestEntityTooLarge {
				var got struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
					t.Fatalf("413 body %q: %v", rec.Body.String(), err)
				}
				limit := api.MaxAlertsBodyBytes
				if tc.path == "/api/v2/silences" {
					limit = api.MaxSilenceBodyBytes
				}
				want := fmt.Sprintf("request body too large: the limit of POST %s is %d bytes", tc.path, limit)
				if got.Code != 413 || got.Message != want {
					t.Errorf("413 body %q, want code 413 and message %q", rec.Body.String(), want)
				}
			}
			if n := len(e.store.List()) + len(e.silences.List()); n != tc.stored {
				t.Errorf("%d alerts and silences stored, want %d", n, tc.stored)
			}
		})
	}
}

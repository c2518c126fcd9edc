package alertload

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAlertInstances(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want []string
	}{
		{"webhook message", `{"receiver":"sink","status":"firing","alerts":[` +
			`{"status":"firing","labels":{"alertname":"Load","group":"g1","instance":"i1"},"annotations":{}},` +
			`{"status":"firing","labels":{"alertname":"Load","group":"g1","instance":"i10001"},"annotations":{}}],` +
			`"groupLabels":{"group":"g1"},"commonLabels":{"alertname":"Load","group":"g1","instance":"i1"},"version":"4","groupKey":"{}:{group=\"g1\"}"}`,
			[]string{"i1", "i10001"}},
		{"no alerts", `{"alerts":[],"groupLabels":{},"commonLabels":{"instance":"i1"}}`, nil},
		{"escapes: decoded", `{"alerts":[{"labels":{"instance":"a\"b"}}],"groupLabels":{}}`, []string{`a"b`}},
		{"other shape: decoded", `{"alerts":[{"labels":{"instance":"i2"}}]}`, []string{"i2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := alertInstances([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := alertInstances([]byte(`{"alerts":[`)); err == nil {
		t.Error("a truncated body: no error")
	}
}

// TestSinkServers: both servers count the alerts of webhook messages sent
// with a Content-Length or chunked, over kept connections, and refuse
// what is not a message for a counted path.
func TestSinkServers(t *testing.T) {
	msg := func(instances ...string) string {
		var b strings.Builder
		b.WriteString(`{"receiver":"sink","status":"firing","alerts":[`)
		for i, in := range instances {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"status":"firing","labels":{"alertname":"Load","group":"g1","instance":%q}}`, in)
		}
		b.WriteString(`],"groupLabels":{"group":"g1"},"commonLabels":{},"version":"4"}`)
		return b.String()
	}
	for _, kind := range []string{SinkLean, SinkNetHTTP} {
		t.Run(kind, func(t *testing.T) {
			sink, url, stop, err := StartSink(kind)
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			c := sink.expect("sys", 5)
			client := &http.Client{Timeout: 10 * time.Second}
			post := func(path string, body io.Reader) int {
				t.Helper()
				resp, err := client.Post(url+path, "application/json", body)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				return resp.StatusCode
			}
			if code := post("/sys", strings.NewReader(msg("i1", "i2"))); code != http.StatusOK {
				t.Errorf("POST: %d", code)
			}
			// A body of unknown length goes chunked.
			if code := post("/sys", io.MultiReader(strings.NewReader(msg("i3", "i4")))); code != http.StatusOK {
				t.Errorf("chunked POST: %d", code)
			}
			if code := post("/other", strings.NewReader(msg("i9"))); code != http.StatusNotFound {
				t.Errorf("POST to a path not counted: %d, want 404", code)
			}
			if code := post("/sys", strings.NewReader(`{"alerts":[`)); code != http.StatusBadRequest {
				t.Errorf("POST of a truncated message: %d, want 400", code)
			}
			if code := post("/sys", strings.NewReader(msg("i4", "i5"))); code != http.StatusOK {
				t.Errorf("POST: %d", code)
			}
			select {
			case <-c.done:
			case <-time.After(10 * time.Second):
				t.Fatal("the counter did not reach 5 distinct alerts")
			}
			n, distinct, requests, _ := c.state()
			if n != 6 || distinct != 5 || requests != 3 {
				t.Errorf("counted %d alerts, %d distinct, %d requests; want 6, 5, 3 (the refused ones not counted)", n, distinct, requests)
			}
		})
	}
	t.Run("lean: not a webhook", func(t *testing.T) {
		_, url, stop, err := StartSink(SinkLean)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		client := &http.Client{Timeout: 10 * time.Second}
		resp, err := client.Get(url + "/sys")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !resp.Close {
			t.Errorf("GET: %d, close %v; want 400 and the connection closed", resp.StatusCode, resp.Close)
		}
	})
	if _, _, _, err := StartSink("nginx"); err == nil {
		t.Error("an unknown server kind: no error")
	}
}

package pagerdutytest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/alertd/alertd/internal/notifytest"
	"github.com/alertd/alertd/internal/pagerdutytest"
)

const key = "R0UT1NGKEYa1b2c3d4e5f6a7b8c9d0e1" // 32 characters

// TestServer posts events and checks the answers and what the server
// keeps: valid events as queued, contract violations refused and recorded.
func TestServer(t *testing.T) {
	s := pagerdutytest.Start(t)
	s.AcceptRoutingKey("short-key")
	s.Answer(notifytest.OK, notifytest.Transient)
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(contentType, body string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL(), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	trigger := `{"routing_key":"` + key + `","event_action":"trigger","dedup_key":"d1",` +
		`"payload":{"summary":"s","source":"src","severity":"error","custom_details":{"n":1}},` +
		`"links":[{"href":"h","text":"t"}]}`
	for _, tc := range []struct {
		name, contentType, body string
		want                    int
	}{
		{"trigger", "application/json", trigger, http.StatusAccepted},
		{"queued 500", "application/json", trigger, http.StatusInternalServerError},
		{"resolve with the accepted key", "application/json", `{"routing_key":"short-key","event_action":"resolve","dedup_key":"d1"}`, http.StatusAccepted},
		{"unknown field", "application/json", `{"routing_key":"` + key + `","event_action":"resolve","dedup_key":"d1","x":1}`, http.StatusBadRequest},
		{"no dedup_key", "application/json", `{"routing_key":"` + key + `","event_action":"resolve"}`, http.StatusBadRequest},
		{"not JSON", "text/plain", trigger, http.StatusBadRequest},
	} {
		if got := post(tc.contentType, tc.body); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}

	want := []pagerdutytest.Event{
		{
			RoutingKey: key, EventAction: "trigger", DedupKey: "d1",
			Payload: pagerdutytest.Payload{Summary: "s", Source: "src", Severity: "error", CustomDetails: map[string]any{"n": float64(1)}},
			Links:   []map[string]any{{"href": "h", "text": "t"}},
			Raw:     []byte(trigger),
		},
		{RoutingKey: "short-key", EventAction: "resolve", DedupKey: "d1", Raw: []byte(`{"routing_key":"short-key","event_action":"resolve","dedup_key":"d1"}`)},
	}
	got := s.Events()
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(pagerdutytest.Event{}, "Header", "ReceivedAt")); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	var rejected []string
	for _, r := range s.Rejections() {
		rejected = append(rejected, strings.Join(r.Errors, "; "))
	}
	wantRejected := []string{
		"event is not a valid event object",
		"'dedup_key' is missing",
		"Content-Type must be application/json, not \"text/plain\"",
	}
	if diff := cmp.Diff(wantRejected, rejected); diff != "" {
		t.Errorf("rejections (-want +got):\n%s", diff)
	}
}

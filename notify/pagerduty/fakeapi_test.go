package pagerduty_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/alertd/alertd/internal/notifytest"
	"github.com/alertd/alertd/notify/pagerduty"
)

// routingKey is a well-formed routing key (32 characters), which the fake
// Events API accepts.
const routingKey = "R0UT1NGKEYa1b2c3d4e5f6a7b8c9d0e1"

// wireEvent is an Events API v2 event as the fake decodes it: every key the
// API knows, no other.
type wireEvent struct {
	RoutingKey  string       `json:"routing_key"`
	EventAction string       `json:"event_action"`
	DedupKey    string       `json:"dedup_key,omitempty"`
	Client      string       `json:"client,omitempty"`
	ClientURL   string       `json:"client_url,omitempty"`
	Payload     *wirePayload `json:"payload,omitempty"`
	Images      []wireImage  `json:"images,omitempty"`
	Links       []wireLink   `json:"links,omitempty"`
}

type wirePayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Class         string         `json:"class,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

type wireImage struct {
	Src  string `json:"src"`
	Alt  string `json:"alt"`
	Href string `json:"href"`
}

type wireLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// violations lists what PagerDuty would refuse in ev; key is a routing key
// accepted besides 32-character ones.
func (ev *wireEvent) violations(key string) []string {
	var errs []string
	if len(ev.RoutingKey) != 32 && (key == "" || ev.RoutingKey != key) {
		errs = append(errs, "'routing_key' is invalid")
	}
	if !slices.Contains([]string{"trigger", "acknowledge", "resolve"}, ev.EventAction) {
		errs = append(errs, "'event_action' is invalid (must be trigger, acknowledge or resolve)")
	}
	switch {
	case ev.DedupKey == "":
		errs = append(errs, "'dedup_key' is missing")
	case len(ev.DedupKey) > 255:
		errs = append(errs, "'dedup_key' is longer than 255 characters")
	}
	if ev.EventAction != "trigger" {
		return errs
	}
	p := ev.Payload
	if p == nil {
		return append(errs, "'payload' is missing")
	}
	switch {
	case strings.TrimSpace(p.Summary) == "":
		errs = append(errs, "'payload.summary' is missing or blank")
	case utf8.RuneCountInString(p.Summary) > 1024:
		errs = append(errs, "'payload.summary' is longer than 1024 characters")
	}
	if strings.TrimSpace(p.Source) == "" {
		errs = append(errs, "'payload.source' is missing or blank")
	}
	if !slices.Contains([]string{"critical", "error", "warning", "info"}, p.Severity) {
		errs = append(errs, "'payload.severity' is invalid (must be critical, error, warning or info)")
	}
	return errs
}

// request is one event the fake accepted.
type request struct {
	header http.Header
	event  wireEvent
}

// eventsAPI is a fake PagerDuty Events API v2 at /v2/enqueue on 127.0.0.1:
// it refuses events that break the API's contract with 400 and PagerDuty's
// error object, and answers the others as told (202 by default).
type eventsAPI struct {
	srv *httptest.Server
	key string // accepted besides 32-character routing keys

	mu       sync.Mutex
	answers  []notifytest.Outcome
	accepted []request
}

func newEventsAPI(t *testing.T, key string) *eventsAPI {
	t.Helper()
	a := &eventsAPI{key: key}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

// url is the events endpoint.
func (a *eventsAPI) url() string { return a.srv.URL + "/v2/enqueue" }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

type apiAnswer struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

func (a *eventsAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, pagerduty.MaxEventSize+1))
	if err != nil {
		return
	}
	var errs []string
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		errs = append(errs, "Content-Type must be application/json, not "+strconv.Quote(ct))
	}
	var ev wireEvent
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	switch {
	case len(body) > pagerduty.MaxEventSize:
		errs = append(errs, "event is larger than 512000 bytes")
	case dec.Decode(&ev) != nil:
		errs = append(errs, "event is not a valid event object")
	default:
		errs = append(errs, ev.violations(a.key)...)
	}
	if len(errs) > 0 {
		writeJSON(w, http.StatusBadRequest, apiAnswer{Status: "invalid event", Message: "Event object is invalid", Errors: errs})
		return
	}

	a.mu.Lock()
	o := notifytest.OK
	if len(a.answers) > 0 {
		o, a.answers = a.answers[0], a.answers[1:]
	}
	if o == notifytest.OK {
		a.accepted = append(a.accepted, request{header: r.Header.Clone(), event: ev})
	}
	a.mu.Unlock()

	switch o {
	case notifytest.OK:
		writeJSON(w, http.StatusAccepted, apiAnswer{Status: "success", Message: "Event processed", DedupKey: ev.DedupKey})
	case notifytest.Transient:
		http.Error(w, "internal server error", http.StatusInternalServerError)
	case notifytest.RateLimited:
		w.Header().Set("Retry-After", strconv.Itoa(int(notifytest.RetryAfter.Seconds())))
		writeJSON(w, http.StatusTooManyRequests, apiAnswer{Status: "throttle event", Message: "Requests for this service are arriving too quickly.  Please retry later."})
	case notifytest.Permanent:
		writeJSON(w, http.StatusBadRequest, apiAnswer{Status: "invalid event", Message: notifytest.PermanentBody, Errors: []string{"refused"}})
	case notifytest.Hang:
		<-r.Context().Done()
	}
}

// answer queues the outcomes of the next events.
func (a *eventsAPI) answer(o ...notifytest.Outcome) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.answers = append(a.answers, o...)
}

// events returns the accepted events, in order.
func (a *eventsAPI) events() []request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.accepted)
}

package pagerdutytest

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
	"time"
	"unicode/utf8"

	"github.com/alertd/alertd/internal/notifytest"
)

// MaxEventSize is the largest event PagerDuty accepts, in bytes.
const MaxEventSize = 512000

// Event is one event the server accepted, as sent.
type Event struct {
	RoutingKey  string  `json:"routing_key"`
	EventAction string  `json:"event_action"`
	DedupKey    string  `json:"dedup_key"`
	Client      string  `json:"client"`
	ClientURL   string  `json:"client_url"`
	Payload     Payload `json:"payload"`
	// Links and Images are the objects of links and images, as sent.
	Links  []map[string]any `json:"links"`
	Images []map[string]any `json:"images"`

	// Header is the request's header.
	Header http.Header `json:"-"`
	// Raw is the request's body.
	Raw []byte `json:"-"`
	// ReceivedAt is when the server received it.
	ReceivedAt time.Time `json:"-"`
}

// Payload is an event's payload; zero when the event has none.
type Payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp"`
	Class         string         `json:"class"`
	Component     string         `json:"component"`
	Group         string         `json:"group"`
	CustomDetails map[string]any `json:"custom_details"`
}

// Rejection is one request the server refused with 400 because it breaks
// the API's contract.
type Rejection struct {
	// Errors are PagerDuty's reasons, as in its answer's "errors".
	Errors     []string
	Raw        []byte
	ReceivedAt time.Time
}

// wireEvent is an Events API v2 event as the server checks it: every key
// the API knows, no other.
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

// Server is a fake PagerDuty Events API v2 at /v2/enqueue on 127.0.0.1: it
// refuses events that break the API's contract with 400 and PagerDuty's
// error object (and records them), and answers the others as queued (202
// by default). It stops when the test ends.
type Server struct {
	srv *httptest.Server

	mu         sync.Mutex
	key        string // accepted besides 32-character routing keys
	answers    []notifytest.Outcome
	accepted   []Event
	rejections []Rejection
}

// Start starts a server; t's cleanup stops it.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the enqueue endpoint, http://127.0.0.1:port/v2/enqueue.
func (s *Server) URL() string { return s.srv.URL + "/v2/enqueue" }

// AcceptRoutingKey makes the server accept key as a routing key besides
// the well-formed (32-character) ones, such as a test's secret.
func (s *Server) AcceptRoutingKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key = key
}

// Answer queues the outcomes of the next valid events, one each; once the
// queue is empty every valid event is accepted (OK). Only events answered
// OK are kept.
func (s *Server) Answer(o ...notifytest.Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers = append(s.answers, o...)
}

// Events returns the accepted events, in order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.accepted)
}

// Rejections returns the requests refused for breaking the contract, in
// order.
func (s *Server) Rejections() []Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rejections)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// apiAnswer is PagerDuty's answer object.
type apiAnswer struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxEventSize+1))
	if err != nil {
		return
	}
	s.mu.Lock()
	key := s.key
	s.mu.Unlock()

	var errs []string
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		errs = append(errs, "Content-Type must be application/json, not "+strconv.Quote(ct))
	}
	var ev wireEvent
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	switch {
	case len(body) > MaxEventSize:
		errs = append(errs, "event is larger than 512000 bytes")
	case dec.Decode(&ev) != nil:
		errs = append(errs, "event is not a valid event object")
	default:
		errs = append(errs, ev.violations(key)...)
	}
	var event Event
	if len(errs) == 0 {
		if err := json.Unmarshal(body, &event); err != nil {
			errs = append(errs, "event is not a valid event object")
		}
	}
	if len(errs) > 0 {
		s.mu.Lock()
		s.rejections = append(s.rejections, Rejection{Errors: errs, Raw: body, ReceivedAt: now})
		s.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, apiAnswer{Status: "invalid event", Message: "Event object is invalid", Errors: errs})
		return
	}
	event.Header, event.Raw, event.ReceivedAt = r.Header.Clone(), body, now

	s.mu.Lock()
	o := notifytest.OK
	if len(s.answers) > 0 {
		o, s.answers = s.answers[0], s.answers[1:]
	}
	if o == notifytest.OK {
		s.accepted = append(s.accepted, event)
	}
	s.mu.Unlock()

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

package webhook_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	commoncfg "github.com/prometheus/common/config"

	"github.com/alertd/alertd/internal/notifytest"
	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/webhook"
)

func TestConformance(t *testing.T) {
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			notifytest.Run(t, notifytest.Harness{Start: func(t *testing.T) notifytest.Receiver {
				r := startReceiver(t)
				r.httpConfig = c.config
				return r
			}, NoTemplates: true})
		})
	}
}

// conformanceReceiver is a webhook endpoint at /hook/<secret> that checks the
// message's version and answers as told.
type conformanceReceiver struct {
	srv        *httptest.Server
	httpConfig commoncfg.HTTPClientConfig

	mu       sync.Mutex
	answers  []notifytest.Outcome
	received []notifytest.Received
}

func startReceiver(t *testing.T) *conformanceReceiver {
	r := &conformanceReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *conformanceReceiver) serve(w http.ResponseWriter, req *http.Request) {
	var m webhook.Message
	if err := json.NewDecoder(req.Body).Decode(&m); err != nil || m.Version != webhook.Version || req.URL.Path != "/hook/"+notifytest.Secret {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	o := notifytest.OK
	if len(r.answers) > 0 {
		o, r.answers = r.answers[0], r.answers[1:]
	}
	if o == notifytest.OK {
		var text strings.Builder
		for k, v := range m.GroupLabels {
			text.WriteString(k + "=" + v + " ")
		}
		r.received = append(r.received, notifytest.Received{Resolved: m.Status == notify.StatusResolved, Text: text.String()})
	}
	r.mu.Unlock()
	switch o {
	case notifytest.Transient:
		http.Error(w, "try later", http.StatusServiceUnavailable)
	case notifytest.RateLimited:
		w.Header().Set("Retry-After", strconv.Itoa(int(notifytest.RetryAfter.Seconds())))
		http.Error(w, "slow down", http.StatusTooManyRequests)
	case notifytest.Permanent:
		http.Error(w, notifytest.PermanentBody, http.StatusBadRequest)
	case notifytest.Hang:
		<-req.Context().Done()
	}
}

func (r *conformanceReceiver) Integration(t *testing.T, c notifytest.Config) notify.Integration {
	n, err := webhook.New(0, webhook.Config{URL: r.srv.URL + "/hook/" + c.Secret, Timeout: c.Timeout, SendResolved: true, HTTPConfig: r.httpConfig}, webhook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (r *conformanceReceiver) Answer(o ...notifytest.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers = append(r.answers, o...)
}

func (r *conformanceReceiver) Received() []notifytest.Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notifytest.Received(nil), r.received...)
}

func (*conformanceReceiver) RetryAfter() bool { return true }

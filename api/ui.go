package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/notify"
)

// NotificationHistory is the history of notifications sent
// (notify.HistoryLog).
type NotificationHistory interface {
	// List returns the entries held, the newest first.
	List() []notify.HistoryEntry
}

// registerUI adds alertd's own endpoints that the web UI reads, and the
// UI itself when Options.UI is set.
func (a *API) registerUI() {
	a.handleFunc("GET /api/v1/notifications", a.notifications)
	a.handleFunc("GET /api/v1/status/datasource", a.datasource)
	if a.o.UI != nil {
		// Exactly "/" and the assets: other paths stay 404.
		a.handle("GET /{$}", a.o.UI)
		a.handle("GET /static/", a.o.UI)
	}
}

// notificationJSON is one entry of GET /api/v1/notifications, documented
// in docs/api.md.
type notificationJSON struct {
	ID          uint64        `json:"id"`
	Time        time.Time     `json:"time"`
	Receiver    string        `json:"receiver"`
	Integration string        `json:"integration"`
	Index       int           `json:"index"`
	GroupKey    string        `json:"groupKey"`
	GroupLabels labels.Labels `json:"groupLabels"`
	Firing      int           `json:"firing"`
	Resolved    int           `json:"resolved"`
	Success     bool          `json:"success"`
	Error       string        `json:"error,omitempty"`
	Duration    float64       `json:"duration"`
}

// notifications lists the notification history, the newest first,
// optionally only one receiver's (receiver=NAME) and at most limit=N
// entries.
func (a *API) notifications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := -1
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeJSON(w, http.StatusBadRequest, response{Status: "error", ErrorType: "bad_data", Error: `invalid query parameter limit="` + s + `": must be a non-negative integer`})
			return
		}
		limit = n
	}
	receiver := q.Get("receiver")
	out := []notificationJSON{}
	if a.o.Notifications != nil {
		for _, e := range a.o.Notifications.List() {
			if limit >= 0 && len(out) >= limit {
				break
			}
			if receiver != "" && e.Receiver != receiver {
				continue
			}
			out = append(out, notificationJSON{
				ID:          e.Seq,
				Time:        e.Time,
				Receiver:    e.Receiver,
				Integration: e.Integration,
				Index:       e.Index,
				GroupKey:    e.GroupKey,
				GroupLabels: e.GroupLabels,
				Firing:      e.Firing,
				Resolved:    e.Resolved,
				Success:     e.Error == "",
				Error:       e.Error,
				Duration:    e.Duration.Seconds(),
			})
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, response{Status: "success", Data: map[string]any{"notifications": out}})
}

// datasource tells the UI where the datasource is, for its links to the
// datasource's graph page: the URL without credentials, query or
// fragment (Options.DatasourceURL strips them), "" if there is none.
func (a *API) datasource(w http.ResponseWriter, _ *http.Request) {
	u := ""
	if a.o.DatasourceURL != nil {
		u = a.o.DatasourceURL()
	}
	writeJSON(w, http.StatusOK, response{Status: "success", Data: map[string]any{"url": u}})
}

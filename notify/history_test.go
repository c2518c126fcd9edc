package notify_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/store"
)

// historyRecorder is a History that keeps what it gets.
type historyRecorder struct {
	mu      sync.Mutex
	entries []notify.HistoryEntry
}

func (h *historyRecorder) Record(e notify.HistoryEntry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.entries = append(h.entries, e)
}

func (h *historyRecorder) take() []notify.HistoryEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.entries
	h.entries = nil
	return out
}

// TestPipelineRecordsHistory checks that each integration's outcome is
// recorded once its retries are over, with what was sent, and that a
// flush that sends nothing records nothing.
func TestPipelineRecordsHistory(t *testing.T) {
	good := newRecorder(t, nil)
	bad := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no such channel", http.StatusBadRequest)
	})
	hist := &historyRecorder{}
	p := newPipeline(t, notify.Options{
		Receivers: map[string][]notify.Integration{receiverName: {hook(t, 0, good, true), hook(t, 1, bad, false)}},
		History:   hist,
	})
	if err := p.Notify(ctxFor(t), flush(t0, 4*time.Hour, alertsAt("a b-", t0)...)); err == nil {
		t.Fatal("the failing webhook's error is missing")
	}
	got := hist.take()
	groupLabels := labels.FromStrings("alertname", "Down")
	want := []notify.HistoryEntry{
		{Receiver: receiverName, Integration: "webhook", Index: 0, GroupKey: groupKey, GroupLabels: groupLabels, Firing: 1, Resolved: 1},
		{Receiver: receiverName, Integration: "webhook", Index: 1, GroupKey: groupKey, GroupLabels: groupLabels, Firing: 1, Resolved: 0,
			Error: "notify retry canceled due to unrecoverable error after 1 attempts: unexpected status code 400: no such channel"},
	}
	opts := []cmp.Option{
		cmpopts.IgnoreFields(notify.HistoryEntry{}, "Time", "Duration"),
		cmpopts.SortSlices(func(a, b notify.HistoryEntry) bool { return a.Index < b.Index }),
		cmp.Comparer(labels.Equal),
	}
	if diff := cmp.Diff(want, got, opts...); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	for _, e := range got {
		if e.Time.IsZero() || e.Duration < 0 || e.Duration > time.Minute {
			t.Errorf("entry %+v: time %v, duration %v", e, e.Time, e.Duration)
		}
	}

	// Deduplicated for the webhook that succeeded; retried for the other.
	now := t0.Add(groupInterval)
	_ = p.Notify(ctxFor(t), flush(now, 4*time.Hour, alertsAt("a", now)...))
	got = hist.take()
	if len(got) != 1 || got[0].Index != 1 || got[0].Error == "" {
		t.Errorf("after a deduplicated flush: %+v, want the failing webhook's only", got)
	}

	// Only resolved alerts: webhook[1] (send_resolved false) sends
	// nothing, so records nothing.
	now = now.Add(groupInterval)
	if err := p.Notify(ctxFor(t), flush(now, 4*time.Hour, resolved("a", now.Add(-time.Second)))); err != nil {
		t.Fatal(err)
	}
	got = hist.take()
	if len(got) != 1 || got[0].Index != 0 || got[0].Firing != 0 || got[0].Resolved != 1 || got[0].Error != "" {
		t.Errorf("after the resolved flush: %+v, want webhook[0]'s resolved notification only", got)
	}
}

func TestHistoryLogKeepsTheNewest(t *testing.T) {
	h, err := notify.NewHistoryLog(notify.HistoryLogOptions{Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.List(); len(got) != 0 {
		t.Fatalf("new history: %+v", got)
	}
	for i := range 10 {
		h.Record(notify.HistoryEntry{Receiver: "r", Firing: i})
	}
	var seqs []uint64
	for _, e := range h.List() {
		seqs = append(seqs, e.Seq)
		if e.Firing != int(e.Seq)-1 {
			t.Errorf("entry %d holds %+v", e.Seq, e)
		}
	}
	if diff := cmp.Diff([]uint64{10, 9, 8}, seqs); diff != "" {
		t.Errorf("seqs (-want +got):\n%s", diff)
	}
	if _, err := notify.NewHistoryLog(notify.HistoryLogOptions{Size: -1}); err == nil || !strings.Contains(err.Error(), "-1") {
		t.Errorf("negative size: %v", err)
	}
}

// TestHistoryLogPersists records, flushes and reopens: the entries and
// the numbering survive; a smaller size keeps the newest; an entry that
// cannot be read is dropped.
func TestHistoryLogPersists(t *testing.T) {
	dir := t.TempDir()
	open := func(size int) (*store.Store, *notify.HistoryLog) {
		t.Helper()
		s, err := store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		h, err := notify.NewHistoryLog(notify.HistoryLogOptions{Store: s, Size: size})
		if err != nil {
			_ = s.Close()
			t.Fatal(err)
		}
		return s, h
	}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	s, h := open(4)
	for i := range 6 {
		h.Record(notify.HistoryEntry{
			Time: at.Add(time.Duration(i) * time.Second), Receiver: "r", Integration: "webhook",
			GroupKey: groupKey, GroupLabels: labels.FromStrings("alertname", "Down"), Firing: 1, Duration: time.Millisecond,
		})
		if i == 2 {
			if err := h.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.Record(notify.HistoryEntry{Receiver: "r", Integration: "webhook", Error: "unexpected status code 500"})
	if err := h.Flush(); err != nil {
		t.Fatal(err)
	}
	want := h.List()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, h = open(4)
	opts := []cmp.Option{cmp.Comparer(labels.Equal), cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })}
	if diff := cmp.Diff(want, h.List(), opts...); diff != "" {
		t.Errorf("after a restart (-want +got):\n%s", diff)
	}
	h.Record(notify.HistoryEntry{Receiver: "r"})
	if got := h.List()[0].Seq; got != 8 {
		t.Errorf("next seq %d, want 8", got)
	}
	if err := h.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("notification_history", "junk", []byte("{")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, h = open(2)
	var seqs []uint64
	for _, e := range h.List() {
		seqs = append(seqs, e.Seq)
	}
	if diff := cmp.Diff([]uint64{8, 7}, seqs); diff != "" {
		t.Errorf("seqs with size 2 (-want +got):\n%s", diff)
	}
	keys := 0
	if err := s.ForEach("notification_history", func(string, []byte) error { keys++; return nil }); err != nil {
		t.Fatal(err)
	}
	if keys != 2 {
		t.Errorf("the store holds %d entries, want 2", keys)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestHistoryLogRunWritesOnStop checks that Run writes what was recorded
// when its context ends.
func TestHistoryLogRunWritesOnStop(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := notify.NewHistoryLog(notify.HistoryLogOptions{Store: s, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	h.Record(notify.HistoryEntry{Receiver: "r"})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of its context's end")
	}
	h2, err := notify.NewHistoryLog(notify.HistoryLogOptions{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	if got := h2.List(); len(got) != 1 || got[0].Receiver != "r" {
		t.Errorf("history after Run: %+v", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/store"
)

// History receives the outcome of every notification the pipeline sends
// (Options.History): one Record per integration per flush that had
// something to send, once its retries are over. Flushes that send nothing
// (everything muted, deduplicated, or only resolved alerts for an
// integration without send_resolved) record nothing. Record is called
// from the flushes, concurrently, and must not block.
type History interface {
	Record(e HistoryEntry)
}

// HistoryEntry is one notification's outcome.
type HistoryEntry struct {
	// Seq numbers the entries of a HistoryLog in the order recorded,
	// from 1, across restarts; the pipeline leaves it zero.
	Seq uint64 `json:"seq"`
	// Time is when the outcome was known, after the retries.
	Time time.Time `json:"time"`
	// Receiver, Integration (its kind: "webhook", "email", ...) and Index
	// (among the receiver's integrations of that kind) say where it went.
	Receiver    string `json:"receiver"`
	Integration string `json:"integration"`
	Index       int    `json:"index"`
	// GroupKey and GroupLabels name the aggregation group.
	GroupKey    string        `json:"group_key"`
	GroupLabels labels.Labels `json:"group_labels"`
	// Firing and Resolved count the alerts sent.
	Firing   int `json:"firing"`
	Resolved int `json:"resolved"`
	// Duration is from the first attempt to the outcome, retries and
	// waits between them included.
	Duration time.Duration `json:"duration_ns"`
	// Error is the failure, "" when the notification was sent. It is the
	// integration's error, which never holds a secret (secrets.go).
	Error string `json:"error,omitempty"`
}

// DefaultHistorySize is how many notifications a HistoryLog keeps when
// HistoryLogOptions.Size is zero: the last 1,000.
const DefaultHistorySize = 1000

// DefaultHistoryFlushInterval is how often a HistoryLog writes its new
// entries to the store when HistoryLogOptions.FlushInterval is zero.
const DefaultHistoryFlushInterval = time.Second

// historyBucket is the store bucket of the notification history. Its keys
// are slots, the entry's Seq modulo the size, in decimal; its values are
// the entries in JSON. A slot is overwritten when the history comes round
// to it, so the bucket never holds more than Size keys and never needs
// deleting from.
const historyBucket = "notification_history"

// HistoryLogOptions configure a HistoryLog. The zero value keeps
// DefaultHistorySize entries in memory only.
type HistoryLogOptions struct {
	// Store persists the history; nil keeps it in memory only.
	Store *store.Store
	// Size is how many entries are kept, the newest; zero means
	// DefaultHistorySize.
	Size int
	// FlushInterval is how often Run writes new entries to the store;
	// zero means DefaultHistoryFlushInterval. A crash loses the entries
	// of the last interval.
	FlushInterval time.Duration
	// Logger receives the errors of the writes; nil discards them.
	Logger *slog.Logger
}

// HistoryLog is a History that keeps the last Size notifications in
// memory and, with a store, persists them in the background, so that the
// history survives restarts. It outlives the pipelines a reload replaces.
// Its methods are safe for concurrent use.
type HistoryLog struct {
	store    *store.Store
	size     int
	interval time.Duration
	logger   *slog.Logger

	// flushMu serialises Flushes, so that an older batch never
	// overwrites a newer one's slots.
	flushMu sync.Mutex

	mu      sync.Mutex
	entries []HistoryEntry // oldest first, at most 2×size before trimming
	seq     uint64         // of the newest entry
	dirty   uint64         // entries with Seq > dirty are not yet stored
}

var _ History = (*HistoryLog)(nil)

// NewHistoryLog loads the history in o.Store, skipping entries it cannot
// read. It starts nothing.
func NewHistoryLog(o HistoryLogOptions) (*HistoryLog, error) {
	if o.Size < 0 {
		return nil, fmt.Errorf("negative notification history size %d", o.Size)
	}
	if o.Size == 0 {
		o.Size = DefaultHistorySize
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultHistoryFlushInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h := &HistoryLog{store: o.Store, size: o.Size, interval: o.FlushInterval, logger: o.Logger}
	if h.store == nil {
		return h, nil
	}
	rewrite := false
	err := h.store.ForEach(historyBucket, func(k string, v []byte) error {
		var e HistoryEntry
		if err := json.Unmarshal(v, &e); err != nil || e.Seq == 0 || k != h.slot(e.Seq) {
			// Written by something else, or with another size: the
			// slots are laid out again below.
			rewrite = true
			if err != nil || e.Seq == 0 {
				return nil
			}
		}
		h.entries = append(h.entries, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load notification history: %w", err)
	}
	slices.SortFunc(h.entries, func(a, b HistoryEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	h.entries = slices.CompactFunc(h.entries, func(a, b HistoryEntry) bool { return a.Seq == b.Seq })
	if n := len(h.entries); n > 0 {
		h.seq = h.entries[n-1].Seq
		if n > h.size {
			h.entries = slices.Clone(h.entries[n-h.size:])
		}
	}
	h.dirty = h.seq
	if rewrite {
		if err := h.rewrite(); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func (h *HistoryLog) slot(seq uint64) string {
	return strconv.FormatUint(seq%uint64(h.size), 10)
}

// rewrite replaces the bucket's content with the entries held.
func (h *HistoryLog) rewrite() error {
	var stale []string
	if err := h.store.ForEach(historyBucket, func(k string, _ []byte) error {
		stale = append(stale, k)
		return nil
	}); err != nil {
		return fmt.Errorf("notification history: %w", err)
	}
	puts := make(map[string][]byte, len(h.entries))
	for _, e := range h.entries {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("notification history: %w", err)
		}
		puts[h.slot(e.Seq)] = b
	}
	stale = slices.DeleteFunc(stale, func(k string) bool { _, ok := puts[k]; return ok })
	if err := h.store.Update(historyBucket, puts, stale); err != nil {
		return fmt.Errorf("notification history: %w", err)
	}
	return nil
}

// Record adds e, numbered, dropping the oldest entry beyond the size.
func (h *HistoryLog) Record(e HistoryEntry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	e.Seq = h.seq
	h.entries = append(h.entries, e)
	if len(h.entries) >= 2*h.size {
		// Trim in one go every size entries rather than on every
		// Record.
		h.entries = append(make([]HistoryEntry, 0, 2*h.size), h.entries[len(h.entries)-h.size:]...)
	}
}

// List returns the entries held, the newest first.
func (h *HistoryLog) List() []HistoryEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := min(len(h.entries), h.size)
	out := make([]HistoryEntry, n)
	for i := range n {
		out[i] = h.entries[len(h.entries)-1-i]
	}
	return out
}

// Run writes new entries to the store every FlushInterval until ctx ends,
// then once more, and returns nil. Without a store it only waits.
func (h *HistoryLog) Run(ctx context.Context) error {
	if h.store == nil {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := h.Flush(); err != nil {
				h.logger.Error("notification history write", "err", err)
			}
			return nil
		case <-t.C:
			if err := h.Flush(); err != nil {
				h.logger.Error("notification history write", "err", err)
			}
		}
	}
}

// Flush writes the entries recorded since the last Flush to the store, in
// one transaction. It is safe to call after Run has returned, to write
// what was recorded last, and does nothing without a store.
func (h *HistoryLog) Flush() error {
	if h.store == nil {
		return nil
	}
	h.flushMu.Lock()
	defer h.flushMu.Unlock()
	h.mu.Lock()
	var batch []HistoryEntry
	for i := len(h.entries) - 1; i >= 0 && h.entries[i].Seq > h.dirty && len(batch) < h.size; i-- {
		batch = append(batch, h.entries[i])
	}
	upTo := h.seq
	h.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	puts := make(map[string][]byte, len(batch))
	for _, e := range batch {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("notification history: %w", err)
		}
		puts[h.slot(e.Seq)] = b
	}
	if err := h.store.Update(historyBucket, puts, nil); err != nil {
		// The entries stay dirty, for the next Flush.
		return fmt.Errorf("notification history: %w", err)
	}
	h.mu.Lock()
	h.dirty = max(h.dirty, upTo)
	h.mu.Unlock()
	return nil
}

package notify

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/alertd/alertd/store"
)

// nflogBucket is the store bucket of the notification log.
const nflogBucket = "nflog"

// DefaultRetention is the default notification log retention,
// Alertmanager's --data.retention.
const DefaultRetention = 120 * time.Hour

// entry is the last successful notification of one integration for one
// group: Alertmanager's nflogpb.MeshEntry without the deprecated fields.
type entry struct {
	timestamp time.Time // the tick time of the flush that sent it
	expiresAt time.Time
	// The label hashes sent (or, for resolved alerts with send_resolved
	// false, that would have been sent), sorted.
	firing, resolved []uint64
	// state is what a Stateful integration asked to keep (Alertmanager's
	// receiver_data), nil for the others.
	state []byte
}

// stateKey is Alertmanager's nflog state key.
func stateKey(groupKey, receiver, integration string, idx int) string {
	return groupKey + ":" + receiver + "/" + integration + "/" + strconv.Itoa(idx)
}

// Entry encoding, version 1:
//
//	0x01 varint(timestamp ns) varint(expiresAt ns)
//	uvarint(len(firing)) firing as 8-byte little endian each
//	uvarint(len(resolved)) resolved likewise
//
// Version 2, written when the entry has a state, appends
// uvarint(len(state)) state. Both are read.
const (
	entryVersion1 = 1
	entryVersion2 = 2
)

func (e *entry) marshal() []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+3*binary.MaxVarintLen32+8*(len(e.firing)+len(e.resolved))+len(e.state))
	if e.state == nil {
		b = append(b, entryVersion1)
	} else {
		b = append(b, entryVersion2)
	}
	b = binary.AppendVarint(b, e.timestamp.UnixNano())
	b = binary.AppendVarint(b, e.expiresAt.UnixNano())
	for _, hs := range [][]uint64{e.firing, e.resolved} {
		b = binary.AppendUvarint(b, uint64(len(hs)))
		for _, h := range hs {
			b = binary.LittleEndian.AppendUint64(b, h)
		}
	}
	if e.state != nil {
		b = binary.AppendUvarint(b, uint64(len(e.state)))
		b = append(b, e.state...)
	}
	return b
}

var errBadEntry = errors.New("malformed notification log entry")

func unmarshalEntry(b []byte) (*entry, error) {
	if len(b) == 0 || (b[0] != entryVersion1 && b[0] != entryVersion2) {
		return nil, errBadEntry
	}
	version := b[0]
	b = b[1:]
	var e entry
	for _, t := range []*time.Time{&e.timestamp, &e.expiresAt} {
		ns, n := binary.Varint(b)
		if n <= 0 {
			return nil, errBadEntry
		}
		*t = time.Unix(0, ns)
		b = b[n:]
	}
	for _, hs := range []*[]uint64{&e.firing, &e.resolved} {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > math.MaxInt32 || uint64(len(b)-n) < 8*l {
			return nil, errBadEntry
		}
		b = b[n:]
		s := make([]uint64, l)
		for i := range s {
			s[i] = binary.LittleEndian.Uint64(b)
			b = b[8:]
		}
		*hs = s
	}
	if version == entryVersion2 {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) != l {
			return nil, errBadEntry
		}
		e.state = append([]byte{}, b[n:]...)
		b = b[len(b):]
	}
	if len(b) != 0 {
		return nil, errBadEntry
	}
	return &e, nil
}

// nflog is the notification log. With a store every read and write goes
// to the store; without one it lives in mem.
type nflog struct {
	store     *store.Store
	retention time.Duration

	mu  sync.Mutex // serialises log and gc; guards mem and dirty
	mem map[string]*entry

	// async: mem is the log and dirty the entries not yet in the store
	// (Options.LogFlushInterval).
	async bool
	dirty map[string]*entry
}

// openNflog checks the entries already in s and removes those that cannot
// be read (there is nothing better to do with them: an entry that cannot be
// read would otherwise block its group's dedup until it expired, and its
// expiry cannot be read either). It returns how many it removed.
func openNflog(s *store.Store, retention time.Duration, async bool) (*nflog, int, error) {
	l := &nflog{store: s, retention: retention, mem: map[string]*entry{}, async: async && s != nil, dirty: map[string]*entry{}}
	if s == nil {
		return l, 0, nil
	}
	var bad []string
	err := s.ForEach(nflogBucket, func(k string, v []byte) error {
		e, err := unmarshalEntry(v)
		if err != nil {
			bad = append(bad, k)
		} else if l.async {
			l.mem[k] = e
		}
		return nil
	})
	if err == nil && len(bad) > 0 {
		err = s.Update(nflogBucket, nil, bad)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("load notification log: %w", err)
	}
	return l, len(bad), nil
}

// get returns the entry of key, or nil if there is none or it cannot be
// read.
func (l *nflog) get(key string) (*entry, error) {
	if l.store == nil || l.async {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.mem[key], nil
	}
	b, err := l.store.Get(nflogBucket, key)
	if err != nil || b == nil {
		return nil, err
	}
	e, err := unmarshalEntry(b)
	if err != nil {
		// Written by something else since openNflog: as if absent, so
		// that the group is notified rather than never.
		return nil, nil
	}
	return e, nil
}

// log records a successful notification at now, as Alertmanager's
// nflog.Log: an existing entry with a later timestamp is kept; the entry
// expires after the retention or after 2×repeat if that is shorter.
func (l *nflog) log(key string, now time.Time, repeat time.Duration, h hashes, state []byte) error {
	expiresAt := now.Add(l.retention)
	if expiry := 2 * repeat; expiry > 0 && l.retention > expiry {
		expiresAt = now.Add(expiry)
	}
	e := &entry{timestamp: now, expiresAt: expiresAt, firing: h.firing, resolved: h.resolved, state: state}

	if l.store == nil || l.async {
		l.mu.Lock()
		defer l.mu.Unlock()
		if prev := l.mem[key]; prev != nil && prev.timestamp.After(now) {
			return nil
		}
		l.mem[key] = e
		if l.async {
			l.dirty[key] = e
		}
		return nil
	}
	// Concurrent flushes' entries share one transaction and one sync.
	keep := func(old []byte) bool {
		prev, err := unmarshalEntry(old)
		return err == nil && prev.timestamp.After(now)
	}
	if err := l.store.PutUnlessNewer(nflogBucket, key, e.marshal(), keep); err != nil {
		return fmt.Errorf("notification log: %w", err)
	}
	return nil
}

// persist writes the entries logged since the last call, in one
// transaction that keeps any newer entry already stored. Without async
// mode there is nothing to do.
func (l *nflog) persist() error {
	l.mu.Lock()
	if !l.async || len(l.dirty) == 0 {
		l.mu.Unlock()
		return nil
	}
	batch := l.dirty
	l.dirty = map[string]*entry{}
	l.mu.Unlock()
	puts := make(map[string][]byte, len(batch))
	for k, e := range batch {
		puts[k] = e.marshal()
	}
	if err := l.store.Update(nflogBucket, puts, nil); err != nil {
		// Keep them for the next try, unless logged again since.
		l.mu.Lock()
		for k, e := range batch {
			if _, again := l.dirty[k]; !again {
				l.dirty[k] = e
			}
		}
		l.mu.Unlock()
		return fmt.Errorf("notification log: %w", err)
	}
	return nil
}

// gc removes the entries that have expired at now and returns how many.
func (l *nflog) gc(now time.Time) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store == nil || l.async {
		n := 0
		var expired []string
		for k, e := range l.mem {
			if !e.expiresAt.After(now) {
				delete(l.mem, k)
				delete(l.dirty, k)
				expired = append(expired, k)
				n++
			}
		}
		if l.store != nil && len(expired) > 0 {
			if err := l.store.Update(nflogBucket, nil, expired); err != nil {
				return 0, fmt.Errorf("notification log gc: %w", err)
			}
		}
		return n, nil
	}
	// Collect first: a write inside ForEach's read transaction could
	// deadlock bbolt.
	var expired []string
	err := l.store.ForEach(nflogBucket, func(k string, v []byte) error {
		if e, err := unmarshalEntry(v); err != nil || !e.expiresAt.After(now) {
			expired = append(expired, k)
		}
		return nil
	})
	if err == nil && len(expired) > 0 {
		err = l.store.Update(nflogBucket, nil, expired)
	}
	if err != nil {
		return 0, fmt.Errorf("notification log gc: %w", err)
	}
	return len(expired), nil
}

package notify

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
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
	return e.appendTo(make([]byte, 0, 1+2*binary.MaxVarintLen64+3*binary.MaxVarintLen32+8*(len(e.firing)+len(e.resolved))+len(e.state)))
}

// appendTo appends the entry's encoding to b.
func (e *entry) appendTo(b []byte) []byte {
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

// nflog is the notification log. With a store and without async, every
// read and write goes to the store's nflogBucket; without a store it lives
// in mem.
//
// In async mode (Options.LogFlushInterval) mem is the log, and persist
// writes the entries logged since its last call to the store as records
// appended to nflogJournalBucket: an append rewrites only the journal's
// last pages, where writing them into nflogBucket, keyed by group, would
// rewrite nearly every page of it each time. fold writes the whole log
// into nflogBucket and drops the journal in one transaction: when the
// journal holds foldSlack records more than the log has entries, when gc
// removes entries, when the log is opened with a journal (after a crash),
// and at FlushLog. After a clean stop nflogBucket is thus the whole log
// and the journal is gone, as an alertd from before the journal expects.
type nflog struct {
	store     *store.Store
	retention time.Duration

	mu  sync.Mutex // serialises log and gc; guards mem and dirty
	mem map[string]*entry

	// async: mem is the log and dirty the entries not yet in the store,
	// in the order logged (Options.LogFlushInterval).
	async bool
	dirty []journalRecord

	// writeMu serialises persist, fold and gc's writes, so that journal
	// records are appended in the order logged. Under it: journaled
	// counts the journal's records, spare and buf are persist's buffers.
	writeMu   sync.Mutex
	journaled int
	spare     []journalRecord
	buf       []byte

	foldSlack int // foldSlack; tests lower it
}

// journalRecord is one entry logged under key.
type journalRecord struct {
	key string
	e   *entry
}

// nflogJournalBucket holds the async log's journal: each value is
// uvarint(len(key)) key and the entry's encoding, in the order logged.
const nflogJournalBucket = "nflog.journal"

// foldSlack is how many records more than the log's entries the journal
// may hold before it is folded into nflogBucket: with it the journal is
// never more than about twice the log, and a fold, which writes the whole
// log, comes at most once per that many notifications.
const foldSlack = 16384

func appendRecord(b []byte, key string, e *entry) []byte {
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	return e.appendTo(b)
}

func unmarshalRecord(b []byte) (string, *entry, error) {
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < l {
		return "", nil, errBadEntry
	}
	key := string(b[n : n+int(l)])
	e, err := unmarshalEntry(b[n+int(l):])
	return key, e, err
}

// openNflog reads the log in s: nflogBucket, then the journal a crash left
// (folded into nflogBucket at once). Entries it cannot read are removed
// (there is nothing better to do with them: an entry that cannot be read
// would otherwise block its group's dedup until it expired, and its expiry
// cannot be read either). It returns how many it removed.
func openNflog(s *store.Store, retention time.Duration, async bool) (*nflog, int, error) {
	l := &nflog{store: s, retention: retention, mem: map[string]*entry{}, async: async && s != nil, foldSlack: foldSlack}
	if s == nil {
		return l, 0, nil
	}
	var bad []string
	log := map[string]*entry{}
	err := s.ForEach(nflogBucket, func(k string, v []byte) error {
		e, err := unmarshalEntry(v)
		if err != nil {
			bad = append(bad, k)
		} else {
			log[k] = e
		}
		return nil
	})
	journal, badRecords := 0, 0
	if err == nil {
		err = s.ForEach(nflogJournalBucket, func(_ string, v []byte) error {
			journal++
			k, e, err := unmarshalRecord(v)
			if err != nil {
				badRecords++
				return nil
			}
			if prev := log[k]; prev == nil || !prev.timestamp.After(e.timestamp) {
				log[k] = e
			}
			return nil
		})
	}
	if err == nil && (len(bad) > 0 || journal > 0) {
		puts := map[string][]byte{}
		if journal > 0 {
			// The whole log: simpler than sorting out which entries the
			// journal changed, and this happens only after a crash.
			for k, e := range log {
				puts[k] = e.marshal()
			}
		}
		err = s.UpdateAndDrop(nflogBucket, puts, bad, nflogJournalBucket)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("load notification log: %w", err)
	}
	if l.async {
		l.mem = log
	}
	return l, len(bad) + badRecords, nil
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
			l.dirty = append(l.dirty, journalRecord{key, e})
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

// persist appends the entries logged since the last call to the journal,
// in one transaction, and folds the journal when it has grown foldSlack
// records past the log. Without async mode there is nothing to do.
func (l *nflog) persist() error {
	if !l.async {
		return nil
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.mu.Lock()
	batch := l.dirty
	l.dirty, l.spare = l.spare[:0], nil
	l.mu.Unlock()
	if len(batch) == 0 {
		l.spare = batch
		return nil
	}
	buf := l.buf[:0]
	ends := make([]int, len(batch))
	for i, r := range batch {
		buf = appendRecord(buf, r.key, r.e)
		ends[i] = len(buf)
	}
	values := make([][]byte, len(batch))
	for i, end := range ends {
		start := 0
		if i > 0 {
			start = ends[i-1]
		}
		values[i] = buf[start:end:end]
	}
	l.buf = buf
	if err := l.store.Append(nflogJournalBucket, values); err != nil {
		// Keep them for the next try, before those logged since.
		l.mu.Lock()
		l.dirty = append(batch, l.dirty...)
		l.mu.Unlock()
		return fmt.Errorf("notification log: %w", err)
	}
	l.journaled += len(batch)
	clear(batch)
	l.spare = batch[:0]
	l.mu.Lock()
	fold := l.journaled > len(l.mem)+l.foldSlack
	l.mu.Unlock()
	if fold {
		return l.fold(nil)
	}
	return nil
}

// fold writes the whole log into nflogBucket, deletes the keys removed
// from it, and drops the journal, in one transaction. l.writeMu is held.
func (l *nflog) fold(removed []string) error {
	l.mu.Lock()
	puts := make(map[string][]byte, len(l.mem))
	for k, e := range l.mem {
		puts[k] = e.marshal()
	}
	l.mu.Unlock()
	if err := l.store.UpdateAndDrop(nflogBucket, puts, removed, nflogJournalBucket); err != nil {
		return fmt.Errorf("notification log: %w", err)
	}
	l.journaled = 0
	return nil
}

// flush writes what persist writes and folds the journal: the log ends
// whole in nflogBucket.
func (l *nflog) flush() error {
	if err := l.persist(); err != nil || !l.async {
		return err
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if l.journaled == 0 {
		return nil
	}
	return l.fold(nil)
}

// gc removes the entries that have expired at now and returns how many.
func (l *nflog) gc(now time.Time) (int, error) {
	if l.store == nil || l.async {
		l.writeMu.Lock()
		defer l.writeMu.Unlock()
		l.mu.Lock()
		var expired []string
		for k, e := range l.mem {
			if !e.expiresAt.After(now) {
				delete(l.mem, k)
				expired = append(expired, k)
			}
		}
		if len(expired) > 0 {
			// A record not yet journaled must not bring its entry back.
			l.dirty = slices.DeleteFunc(l.dirty, func(r journalRecord) bool { return l.mem[r.key] != r.e })
		}
		l.mu.Unlock()
		if l.store != nil && len(expired) > 0 {
			if err := l.fold(expired); err != nil {
				return 0, fmt.Errorf("notification log gc: %w", err)
			}
		}
		return len(expired), nil
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

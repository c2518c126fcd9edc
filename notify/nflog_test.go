package notify

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alertd/alertd/store"
)

var cmpEntry = cmp.AllowUnexported(entry{})

func TestEntryRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    entry
	}{
		{"empty sets", entry{timestamp: time.Unix(1, 2), expiresAt: time.Unix(3, 4), firing: []uint64{}, resolved: []uint64{}}},
		{"hashes", entry{timestamp: time.Unix(1700000000, 0), expiresAt: time.Unix(1700028800, 0), firing: []uint64{0, 1, 1 << 63}, resolved: []uint64{42}}},
		{"before 1970", entry{timestamp: time.Unix(-5, 0), expiresAt: time.Unix(0, 0), firing: []uint64{}, resolved: []uint64{7}}},
		{"state", entry{timestamp: time.Unix(1, 0), expiresAt: time.Unix(2, 0), firing: []uint64{9}, resolved: []uint64{}, state: []byte(`{"ts":"1.2"}`)}},
		{"empty state", entry{timestamp: time.Unix(1, 0), expiresAt: time.Unix(2, 0), firing: []uint64{}, resolved: []uint64{}, state: []byte{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := unmarshalEntry(tc.e.marshal())
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&tc.e, got, cmpEntry); d != "" {
				t.Errorf("round trip (-want +got):\n%s", d)
			}
		})
	}
}

func FuzzUnmarshalEntry(f *testing.F) {
	f.Add((&entry{timestamp: time.Unix(1, 0), expiresAt: time.Unix(2, 0), firing: []uint64{1, 2}, resolved: []uint64{3}}).marshal())
	f.Add([]byte{})
	f.Add([]byte{entryVersion1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add((&entry{firing: []uint64{}, resolved: []uint64{}, state: []byte("x")}).marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := unmarshalEntry(b)
		if err != nil {
			return
		}
		// What decodes survives a round trip (the bytes may differ: a
		// varint has more than one encoding).
		again, err := unmarshalEntry(e.marshal())
		if err != nil {
			t.Fatalf("re-encoded entry of %x: %v", b, err)
		}
		if d := cmp.Diff(e, again, cmpEntry); d != "" {
			t.Errorf("round trip of %x (-read +again):\n%s", b, d)
		}
	})
}

func TestNflogLog(t *testing.T) {
	now := time.Unix(1700000000, 0)
	h := hashes{firing: []uint64{1}, resolved: []uint64{2}}
	for _, tc := range []struct {
		name          string
		retention     time.Duration
		repeat        time.Duration
		wantExpiresIn time.Duration
	}{
		{"2×repeat when shorter", DefaultRetention, 4 * time.Hour, 8 * time.Hour},
		{"retention when shorter", DefaultRetention, 100 * time.Hour, DefaultRetention},
		{"retention when no repeat", time.Hour, 0, time.Hour},
	} {
		for _, backend := range []string{"memory", "bbolt", "bbolt-async"} {
			t.Run(tc.name+"/nflog="+backend, func(t *testing.T) {
				var s *store.Store
				if backend != "memory" {
					s = openStore(t)
				}
				l, _, err := openNflog(s, tc.retention, backend == "bbolt-async")
				if err != nil {
					t.Fatal(err)
				}
				if err := l.log("k", now, tc.repeat, h, nil); err != nil {
					t.Fatal(err)
				}
				got, err := l.get("k")
				if err != nil {
					t.Fatal(err)
				}
				want := &entry{timestamp: now, expiresAt: now.Add(tc.wantExpiresIn), firing: h.firing, resolved: h.resolved}
				if d := cmp.Diff(want, got, cmpEntry); d != "" {
					t.Errorf("entry (-want +got):\n%s", d)
				}

				// An older write does not replace a newer entry.
				if err := l.log("k", now.Add(-time.Minute), tc.repeat, hashes{}, nil); err != nil {
					t.Fatal(err)
				}
				if got, _ := l.get("k"); !got.timestamp.Equal(now) {
					t.Errorf("an older entry replaced the newer one: %v", got.timestamp)
				}

				// GC removes the entry when it expires, not before.
				if n, err := l.gc(want.expiresAt.Add(-time.Nanosecond)); err != nil || n != 0 {
					t.Errorf("gc before expiry: %d %v", n, err)
				}
				if n, err := l.gc(want.expiresAt); err != nil || n != 1 {
					t.Errorf("gc at expiry: %d %v", n, err)
				}
				if got, err := l.get("k"); got != nil || err != nil {
					t.Errorf("after gc: %v %v", got, err)
				}
			})
		}
	}
}

func TestOpenNflogRemovesUnreadableEntries(t *testing.T) {
	s := openStore(t)
	good := (&entry{timestamp: time.Unix(1, 0), expiresAt: time.Unix(2, 0)}).marshal()
	if err := s.Update(nflogBucket, map[string][]byte{"good": good, "bad": []byte("{json?}")}, nil); err != nil {
		t.Fatal(err)
	}
	l, removed, err := openNflog(s, DefaultRetention, false)
	if err != nil || removed != 1 {
		t.Fatalf("open: removed %d, %v", removed, err)
	}
	if e, _ := l.get("good"); e == nil {
		t.Error("the readable entry is gone")
	}
	if b, _ := s.Get(nflogBucket, "bad"); b != nil {
		t.Error("the unreadable entry is still there")
	}
}

func TestRunCollectsGarbageEvery15Minutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		// Expires after 2×5m = 10m: still there at the first GC if it was
		// written 6m in, gone at the first GC if written at the start.
		if err := p.nflog.log("early", now, 5*time.Minute, hashes{}, nil); err != nil {
			t.Fatal(err)
		}
		if err := p.nflog.log("late", now.Add(6*time.Minute), 5*time.Minute, hashes{}, nil); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- p.Run(ctx) }()

		time.Sleep(GCInterval)
		synctest.Wait()
		if e, _ := p.nflog.get("early"); e != nil {
			t.Error("expired entry survived the first GC")
		}
		if e, _ := p.nflog.get("late"); e == nil {
			t.Error("unexpired entry removed by the first GC")
		}
		time.Sleep(GCInterval)
		synctest.Wait()
		if e, _ := p.nflog.get("late"); e != nil {
			t.Error("expired entry survived the second GC")
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestNflogAsyncPersists: in async mode entries reach the store only when
// persisted, in one transaction, and a log opened on the store then has
// them.
func TestNflogAsyncPersists(t *testing.T) {
	s := openStore(t)
	l, _, err := openNflog(s, DefaultRetention, true)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	for _, k := range []string{"a", "b"} {
		if err := l.log(k, now, time.Hour, hashes{firing: []uint64{1}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := s.Get(nflogBucket, "a"); b != nil {
		t.Error("written before persist")
	}
	if e, _ := l.get("a"); e == nil {
		t.Error("the log does not have its own entry")
	}
	if err := l.persist(); err != nil {
		t.Fatal(err)
	}
	reopened, _, err := openNflog(s, DefaultRetention, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		if e, _ := reopened.get(k); e == nil || !e.timestamp.Equal(now) {
			t.Errorf("entry %s after reopening: %+v", k, e)
		}
	}
	// GC removes from memory and store.
	if n, err := reopened.gc(now.Add(3 * time.Hour)); err != nil || n != 2 {
		t.Errorf("gc: %d %v", n, err)
	}
	if b, _ := s.Get(nflogBucket, "a"); b != nil {
		t.Error("gc left the entry in the store")
	}
}

// bucketKeys returns the keys of a store bucket.
func bucketKeys(t *testing.T, s *store.Store, bucket string) []string {
	t.Helper()
	var keys []string
	if err := s.ForEach(bucket, func(k string, _ []byte) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestNflogJournal: in async mode persist appends to the journal and
// leaves the log's bucket alone; a log opened after a crash reads the
// journal (the newest entry of a key wins) and folds it into the bucket;
// the journal is folded when it grows foldSlack records past the log, when
// gc removes entries and at flush; an entry gc removed before it was
// persisted does not come back.
func TestNflogJournal(t *testing.T) {
	s := openStore(t)
	l, _, err := openNflog(s, DefaultRetention, true)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	logAt := func(l *nflog, k string, at time.Time, repeat time.Duration) {
		t.Helper()
		if err := l.log(k, at, repeat, hashes{firing: []uint64{uint64(at.Unix())}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	persist := func(l *nflog) {
		t.Helper()
		if err := l.persist(); err != nil {
			t.Fatal(err)
		}
	}
	logAt(l, "a", now, time.Hour)
	logAt(l, "b", now, time.Hour)
	persist(l)
	logAt(l, "a", now.Add(time.Minute), time.Hour)
	persist(l)
	if got := bucketKeys(t, s, nflogBucket); len(got) != 0 {
		t.Errorf("persist wrote the log's bucket: %q", got)
	}
	if got := len(bucketKeys(t, s, nflogJournalBucket)); got != 3 {
		t.Errorf("journal records: %d, want 3", got)
	}

	// A crash: the next log reads the journal and folds it.
	l, removed, err := openNflog(s, DefaultRetention, true)
	if err != nil || removed != 0 {
		t.Fatalf("reopen: removed %d, %v", removed, err)
	}
	if e, _ := l.get("a"); e == nil || !e.timestamp.Equal(now.Add(time.Minute)) {
		t.Errorf("a after the crash: %+v, want the newest entry", e)
	}
	if e, _ := l.get("b"); e == nil {
		t.Error("b lost in the crash")
	}
	if got := bucketKeys(t, s, nflogBucket); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("log bucket after reopening: %q", got)
	}
	if got := bucketKeys(t, s, nflogJournalBucket); len(got) != 0 {
		t.Errorf("journal after reopening: %d records", len(got))
	}

	// The journal is folded once it has foldSlack (here 0) records past
	// the log's 3 entries.
	l.foldSlack = 0
	logAt(l, "c", now, time.Hour)
	logAt(l, "c", now.Add(time.Second), time.Hour)
	logAt(l, "c", now.Add(2*time.Second), time.Hour)
	persist(l)
	if got := len(bucketKeys(t, s, nflogJournalBucket)); got != 3 {
		t.Errorf("journal records before the fold: %d, want 3", got)
	}
	logAt(l, "a", now.Add(2*time.Minute), time.Hour)
	persist(l)
	if got := bucketKeys(t, s, nflogJournalBucket); len(got) != 0 {
		t.Errorf("journal after 4 records, past 3 entries: %d records", len(got))
	}
	if got := bucketKeys(t, s, nflogBucket); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("log bucket after the fold: %q", got)
	}

	// gc folds, without the expired entries, persisted or not.
	l.foldSlack = foldSlack
	logAt(l, "d", now, time.Minute)
	persist(l)
	logAt(l, "e", now, time.Minute)
	if n, err := l.gc(now.Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("gc: %d, %v", n, err)
	}
	persist(l)
	if got := bucketKeys(t, s, nflogBucket); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("log bucket after gc: %q", got)
	}
	if got := bucketKeys(t, s, nflogJournalBucket); len(got) != 0 {
		t.Errorf("journal after gc: %d records, want none (e was removed before it was persisted)", len(got))
	}

	// flush folds.
	logAt(l, "f", now, time.Hour)
	if err := l.flush(); err != nil {
		t.Fatal(err)
	}
	if got := bucketKeys(t, s, nflogBucket); !slices.Equal(got, []string{"a", "b", "c", "f"}) {
		t.Errorf("log bucket after flush: %q", got)
	}
	if got := bucketKeys(t, s, nflogJournalBucket); len(got) != 0 {
		t.Errorf("journal after flush: %d records", len(got))
	}
}

// TestOpenNflogJournalBadRecords: a journal record that cannot be read is
// counted as removed and dropped with the journal; a log that writes
// through (not async) reads what a journal left.
func TestOpenNflogJournalBadRecords(t *testing.T) {
	s := openStore(t)
	good := appendRecord(nil, "a", &entry{timestamp: time.Unix(1, 0), expiresAt: time.Unix(2, 0)})
	if err := s.Append(nflogJournalBucket, [][]byte{good, []byte("\x05ab")}); err != nil {
		t.Fatal(err)
	}
	l, removed, err := openNflog(s, DefaultRetention, false)
	if err != nil || removed != 1 {
		t.Fatalf("open: removed %d, %v", removed, err)
	}
	if e, _ := l.get("a"); e == nil {
		t.Error("the readable record's entry is not in the log")
	}
	if got := bucketKeys(t, s, nflogJournalBucket); len(got) != 0 {
		t.Errorf("journal after opening: %d records", len(got))
	}
}

package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FileName is the database file inside the storage directory.
const FileName = "alertd.db"

// SchemaVersion is the version of the store's format this alertd writes
// and reads. A file records its version in the "meta" bucket; Open
// refuses a file of a newer version. Version 1 is the buckets of the
// packages using the store (silences, the notification log), each in its
// own key/value format, and "meta". A change an older alertd would
// misread needs a new version; a new bucket, which it ignores, does not.
const SchemaVersion = 1

// DocsRef is where the operator documentation explains what to do about a
// corrupt store; every ErrCorrupt error names it.
const DocsRef = "docs/operations.md#the-store-corruption-and-recovery"

// ErrCorrupt is wrapped by the error of Open when the file is damaged:
// truncated, overwritten, or not a bbolt database at all. Open leaves
// such a file untouched.
var ErrCorrupt = errors.New("the store is corrupt")

// SchemaError is the error of Open for a file written by a newer alertd,
// in a schema version this one does not know. Open leaves the file
// untouched.
type SchemaError struct {
	Path      string
	Version   int // the file's
	Supported int // SchemaVersion
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("open %s: schema version %d is newer than this alertd supports (%d): upgrade alertd or restore a backup",
		e.Path, e.Version, e.Supported)
}

const (
	// metaBucket holds the store's own metadata; callers cannot write it.
	metaBucket = "meta"
	// schemaKey in metaBucket holds the schema version in decimal.
	schemaKey = "schema_version"
	// lockTimeout is how long Open waits for another process's lock.
	lockTimeout = time.Second
)

// Store is an open database. It is safe for concurrent use.
type Store struct {
	db      *bolt.DB
	version int
}

// Open opens the database in dir, creating the directory and a new
// database if there is none. A second process opening the same directory
// fails after a second instead of waiting.
//
// An existing file is checked before anything is written to it (see
// doc.go): a damaged one gives an error wrapping ErrCorrupt, one of a
// newer schema a *SchemaError, and in both cases the file is left as it
// was. A file from before schema versions is version 1 and is marked so.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("storage path: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := create(dir, path); err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	version, err := verify(path)
	if err != nil {
		return nil, err
	}
	db, _, err := openBolt(path, false)
	if err != nil {
		return nil, openError(path, err)
	}
	if version == 0 {
		// A file from before schema versions: its buckets are version 1's.
		if err := db.Update(func(tx *bolt.Tx) error { return putVersion(tx, SchemaVersion) }); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("open %s: record the schema version: %w", path, err)
		}
	}
	// Concurrent batched writers (the notification log of many flushes)
	// share a transaction; 1ms of waiting for company is plenty on
	// loopback-speed workloads and keeps each writer's latency low.
	db.MaxBatchDelay = time.Millisecond
	return &Store{db: db, version: SchemaVersion}, nil
}

// create makes a new database at path atomically: it is written and
// synced under a temporary name, then linked into place, so that path
// never names a half-written file. (This is why Open can treat an empty
// alertd.db as damage rather than as an interrupted creation.)
func create(dir, path string) error {
	f, err := os.CreateTemp(dir, FileName+".new-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }() // after the link, only the extra name
	if err := f.Close(); err != nil {
		return err
	}
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error { return putVersion(tx, SchemaVersion) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // another process created it first: use that one
		}
		// A filesystem without hard links: rename, which would replace a
		// file created since the Stat above, so look once more.
		if _, serr := os.Stat(path); serr == nil {
			return nil
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// syncDir makes a new name in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func putVersion(tx *bolt.Tx, v int) error {
	b, err := tx.CreateBucketIfNotExists([]byte(metaBucket))
	if err != nil {
		return err
	}
	return b.Put([]byte(schemaKey), []byte(strconv.Itoa(v)))
}

// verify checks the existing file at path without writing to it and
// returns its schema version (0 for a file from before versions).
func verify(path string) (version int, err error) {
	// A memory fault inside bbolt (reading a mapped page past the end of
	// the file) panics instead of killing the process.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))

	// Without the lock, check only that bbolt's own open will find its
	// meta pages inside the file.
	if err := checkHeader(path); err != nil {
		return 0, openError(path, err)
	}
	db, file, err := openBolt(path, true)
	if err != nil {
		return 0, openError(path, err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = corrupt(path, fmt.Errorf("bbolt: %v", r))
		}
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("open %s: %w", path, cerr)
		}
	}()
	info, err := file.Stat()
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	if err := checkFile(file, info.Size()); err != nil {
		return 0, openError(path, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		if err := txCheck(tx); err != nil {
			return err
		}
		version, err = readVersion(tx)
		return err
	})
	if err != nil {
		return 0, openError(path, err)
	}
	if version > SchemaVersion {
		return 0, &SchemaError{Path: path, Version: version, Supported: SchemaVersion}
	}
	return version, nil
}

func checkHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	_, _, err = readMetas(f, info.Size())
	return err
}

// openBolt opens path with bbolt, never creating it, and returns bbolt's
// file too. A panic or memory fault inside bbolt becomes an error.
func openBolt(path string, readOnly bool) (db *bolt.DB, file *os.File, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if file != nil {
				_ = file.Close() // releases the lock; bbolt's map of it stays
			}
			db, file, err = nil, nil, damagef("bbolt: %v", r)
		}
	}()
	// bbolt's defaults are the safe ones and are kept: every commit is
	// fsynced (NoSync), so is the file's growth (NoGrowSync), and the
	// freelist is written with each commit (NoFreelistSync).
	db, err = bolt.Open(path, 0o600, &bolt.Options{
		Timeout:  lockTimeout,
		ReadOnly: readOnly,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag&^os.O_CREATE, perm)
			if err == nil {
				file = f
			}
			return f, err
		},
	})
	return db, file, err
}

// txCheck runs bbolt's consistency check on tx.
func txCheck(tx *bolt.Tx) error {
	var first error
	n := 0
	for err := range tx.Check() {
		if first == nil {
			first = err
		}
		n++
	}
	switch n {
	case 0:
		return nil
	case 1:
		return damagef("%v", first)
	default:
		return damagef("%v, and %d more problems", first, n-1)
	}
}

func readVersion(tx *bolt.Tx) (int, error) {
	b := tx.Bucket([]byte(metaBucket))
	if b == nil {
		return 0, nil
	}
	raw := b.Get([]byte(schemaKey))
	if raw == nil {
		return 0, nil
	}
	v, err := strconv.Atoi(string(raw))
	if err != nil || v < 1 {
		return 0, damagef("the schema version %q is not a positive number", raw)
	}
	return v, nil
}

// openError describes err, from opening or checking path.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("open %s: another process holds it", path)
	case isDamage(err):
		return corrupt(path, err)
	default:
		return fmt.Errorf("open %s: %w", path, err)
	}
}

func corrupt(path string, detail error) error {
	return fmt.Errorf("open %s: %w (%w): alertd will not start on it; see %s", path, ErrCorrupt, detail, DocsRef)
}

// SchemaVersion returns the schema version of the open file, which Open
// has made SchemaVersion.
func (s *Store) SchemaVersion() int { return s.version }

// Backup writes a consistent copy of the whole database to w: a complete
// alertd.db as of one moment, which Open accepts. Unlike copying the file,
// it is safe while alertd runs; writers carry on meanwhile, except that
// one which has to grow the file waits for the backup to finish.
func (s *Store) Backup(w io.Writer) error {
	err := s.db.View(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// Close closes the database. It is safe to call twice.
func (s *Store) Close() error {
	if s == nil || s.db == nil {
		return nil
	}
	return s.db.Close()
}

// reserved rejects writes to the store's own bucket.
func reserved(bucket string) error {
	if bucket == metaBucket {
		return fmt.Errorf("bucket %q is reserved for the store's metadata", bucket)
	}
	return nil
}

// Update applies puts and deletes to bucket in one transaction: all or
// nothing, and on disk (fsynced) when it returns nil.
func (s *Store) Update(bucket string, puts map[string][]byte, deletes []string) error {
	if err := reserved(bucket); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return update(tx, bucket, puts, deletes) })
}

func update(tx *bolt.Tx, bucket string, puts map[string][]byte, deletes []string) error {
	b, err := tx.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return err
	}
	for k, v := range puts {
		if err := b.Put([]byte(k), v); err != nil {
			return err
		}
	}
	for _, k := range deletes {
		if err := b.Delete([]byte(k)); err != nil {
			return err
		}
	}
	return nil
}

// Append stores values in bucket under the bucket's next sequence
// numbers, in order, in one transaction: all or nothing, and on disk when
// it returns nil. The keys are the sequence numbers as 8 bytes big-endian,
// so ForEach reads the values back in the order appended. The bucket's
// pages are filled for appending, so that an append rewrites only the last
// ones, whatever the bucket's size: a journal.
func (s *Store) Append(bucket string, values [][]byte) error {
	if err := reserved(bucket); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		b.FillPercent = 1
		var key [8]byte
		for _, v := range values {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			binary.BigEndian.PutUint64(key[:], seq)
			if err := b.Put(key[:], v); err != nil {
				return err
			}
		}
		return nil
	})
}

// UpdateAndDrop is Update of bucket and the removal of the whole bucket
// drop (a journal Update folds in), in one transaction. A missing drop is
// not an error.
func (s *Store) UpdateAndDrop(bucket string, puts map[string][]byte, deletes []string, drop string) error {
	if err := reserved(bucket); err != nil {
		return err
	}
	if err := reserved(drop); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := update(tx, bucket, puts, deletes); err != nil {
			return err
		}
		if err := tx.DeleteBucket([]byte(drop)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return err
		}
		return nil
	})
}

// PutUnlessNewer stores value under key unless keep(old) says the value
// already stored must stay. It runs in bbolt's batch: concurrent calls
// share one transaction and one disk sync, so many writers cost little
// more than one; each call returns once that transaction is on disk.
// keep may run more than once.
func (s *Store) PutUnlessNewer(bucket, key string, value []byte, keep func(old []byte) bool) error {
	if err := reserved(bucket); err != nil {
		return err
	}
	return s.db.Batch(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		if old := b.Get([]byte(key)); old != nil && keep(old) {
			return nil
		}
		return b.Put([]byte(key), value)
	})
}

// Put stores one value, durably when it returns. Concurrent Puts (and
// PutUnlessNewers) share one transaction and one fsync.
func (s *Store) Put(bucket, key string, value []byte) error {
	return s.PutUnlessNewer(bucket, key, value, func([]byte) bool { return false })
}

// Delete removes one key; a missing key is not an error.
func (s *Store) Delete(bucket, key string) error {
	return s.Update(bucket, nil, []string{key})
}

// Get returns the value of key, or nil if there is none.
func (s *Store) Get(bucket, key string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(key)); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}

// ForEach calls fn for every pair of bucket in key order. The value is
// only valid during the call.
func (s *Store) ForEach(bucket string, fn func(key string, value []byte) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error { return fn(string(k), v) })
	})
}

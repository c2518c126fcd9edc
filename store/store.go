package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FileName is the database file inside the storage directory.
const FileName = "alertd.db"

// Store is an open database. It is safe for concurrent use.
type Store struct {
	db *bolt.DB
}

// Open opens (creating if needed) the database in dir. A second process
// opening the same directory fails after a second instead of waiting.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("storage path: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s: another process holds it", path)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Concurrent batched writers (the notification log of many flushes)
	// share a transaction; 1ms of waiting for company is plenty on
	// loopback-speed workloads and keeps each writer's latency low.
	db.MaxBatchDelay = time.Millisecond
	return &Store{db: db}, nil
}

// Close closes the database. It is safe to call twice.
func (s *Store) Close() error {
	if s == nil || s.db == nil {
		return nil
	}
	return s.db.Close()
}

// Update applies puts and deletes to bucket in one transaction: all or
// nothing, durable when it returns.
func (s *Store) Update(bucket string, puts map[string][]byte, deletes []string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
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
	})
}

// PutUnlessNewer stores value under key unless keep(old) says the value
// already stored must stay. It runs in bbolt's batch: concurrent calls
// share one transaction and one disk sync, so many writers cost little
// more than one. keep may run more than once.
func (s *Store) PutUnlessNewer(bucket, key string, value []byte, keep func(old []byte) bool) error {
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

// Put stores one value.
func (s *Store) Put(bucket, key string, value []byte) error {
	return s.Update(bucket, map[string][]byte{key: value}, nil)
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

// Package store is alertd's embedded persistence: named buckets of
// key/value pairs in one bbolt file under --storage.path. Silences and the
// notification log keep their state here so that a restart loses nothing.
//
// It imports nothing of alertd's own.
package store

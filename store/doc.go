// Package store is alertd's embedded persistence: named buckets of
// key/value pairs in one bbolt file, alertd.db, under --storage.path.
// Silences, the notification log and alert state keep their state here so
// that a restart loses nothing.
//
// Writes are atomic and durable. Every Update, Put, Delete and
// PutUnlessNewer is one bbolt transaction (PutUnlessNewer's shared with
// concurrent callers in one batch): all of it is applied or none, and it
// is fsynced before the call returns. Open keeps bbolt's safe defaults
// (NoSync, NoGrowSync and NoFreelistSync all false) and a test holds it
// to that. A new file is created under a temporary name, synced, and
// linked into place, so alertd.db never names a half-created file.
//
// The schema is versioned: the "meta" bucket holds schema_version
// (SchemaVersion, 1 so far). Open writes it into a new file and into a file
// from before versions, whose buckets are version 1's; it refuses a file
// of a newer version with a *SchemaError. Callers cannot write "meta".
//
// Open never silently starts empty on a damaged file. Before it writes
// anything it checks the file, under bbolt's shared lock: its own walk
// of the file read with ReadAt (meta pages, that the file holds every page
// below the high-water mark, the freelist, every page of every bucket in
// range, of the right type, referenced once, elements within their page,
// keys in order), and only then bbolt's tx.Check. The walk comes first
// because bbolt reads through a memory map without bounds checks: on a
// truncated or overwritten file it panics, reads past the map (a fatal
// fault, not a panic) or recurses forever. Panics and memory faults in
// Open are recovered as well. A damaged file gives an error wrapping
// ErrCorrupt that names the file, the problem and DocsRef (the recovery
// steps in docs/operations.md), and the file is left exactly as it was.
// An empty (zero-length) file counts as damaged: alertd never leaves one,
// so it is a store that was lost, not one being created.
//
// What the check cannot see: bbolt keeps no checksums of data, so damage
// inside a stored value of a well-formed page goes unnoticed, and one
// invalid meta page is what a crash during a commit leaves, so bbolt (and
// Open) falls back to the other one, the previous commit.
//
// Backup writes a consistent copy while alertd runs; copying alertd.db
// with cp is not safe then.
//
// It imports nothing of alertd's own.
package store

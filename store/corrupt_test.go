package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
)

// fixture is the bytes of a store file with data in two buckets, big
// enough to have branch pages, an overflow value, a freelist and free pages.
type fixture struct {
	data     []byte
	pageSize int
	hwm      int               // bytes below the high-water mark: what the meta page says the file holds
	pages    map[string][]page // in-use pages by type: leaf, branch, freelist
}

type page struct{ id, count int }

var (
	fixtureOnce sync.Once
	fixtureVal  fixture
	fixtureErr  error
)

func getFixture(t *testing.T) fixture {
	t.Helper()
	fixtureOnce.Do(func() { fixtureVal, fixtureErr = buildFixture() })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureVal
}

func buildFixture() (fixture, error) {
	dir, err := os.MkdirTemp("", "store-fixture-")
	if err != nil {
		return fixture{}, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if err := writeSample(dir); err != nil {
		return fixture{}, err
	}
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		return fixture{}, err
	}
	fx := fixture{data: data, pages: map[string][]page{}}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		return fixture{}, err
	}
	defer func() { _ = db.Close() }()
	fx.pageSize = db.Info().PageSize
	err = db.View(func(tx *bolt.Tx) error {
		fx.hwm = int(tx.Size())
		for id := 2; id < fx.hwm/fx.pageSize; id++ {
			info, err := tx.Page(id)
			if err != nil {
				return err
			}
			if info.Type != "free" {
				fx.pages[info.Type] = append(fx.pages[info.Type], page{id: id, count: info.Count})
				id += info.OverflowCount // the rest of the value, not pages of their own
			} else {
				fx.pages["free"] = append(fx.pages["free"], page{id: id})
			}
		}
		return nil
	})
	if err != nil {
		return fixture{}, err
	}
	for _, typ := range []string{"leaf", "branch", "freelist", "free"} {
		if len(fx.pages[typ]) == 0 {
			return fixture{}, fmt.Errorf("fixture has no %s page: %v", typ, fx.pages)
		}
	}
	if len(fx.data) < fx.hwm {
		return fixture{}, fmt.Errorf("fixture file %d bytes, high-water mark %d", len(fx.data), fx.hwm)
	}
	return fx, nil
}

// writeSample writes a store with silences, nflog entries, one value that
// spans several pages, and some deletions.
func writeSample(dir string) error {
	s, err := Open(dir)
	if err != nil {
		return err
	}
	sil, nfl := map[string][]byte{}, map[string][]byte{}
	for i := range 400 {
		sil[fmt.Sprintf("sil-%04d", i)] = bytes.Repeat([]byte{byte(i)}, 150)
		nfl[fmt.Sprintf("nfl-%04d", i)] = []byte(strings.Repeat("x", 60))
	}
	sil["big"] = bytes.Repeat([]byte("big"), 5000)
	var deletes []string
	for i := 0; i < 400; i += 3 {
		deletes = append(deletes, fmt.Sprintf("sil-%04d", i))
	}
	err = errors.Join(
		s.Update("silences", sil, nil),
		s.Update("nflog", nfl, nil),
		s.Update("silences", nil, deletes),
	)
	return errors.Join(err, s.Close())
}

func dump(t *testing.T, s *Store) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, b := range []string{"silences", "nflog"} {
		out[b] = map[string]string{}
		if err := s.ForEach(b, func(k string, v []byte) error {
			out[b][k] = string(v)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func sum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// writeStore puts data as alertd.db into a new directory.
func writeStore(t *testing.T, data []byte) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, FileName)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

// openCatching is Open, with a panic turned into a test error.
func openCatching(t *testing.T, dir string) (s *Store, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("Open panicked: %v", r)
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return Open(dir)
}

// expectCorrupt opens dir and wants the documented corruption error, and
// the file and directory exactly as they were.
func expectCorrupt(t *testing.T, dir, path string) {
	t.Helper()
	before := sum(t, path)
	s, err := openCatching(t, dir)
	if err == nil {
		_ = s.Close()
		t.Fatal("Open succeeded on a damaged file")
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("error does not wrap ErrCorrupt: %v", err)
	}
	msg := err.Error()
	prefix := "open " + path + ": the store is corrupt ("
	suffix := "): alertd will not start on it; see docs/operations.md#the-store-corruption-and-recovery"
	if !strings.HasPrefix(msg, prefix) || !strings.HasSuffix(msg, suffix) {
		t.Errorf("error %q\nwant %q<detail>%q", msg, prefix, suffix)
	}
	if after := sum(t, path); after != before {
		t.Error("the failed Open changed the file")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after the failed Open, want only %s", len(entries), FileName)
	}
}

func TestOpenTruncated(t *testing.T) {
	fx := getFixture(t)
	ps := fx.pageSize
	for _, tc := range []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"1 byte", 1},
		{"inside the first meta page", 100},
		{"one page", ps},
		{"three pages", 3 * ps},
		{"half", fx.hwm / 2},
		{"the last byte of the last page", fx.hwm - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, path := writeStore(t, fx.data[:tc.size])
			expectCorrupt(t, dir, path)
		})
	}
}

func TestOpenGarbled(t *testing.T) {
	fx := getFixture(t)
	ps := fx.pageSize
	rng := rand.New(rand.NewPCG(1, 2))
	garble := func(off, n int) []byte {
		b := bytes.Clone(fx.data)
		for i := off; i < off+n; i++ {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	leaves, branch, free := fx.pages["leaf"], fx.pages["branch"][0], fx.pages["freelist"][0]
	last := leaves[len(leaves)-1]
	// Two in-use pages in a row, to garble across the boundary.
	var pair int
	inUse := map[int]bool{}
	for _, typ := range []string{"leaf", "branch"} {
		for _, p := range fx.pages[typ] {
			inUse[p.id] = true
		}
	}
	for id := range inUse {
		if inUse[id+1] {
			pair = id
			break
		}
	}
	if pair == 0 {
		t.Fatal("fixture has no two adjacent in-use pages")
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"both meta pages", garble(0, 2*ps)},
		{"the first leaf page", garble(leaves[0].id*ps, ps)},
		{"the last leaf page", garble(last.id*ps, ps)},
		{"a branch page", garble(branch.id*ps, ps)},
		{"the freelist page", garble(free.id*ps, ps)},
		{"the element table of a leaf page", garble(leaves[1].id*ps+pageHeaderSize, leaves[1].count*elementSize)},
		{"the element table of a branch page", garble(branch.id*ps+pageHeaderSize, branch.count*elementSize)},
		{"across two pages", garble(pair*ps+ps/2, ps)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, path := writeStore(t, tc.data)
			expectCorrupt(t, dir, path)
		})
	}
	// Every page in use, one at a time.
	for _, typ := range []string{"leaf", "branch", "freelist"} {
		for _, p := range fx.pages[typ] {
			t.Run(fmt.Sprintf("%s page %d", typ, p.id), func(t *testing.T) {
				dir, path := writeStore(t, garble(p.id*ps, ps))
				expectCorrupt(t, dir, path)
			})
		}
	}
}

func TestOpenNotABoltFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 64<<10)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"a short text", []byte("not a database\n")},
		{"a long text", bytes.Repeat([]byte("global:\n  resolve_timeout: 5m\n"), 2000)},
		{"zeros", make([]byte, 64<<10)},
		{"random bytes", random},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, path := writeStore(t, tc.data)
			expectCorrupt(t, dir, path)
		})
	}
}

// setVersion writes raw as the schema version of the store at path,
// bypassing Store.
func setVersion(t *testing.T, path string, raw []byte) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(metaBucket))
		if err != nil {
			return err
		}
		if raw == nil {
			return b.Delete([]byte(schemaKey))
		}
		return b.Put([]byte(schemaKey), raw)
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenNewerSchema(t *testing.T) {
	dir, path := writeStore(t, getFixture(t).data)
	setVersion(t, path, []byte("2"))
	before := sum(t, path)
	_, err := openCatching(t, dir)
	var se *SchemaError
	if !errors.As(err, &se) || se.Version != 2 || se.Supported != SchemaVersion {
		t.Fatalf("Open: %v, want a *SchemaError for version 2", err)
	}
	want := "open " + path + ": schema version 2 is newer than this alertd supports (1): upgrade alertd or restore a backup"
	if err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
	if errors.Is(err, ErrCorrupt) {
		t.Error("a newer schema is not corruption")
	}
	if sum(t, path) != before {
		t.Error("the failed Open changed the file")
	}
}

func TestOpenBadSchemaValue(t *testing.T) {
	for _, raw := range []string{"", "one", "0", "-1"} {
		t.Run(fmt.Sprintf("%q", raw), func(t *testing.T) {
			dir, path := writeStore(t, getFixture(t).data)
			setVersion(t, path, []byte(raw))
			expectCorrupt(t, dir, path)
		})
	}
}

func TestOpenNewStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v := s.SchemaVersion(); v != 1 {
		t.Errorf("SchemaVersion() = %d, want 1", v)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != FileName {
		t.Errorf("directory holds %v, want only %s (no temporary file left)", entries, FileName)
	}
	if got := rawVersion(t, filepath.Join(dir, FileName)); got != "1" {
		t.Errorf("schema_version on disk = %q, want \"1\"", got)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func rawVersion(t *testing.T, path string) string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	var v string
	if err := db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(metaBucket)); b != nil {
			v = string(b.Get([]byte(schemaKey)))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// A file written before schema versions existed is version 1.
func TestOpenUnversionedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("silences"))
		if err != nil {
			return err
		}
		return b.Put([]byte("a"), []byte("1"))
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v := s.SchemaVersion(); v != 1 {
		t.Errorf("SchemaVersion() = %d, want 1", v)
	}
	if v, err := s.Get("silences", "a"); err != nil || string(v) != "1" {
		t.Errorf("Get: %q, %v", v, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := rawVersion(t, path); got != "1" {
		t.Errorf("schema_version on disk = %q, want \"1\"", got)
	}
}

// One damaged meta page is what a crash in the middle of a commit leaves:
// bbolt falls back to the other, the previous commit, as designed.
func TestOpenOneDamagedMetaPage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = errors.Join(s.Put("silences", "k", []byte("1")), s.Put("silences", "k", []byte("2")), s.Close())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	_, ps, err := readMetas(f, info.Size())
	if err != nil {
		t.Fatal(err)
	}
	m0, err0 := readMeta(f, info.Size(), 0)
	m1, err1 := readMeta(f, info.Size(), ps)
	if err := errors.Join(err0, err1); err != nil {
		t.Fatal(err)
	}
	newer := int64(0)
	if m1.txid > m0.txid {
		newer = ps
	}
	// A torn write: the second half of the meta is zeros.
	if _, err := f.WriteAt(make([]byte, 40), newer+pageHeaderSize+24); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get("silences", "k"); err != nil || string(v) != "1" {
		t.Errorf("Get after falling back to the previous commit: %q, %v, want \"1\"", v, err)
	}
	err = errors.Join(s.Put("silences", "k", []byte("3")), s.Close())
	if err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if v, err := s.Get("silences", "k"); err != nil || string(v) != "3" {
		t.Errorf("Get after a new commit: %q, %v, want \"3\"", v, err)
	}
}

func TestBackup(t *testing.T) {
	dir := t.TempDir()
	if err := writeSample(dir); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	want := dump(t, s)
	var buf bytes.Buffer
	if err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	// Writes after the backup are not in it.
	if err := s.Put("silences", "later", []byte("x")); err != nil {
		t.Fatal(err)
	}
	restored, _ := writeStore(t, buf.Bytes())
	r, err := Open(restored)
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer func() { _ = r.Close() }()
	if v := r.SchemaVersion(); v != SchemaVersion {
		t.Errorf("backup SchemaVersion() = %d", v)
	}
	if diff := cmp.Diff(want, dump(t, r)); diff != "" {
		t.Errorf("backup differs (-store +backup):\n%s", diff)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestBackupWriterError(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if err := s.Backup(failingWriter{}); err == nil || !strings.HasPrefix(err.Error(), "backup: ") || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Backup: %v", err)
	}
}

func TestMetaBucketIsReserved(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	for name, err := range map[string]error{
		"Put":            s.Put(metaBucket, schemaKey, []byte("9")),
		"Delete":         s.Delete(metaBucket, schemaKey),
		"Update":         s.Update(metaBucket, nil, []string{schemaKey}),
		"PutUnlessNewer": s.PutUnlessNewer(metaBucket, schemaKey, []byte("9"), func([]byte) bool { return false }),
	} {
		if err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("%s to the meta bucket: %v", name, err)
		}
	}
	if v, err := s.Get(metaBucket, schemaKey); err != nil || string(v) != "1" {
		t.Errorf("schema_version: %q, %v", v, err)
	}
}

// Every commit reaches the disk before Update returns: bbolt's safe
// defaults are in force.
func TestDurableWrites(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if s.db.NoSync || s.db.NoGrowSync || s.db.NoFreelistSync || s.db.IsReadOnly() {
		t.Errorf("NoSync=%v NoGrowSync=%v NoFreelistSync=%v ReadOnly=%v, want all false",
			s.db.NoSync, s.db.NoGrowSync, s.db.NoFreelistSync, s.db.IsReadOnly())
	}
}

// FuzzOpen: whatever the file holds, Open returns (an error or a store)
// without panicking, and leaves a file it rejects as it was.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	s, err := Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	if err := errors.Join(s.Put("silences", "a", []byte("1")), s.Close()); err != nil {
		f.Fatal(err)
	}
	valid, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte("not a database"))
	f.Add(make([]byte, 8192))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir, path := writeStore(t, data)
		before := sum(t, path)
		s, err := openCatching(t, dir)
		if err != nil {
			if sum(t, path) != before {
				t.Errorf("the failed Open (%v) changed the file", err)
			}
			return
		}
		_ = dump(t, s)
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
}

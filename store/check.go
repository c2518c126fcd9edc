package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"

	berrors "go.etcd.io/bbolt/errors"
)

// The on-disk layout of bbolt's file format version 2, as defined by
// go.etcd.io/bbolt/internal/common (which cannot be imported). bbolt reads
// the file through a memory map with no bounds checks, so a damaged page
// can make it read outside the map, which is a fatal fault rather than a
// panic, or recurse forever. checkFile reads the file with ReadAt instead,
// checks every bound and visits every page at most once; only a file that
// passes it is handed to bbolt's own consistency check (tx.Check).
const (
	boltMagic          = 0xED0CDAED
	boltVersion        = 2
	pageHeaderSize     = 16 // id uint64, flags uint16, count uint16, overflow uint32
	metaSize           = 64 // see metaOf
	metaChecksumOffset = 56
	elementSize        = 16 // a leaf element and a branch element are both 16 bytes
	bucketHeaderSize   = 16 // root page id uint64, sequence uint64
	branchPageFlag     = 0x01
	leafPageFlag       = 0x02
	freelistPageFlag   = 0x10
	bucketLeafFlag     = 0x01
	noFreelist         = ^uint64(0)
	minPageSize        = 1024
	maxPageSize        = 1 << 24
	// maxDepth bounds b+tree levels plus bucket nesting. A tree of pages
	// holding two keys each would need more pages than a disk has long
	// before reaching it; alertd nests no buckets.
	maxDepth = 64
)

var native = binary.NativeEndian // bbolt writes its structures in host byte order

// damage is a finding of the consistency check: the file is corrupt.
type damage struct{ msg string }

func (d *damage) Error() string { return d.msg }

func damagef(format string, args ...any) error {
	return &damage{msg: fmt.Sprintf(format, args...)}
}

// isDamage reports whether err means the file is corrupt (as opposed to,
// say, unreadable or locked): a finding of checkFile, or one of bbolt's
// own errors for a bad file.
func isDamage(err error) bool {
	var d *damage
	return errors.As(err, &d) ||
		errors.Is(err, berrors.ErrInvalid) ||
		errors.Is(err, berrors.ErrChecksum) ||
		errors.Is(err, berrors.ErrVersionMismatch)
}

// boltMeta is a decoded meta page.
type boltMeta struct {
	pageSize int64
	root     uint64
	freelist uint64
	pgid     uint64 // high-water mark: pages 0..pgid-1 are in use or free
	txid     uint64
	err      error // why bbolt would reject the page, or nil
}

// readMeta reads the meta page starting at off. It validates it as bbolt's
// Meta.Validate does: magic, then version, then checksum.
func readMeta(r io.ReaderAt, size, off int64) (boltMeta, error) {
	if off+pageHeaderSize+metaSize > size {
		return boltMeta{err: damagef("beyond the end of the file")}, nil
	}
	buf := make([]byte, metaSize)
	if _, err := r.ReadAt(buf, off+pageHeaderSize); err != nil {
		return boltMeta{}, fmt.Errorf("read meta page at %d: %w", off, err)
	}
	m := boltMeta{
		pageSize: int64(native.Uint32(buf[8:])),
		root:     native.Uint64(buf[16:]),
		freelist: native.Uint64(buf[32:]),
		pgid:     native.Uint64(buf[40:]),
		txid:     native.Uint64(buf[48:]),
	}
	h := fnv.New64a()
	_, _ = h.Write(buf[:metaChecksumOffset])
	switch {
	case native.Uint32(buf[0:]) != boltMagic:
		m.err = berrors.ErrInvalid
	case native.Uint32(buf[4:]) != boltVersion:
		m.err = berrors.ErrVersionMismatch
	case native.Uint64(buf[metaChecksumOffset:]) != h.Sum64():
		m.err = berrors.ErrChecksum
	}
	return m, nil
}

// readMetas returns the meta page bbolt would use for the file and the
// page size. It reads only the two meta pages, so it is safe without the
// file lock: a valid file never shrinks, and a commit rewrites only one of
// the two meta pages.
//
// Like bbolt it tolerates one invalid meta page, since that is what a
// crash in the middle of a commit leaves: the other one describes the
// previous commit, whose pages that commit did not overwrite.
func readMetas(r io.ReaderAt, size int64) (boltMeta, int64, error) {
	if size == 0 {
		return boltMeta{}, 0, damagef("the file is empty")
	}
	if size < pageHeaderSize+metaSize {
		return boltMeta{}, 0, damagef("the file is too short for a bbolt header (%d bytes)", size)
	}
	m0, err := readMeta(r, size, 0)
	if err != nil {
		return boltMeta{}, 0, err
	}
	pageSize := m0.pageSize
	if m0.err != nil {
		// Like bbolt's getPageSize: look for the second meta page at each
		// plausible page size.
		pageSize = 0
		for off := int64(minPageSize); off <= maxPageSize && off+pageHeaderSize+metaSize <= size; off *= 2 {
			m, err := readMeta(r, size, off)
			if err != nil {
				return boltMeta{}, 0, err
			}
			if m.err == nil && m.pageSize == off {
				pageSize = off
				break
			}
		}
		if pageSize == 0 {
			return boltMeta{}, 0, damagef("no valid meta page (page 0: %v): not a bbolt file, or its header is damaged", m0.err)
		}
	}
	if pageSize < minPageSize || pageSize > maxPageSize || pageSize&(pageSize-1) != 0 {
		return boltMeta{}, 0, damagef("the meta page records an implausible page size of %d bytes", pageSize)
	}
	if size < 2*pageSize {
		return boltMeta{}, 0, damagef("the file is truncated: %d bytes, shorter than its two meta pages of %d bytes", size, pageSize)
	}
	m1, err := readMeta(r, size, pageSize)
	if err != nil {
		return boltMeta{}, 0, err
	}
	// bbolt's DB.meta: the valid page with the higher transaction id.
	a, b := m0, m1
	if m1.txid > m0.txid {
		a, b = m1, m0
	}
	m := a
	if a.err != nil {
		m = b
	}
	if m.err != nil {
		return boltMeta{}, 0, damagef("both meta pages are invalid (page 0: %v; page 1: %v)", m0.err, m1.err)
	}
	if m.pageSize != pageSize {
		return boltMeta{}, 0, damagef("the meta pages disagree on the page size (%d and %d bytes)", pageSize, m.pageSize)
	}
	return m, pageSize, nil
}

// checker walks the pages reachable from a meta page.
type checker struct {
	r        io.ReaderAt
	pageSize int64
	hwm      uint64
	used     map[uint64]bool
	free     map[uint64]bool
}

// checkFile checks the structure of the bbolt file r of size bytes: the
// meta page, that the file holds every page below the high-water mark,
// the freelist, and every page of every bucket (in range, of the right
// type, referenced once, not free, elements and keys inside the page, keys
// in order). It does not look inside values: bbolt keeps no checksums of
// data, so a damaged value in a well-formed page goes unnoticed.
func checkFile(r io.ReaderAt, size int64) error {
	m, pageSize, err := readMetas(r, size)
	if err != nil {
		return err
	}
	if m.pgid < 3 {
		return damagef("the meta page records a high-water mark of %d pages, too few for a database", m.pgid)
	}
	if uint64(size/pageSize) < m.pgid {
		return damagef("the file is truncated: %d bytes, but its meta page records %d pages of %d bytes (%d bytes)",
			size, m.pgid, pageSize, m.pgid*uint64(pageSize))
	}
	c := &checker{r: r, pageSize: pageSize, hwm: m.pgid, used: map[uint64]bool{0: true, 1: true}, free: map[uint64]bool{}}
	if m.freelist != noFreelist {
		if err := c.freelist(m.freelist); err != nil {
			return err
		}
	}
	if err := c.tree(m.root, "the root bucket", 0); err != nil {
		return err
	}
	for id := range c.free {
		if c.used[id] {
			return damagef("page %d is both in use and on the freelist", id)
		}
	}
	return nil
}

// page reads page id and its overflow pages, and marks them used.
func (c *checker) page(id uint64, what string) (flags, count uint16, buf []byte, err error) {
	if id < 2 || id >= c.hwm {
		return 0, 0, nil, damagef("%s refers to page %d, outside the pages 2 to %d", what, id, c.hwm-1)
	}
	var h [pageHeaderSize]byte
	if _, err := c.r.ReadAt(h[:], int64(id)*c.pageSize); err != nil {
		return 0, 0, nil, fmt.Errorf("read page %d: %w", id, err)
	}
	if got := native.Uint64(h[0:]); got != id {
		return 0, 0, nil, damagef("page %d (%s) identifies itself as page %d", id, what, got)
	}
	flags, count = native.Uint16(h[8:]), native.Uint16(h[10:])
	overflow := uint64(native.Uint32(h[12:]))
	if overflow >= c.hwm-id {
		return 0, 0, nil, damagef("page %d (%s) continues on %d more pages, past the high-water mark %d", id, what, overflow, c.hwm)
	}
	for i := id; i <= id+overflow; i++ {
		if c.used[i] {
			return 0, 0, nil, damagef("page %d is referenced twice (the second time by %s)", i, what)
		}
		c.used[i] = true
	}
	buf = make([]byte, int64(overflow+1)*c.pageSize)
	if _, err := c.r.ReadAt(buf, int64(id)*c.pageSize); err != nil {
		return 0, 0, nil, fmt.Errorf("read page %d: %w", id, err)
	}
	return flags, count, buf, nil
}

func (c *checker) freelist(id uint64) error {
	flags, count, buf, err := c.page(id, "the freelist")
	if err != nil {
		return err
	}
	if flags != freelistPageFlag {
		return damagef("page %d should be the freelist but has type %#x", id, flags)
	}
	ids := buf[pageHeaderSize:]
	n := uint64(count)
	if count == 0xFFFF { // the real count is the first element
		if len(ids) < 8 {
			return damagef("freelist page %d is too short", id)
		}
		n, ids = native.Uint64(ids), ids[8:]
	}
	if n > uint64(len(ids)/8) {
		return damagef("freelist page %d lists %d pages, more than fit in it", id, n)
	}
	for i := range n {
		p := native.Uint64(ids[i*8:])
		if p < 2 || p >= c.hwm {
			return damagef("freelist page %d lists page %d, outside the pages 2 to %d", id, p, c.hwm-1)
		}
		if c.free[p] {
			return damagef("freelist page %d lists page %d twice", id, p)
		}
		c.free[p] = true
	}
	return nil
}

// tree checks the b+tree rooted at page id.
func (c *checker) tree(id uint64, what string, depth int) error {
	if depth > maxDepth {
		return damagef("page %d (%s) is nested more than %d levels deep", id, what, maxDepth)
	}
	flags, count, buf, err := c.page(id, what)
	if err != nil {
		return err
	}
	if flags != branchPageFlag && flags != leafPageFlag {
		return damagef("page %d (%s) has type %#x, not a branch or leaf page", id, what, flags)
	}
	return c.elements(id, flags, count, buf, depth)
}

// elements checks the elements of a branch or leaf page held in buf, which
// starts with the page header; an inline bucket's page is part of a value.
func (c *checker) elements(id uint64, flags, count uint16, buf []byte, depth int) error {
	if flags == branchPageFlag && count == 0 {
		return damagef("branch page %d is empty", id)
	}
	if pageHeaderSize+int(count)*elementSize > len(buf) {
		return damagef("page %d: %d elements do not fit in the page", id, count)
	}
	var prev []byte
	for i := range int(count) {
		e := pageHeaderSize + i*elementSize
		var pos, ksize, vsize uint64
		var elemFlags uint32
		var child uint64
		if flags == branchPageFlag {
			pos, ksize = uint64(native.Uint32(buf[e:])), uint64(native.Uint32(buf[e+4:]))
			child = native.Uint64(buf[e+8:])
		} else {
			elemFlags = native.Uint32(buf[e:])
			pos, ksize, vsize = uint64(native.Uint32(buf[e+4:])), uint64(native.Uint32(buf[e+8:])), uint64(native.Uint32(buf[e+12:]))
		}
		// Offsets are relative to the element itself.
		start := uint64(e) + pos
		if start+ksize+vsize > uint64(len(buf)) {
			return damagef("page %d: element %d lies outside the page", id, i)
		}
		key := buf[start : start+ksize]
		value := buf[start+ksize : start+ksize+vsize]
		if i > 0 && bytes.Compare(prev, key) >= 0 {
			return damagef("page %d: keys out of order at element %d", id, i)
		}
		prev = key
		switch {
		case flags == branchPageFlag:
			if err := c.tree(child, fmt.Sprintf("a child of page %d", id), depth+1); err != nil {
				return err
			}
		case elemFlags&bucketLeafFlag != 0:
			if err := c.bucket(id, key, value, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// bucket checks the bucket whose header is value, found on page id.
func (c *checker) bucket(id uint64, name, value []byte, depth int) error {
	what := fmt.Sprintf("bucket %q", name)
	if len(value) < bucketHeaderSize {
		return damagef("page %d: the header of %s is too short", id, what)
	}
	root := native.Uint64(value)
	if root != 0 {
		return c.tree(root, what, depth)
	}
	// An inline bucket: its single leaf page follows the header.
	inline := value[bucketHeaderSize:]
	if len(inline) < pageHeaderSize {
		return damagef("page %d: the inline page of %s is too short", id, what)
	}
	if flags := native.Uint16(inline[8:]); flags != leafPageFlag {
		return damagef("page %d: the inline page of %s has type %#x, not a leaf page", id, what, flags)
	}
	if depth > maxDepth {
		return damagef("page %d: %s is nested more than %d levels deep", id, what, maxDepth)
	}
	return c.elements(id, leafPageFlag, native.Uint16(inline[10:]), inline, depth)
}

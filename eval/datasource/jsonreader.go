package datasource

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// jsonReader is a small pull tokenizer for JSON read from an io.Reader.
// It exists so that a large query response is decoded in one pass, straight
// into labels, without an intermediate tree and without a string per label
// name and value (see decode.go). It only offers what decode.go needs.
type jsonReader struct {
	r    io.Reader
	buf  []byte
	pos  int   // next unread byte in buf
	end  int   // end of valid data in buf
	base int64 // stream offset of buf[0]
	rerr error // sticky error from r; io.EOF once the stream has ended
	head []byte
	tmp  []byte // scratch for skipped strings and numbers
}

const (
	// headSize is how many leading bytes of the stream are kept to quote
	// in error messages.
	headSize = 256
	// maxDepth bounds the nesting of skipped values.
	maxDepth = 1000
	// maxEmptyReads bounds consecutive (0, nil) reads, as bufio does.
	maxEmptyReads = 100
)

// syntaxError is a malformed or truncated JSON document.
type syntaxError struct {
	msg    string
	offset int64
	head   []byte // the first bytes of the stream, set by decodeResponse
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("%s at offset %d", e.msg, e.offset)
}

// readError is a failure of the underlying reader other than io.EOF (a
// dropped connection, a context deadline).
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func newJSONReader(r io.Reader, bufSize int) *jsonReader {
	j := &jsonReader{}
	j.reset(r, make([]byte, bufSize))
	return j
}

// reset makes j read r through buf.
func (j *jsonReader) reset(r io.Reader, buf []byte) {
	*j = jsonReader{r: r, buf: buf, tmp: j.tmp[:0]}
}

// offset is the stream offset of the next unread byte.
func (j *jsonReader) offset() int64 { return j.base + int64(j.pos) }

func (j *jsonReader) syntaxErr(format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...), offset: j.offset()}
}

// fill makes at least one unread byte available and reports whether it could.
func (j *jsonReader) fill() bool {
	if j.pos < j.end {
		return true
	}
	if j.rerr != nil {
		return false
	}
	j.base += int64(j.end)
	j.pos, j.end = 0, 0
	for range maxEmptyReads {
		n, err := j.r.Read(j.buf)
		j.end = n
		if len(j.head) < headSize {
			j.head = append(j.head, j.buf[:min(n, headSize-len(j.head))]...)
		}
		if err != nil {
			j.rerr = err
		}
		if n > 0 || err != nil {
			return n > 0
		}
	}
	j.rerr = io.ErrNoProgress
	return false
}

// endErr is the error for running out of input in the middle of a value.
func (j *jsonReader) endErr() error {
	if j.rerr == nil || errors.Is(j.rerr, io.EOF) {
		return j.syntaxErr("unexpected end of JSON input")
	}
	return &readError{err: j.rerr}
}

// peek skips whitespace and returns the next byte without consuming it.
func (j *jsonReader) peek() (byte, error) {
	for {
		for j.pos < j.end {
			switch c := j.buf[j.pos]; c {
			case ' ', '\t', '\n', '\r':
				j.pos++
			default:
				return c, nil
			}
		}
		if !j.fill() {
			return 0, j.endErr()
		}
	}
}

// expect consumes the next non-whitespace byte, which must be c.
func (j *jsonReader) expect(c byte) error {
	got, err := j.peek()
	if err != nil {
		return err
	}
	if got != c {
		return j.syntaxErr("invalid character %s, expected %q", quoteChar(got), c)
	}
	j.pos++
	return nil
}

// more is called after an element of an object or array: it consumes a
// comma and reports true, or consumes the closing byte and reports false.
func (j *jsonReader) more(closing byte) (bool, error) {
	c, err := j.peek()
	if err != nil {
		return false, err
	}
	switch c {
	case ',':
		j.pos++
		return true, nil
	case closing:
		j.pos++
		return false, nil
	}
	return false, j.syntaxErr("invalid character %s after element, expected ',' or %q", quoteChar(c), closing)
}

// open consumes the opening byte of an object or array and reports whether
// it has any elements; an empty one is consumed whole.
func (j *jsonReader) open(opening, closing byte) (bool, error) {
	if err := j.expect(opening); err != nil {
		return false, err
	}
	c, err := j.peek()
	if err != nil {
		return false, err
	}
	if c == closing {
		j.pos++
		return false, nil
	}
	return true, nil
}

// key reads an object key and the colon after it, appending the key to dst.
func (j *jsonReader) key(dst []byte) ([]byte, error) {
	dst, err := j.readString(dst)
	if err != nil {
		return dst, err
	}
	return dst, j.expect(':')
}

// readString reads a JSON string and appends its decoded content to dst.
func (j *jsonReader) readString(dst []byte) ([]byte, error) {
	c, err := j.peek()
	if err != nil {
		return dst, err
	}
	if c != '"' {
		return dst, j.syntaxErr("invalid character %s, expected string", quoteChar(c))
	}
	j.pos++
	var hi rune // pending high surrogate from a \u escape
	for {
		start := j.pos
		for j.pos < j.end {
			if c := j.buf[j.pos]; c == '"' || c == '\\' || c < 0x20 {
				break
			}
			j.pos++
		}
		if j.pos > start && hi != 0 {
			dst, hi = utf8.AppendRune(dst, utf8.RuneError), 0
		}
		dst = append(dst, j.buf[start:j.pos]...)
		if j.pos == j.end {
			if !j.fill() {
				return dst, j.endErr()
			}
			continue
		}
		c := j.buf[j.pos]
		j.pos++
		if c < 0x20 {
			j.pos--
			return dst, j.syntaxErr("invalid control character %s in string", quoteChar(c))
		}
		if c == '"' {
			if hi != 0 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			}
			return dst, nil
		}
		// c == '\\'
		if !j.fill() {
			return dst, j.endErr()
		}
		e := j.buf[j.pos]
		j.pos++
		if e != 'u' && hi != 0 {
			dst, hi = utf8.AppendRune(dst, utf8.RuneError), 0
		}
		switch e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, err := j.hex4()
			if err != nil {
				return dst, err
			}
			switch {
			case hi != 0:
				if combined := utf16.DecodeRune(hi, r); combined != utf8.RuneError {
					dst, hi = utf8.AppendRune(dst, combined), 0
					continue
				}
				dst, hi = utf8.AppendRune(dst, utf8.RuneError), 0
				if utf16.IsSurrogate(r) && r < 0xdc00 {
					hi = r
				} else {
					dst = utf8.AppendRune(dst, r)
				}
			case utf16.IsSurrogate(r) && r < 0xdc00:
				hi = r
			default:
				dst = utf8.AppendRune(dst, r) // a lone low surrogate becomes U+FFFD
			}
		default:
			j.pos--
			return dst, j.syntaxErr("invalid escape character %s in string", quoteChar(e))
		}
	}
}

// hex4 reads the four hex digits of a \u escape.
func (j *jsonReader) hex4() (rune, error) {
	var r rune
	for range 4 {
		if !j.fill() {
			return 0, j.endErr()
		}
		c := j.buf[j.pos]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, j.syntaxErr("invalid character %s in \\u escape", quoteChar(c))
		}
		j.pos++
		r = r<<4 | rune(c)
	}
	return r, nil
}

// readNumber reads a JSON number. It is slightly more lenient than the
// grammar (strconv.ParseFloat also accepts "+1", "1." and ".5").
func (j *jsonReader) readNumber() (float64, error) {
	if _, err := j.peek(); err != nil {
		return 0, err
	}
	start := j.offset()
	j.tmp = j.tmp[:0]
	for j.fill() {
		c := j.buf[j.pos]
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
		j.tmp = append(j.tmp, c)
		j.pos++
	}
	if len(j.tmp) == 0 {
		c, _ := j.peek()
		return 0, j.syntaxErr("invalid character %s, expected number", quoteChar(c))
	}
	if j.rerr != nil && !errors.Is(j.rerr, io.EOF) {
		return 0, &readError{err: j.rerr}
	}
	f, err := strconv.ParseFloat(unsafeString(j.tmp), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, &syntaxError{msg: fmt.Sprintf("invalid number %q", truncate(string(j.tmp), 40)), offset: start}
	}
	return f, nil
}

// readLiteral consumes the literal word lit (true, false, null).
func (j *jsonReader) readLiteral(lit string) error {
	if _, err := j.peek(); err != nil {
		return err
	}
	for i := range len(lit) {
		if !j.fill() {
			return j.endErr()
		}
		if j.buf[j.pos] != lit[i] {
			return j.syntaxErr("invalid character %s in literal %s", quoteChar(j.buf[j.pos]), lit)
		}
		j.pos++
	}
	return nil
}

// readNull consumes a null if one is next and reports whether it did.
func (j *jsonReader) readNull() (bool, error) {
	c, err := j.peek()
	if err != nil || c != 'n' {
		return false, err
	}
	return true, j.readLiteral("null")
}

// skip consumes one JSON value of any kind, checking its syntax.
func (j *jsonReader) skip() error { return j.skipDepth(0) }

func (j *jsonReader) skipDepth(depth int) error {
	if depth > maxDepth {
		return j.syntaxErr("JSON nested too deeply")
	}
	c, err := j.peek()
	if err != nil {
		return err
	}
	switch {
	case c == '"':
		j.tmp, err = j.readString(j.tmp[:0])
		return err
	case c == '{':
		more, err := j.open('{', '}')
		for more && err == nil {
			if j.tmp, err = j.key(j.tmp[:0]); err != nil {
				return err
			}
			if err = j.skipDepth(depth + 1); err != nil {
				return err
			}
			more, err = j.more('}')
		}
		return err
	case c == '[':
		more, err := j.open('[', ']')
		for more && err == nil {
			if err = j.skipDepth(depth + 1); err != nil {
				return err
			}
			more, err = j.more(']')
		}
		return err
	case c == 't':
		return j.readLiteral("true")
	case c == 'f':
		return j.readLiteral("false")
	case c == 'n':
		return j.readLiteral("null")
	case c == '-' || '0' <= c && c <= '9':
		_, err = j.readNumber()
		return err
	}
	return j.syntaxErr("invalid character %s looking for beginning of value", quoteChar(c))
}

// finish checks that only whitespace is left in the stream.
func (j *jsonReader) finish() error {
	for {
		for ; j.pos < j.end; j.pos++ {
			switch c := j.buf[j.pos]; c {
			case ' ', '\t', '\n', '\r':
			default:
				return j.syntaxErr("invalid character %s after top-level value", quoteChar(c))
			}
		}
		if !j.fill() {
			if j.rerr == nil || errors.Is(j.rerr, io.EOF) {
				return nil
			}
			return &readError{err: j.rerr}
		}
	}
}

// quoteChar formats a byte for an error message, as encoding/json does.
func quoteChar(c byte) string {
	switch {
	case c == '\'':
		return `'\''`
	case c == '"':
		return `'"'`
	case c >= 0x20 && c < utf8.RuneSelf:
		return "'" + string(rune(c)) + "'"
	}
	return strconv.Quote(string(rune(c)))
}

// unsafeString returns a string sharing b's memory. The caller must not
// modify b while the string is in use.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

package webhook

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	commoncfg "github.com/prometheus/common/config"
)

// direct posts webhook messages over HTTP/1.1 connections of its own: the
// request written with one system call, the response read by the goroutine
// that sent it. net/http's Transport hands each request to a writer and a
// reader goroutine of the connection and allocates a dozen objects for it,
// which is most of a delivery's CPU when a webhook receives thousands of
// notifications at once; direct does what Transport does for the one
// configuration where Transport adds nothing else: a fixed http:// URL
// without credentials and prometheus/common's default http_config (no
// auth, proxy, TLS or headers). Every other webhook, and every response
// direct does not handle (a redirect), goes through the net/http client.
type direct struct {
	addr   string // host:port dialed
	header []byte // the request up to the Content-Length value
	dialer net.Dialer

	mu      sync.Mutex
	idle    []*directConn // most recently used last
	reaping bool          // a reap is scheduled
}

// Idle connections are closed after directIdleTimeout (prometheus/common's
// IdleConnTimeout); at most directMaxIdle are kept (its
// MaxIdleConnsPerHost).
const (
	directIdleTimeout = 5 * time.Minute
	directMaxIdle     = 1000
)

// aliveCheckAfter is how long a connection must have been idle for get to
// check that the receiver has not closed it; tests change it.
var aliveCheckAfter = time.Second

type directConn struct {
	net.Conn
	br        *bufio.Reader
	idleSince time.Time
}

// newDirect returns the direct client of a webhook posting to rawURL with
// hc, or nil when the webhook needs net/http's client.
func newDirect(rawURL string, hc commoncfg.HTTPClientConfig, userAgent string) *direct {
	if rawURL == "" || !reflect.DeepEqual(hc, commoncfg.DefaultHTTPClientConfig) {
		return nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Host == "" || u.Opaque != "" || !plainASCII(u.Host) {
		return nil
	}
	addr := u.Host
	if u.Port() == "" {
		if u.Hostname() != u.Host && u.Host[len(u.Host)-1] != ']' {
			return nil // "host:" — net/http's removeEmptyPort
		}
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	uri := u.RequestURI()
	if !plainASCII(uri) || !plainASCII(userAgent) {
		return nil
	}
	h := make([]byte, 0, 128)
	h = append(h, "POST "...)
	h = append(h, uri...)
	h = append(h, " HTTP/1.1\r\nHost: "...)
	h = append(h, u.Host...)
	h = append(h, "\r\nUser-Agent: "...)
	h = append(h, userAgent...)
	h = append(h, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	return &direct{addr: addr, header: h, dialer: net.Dialer{KeepAlive: 30 * time.Second}}
}

// plainASCII reports whether s has only printable ASCII other than space,
// so that it can go into a request line or header as it is.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// errRedirect says that the receiver answered with a redirect, which the
// net/http client follows.
var errRedirect = errors.New("redirect")

// answer is a receiver's response: its status code, and for any other
// than 2xx its Retry-After and the start of its body.
type answer struct {
	code       int
	retryAfter string
	body       []byte
}

// response returns a as the *http.Response CheckResponse reads.
func (a answer) response() *http.Response {
	r := &http.Response{StatusCode: a.code, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(a.body))}
	if a.retryAfter != "" {
		r.Header.Set("Retry-After", a.retryAfter)
	}
	return r
}

// post sends body and returns the answer. Errors are those of net/http's
// client, for the caller to wrap in a *url.Error: ctx's error when ctx
// ended. errRedirect means the request must go through net/http.
func (d *direct) post(ctx context.Context, body []byte) (answer, error) {
	for attempt := 0; ; attempt++ {
		c, reused, err := d.get(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return answer{}, ctx.Err()
			}
			return answer{}, err
		}
		a, stale, err := d.roundTrip(ctx, c, body)
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			// The connection's deadline was ctx's: ctx is done or about
			// to be.
			<-ctx.Done()
		}
		if err != nil && ctx.Err() != nil {
			return answer{}, ctx.Err()
		}
		// A kept connection the receiver closed just before the request
		// went out, before answering anything: once more on a new one, as
		// net/http's Transport retries a request it has not sent.
		if err != nil && stale && reused && attempt == 0 {
			continue
		}
		return a, err
	}
}

// get returns an idle connection that is still open, or a new one.
func (d *direct) get(ctx context.Context) (c *directConn, reused bool, err error) {
	d.mu.Lock()
	for len(d.idle) > 0 {
		c = d.idle[len(d.idle)-1]
		d.idle[len(d.idle)-1] = nil
		d.idle = d.idle[:len(d.idle)-1]
		d.mu.Unlock()
		// A connection used a moment ago is taken as it is (a close
		// that went unseen costs a second attempt); one idle for
		// longer is looked at, as the receiver may have closed it.
		if time.Since(c.idleSince) < aliveCheckAfter || connAlive(c.Conn) {
			return c, true, nil
		}
		_ = c.Close()
		d.mu.Lock()
	}
	d.mu.Unlock()
	nc, err := d.dialer.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, false, err
	}
	return &directConn{Conn: nc, br: bufio.NewReaderSize(nc, 4096)}, false, nil
}

// put keeps c for the next request.
func (d *direct) put(c *directConn) {
	c.idleSince = time.Now()
	d.mu.Lock()
	if len(d.idle) >= directMaxIdle {
		d.mu.Unlock()
		_ = c.Close()
		return
	}
	d.idle = append(d.idle, c)
	if !d.reaping {
		d.reaping = true
		time.AfterFunc(directIdleTimeout, d.reap)
	}
	d.mu.Unlock()
}

// reap closes the connections idle for directIdleTimeout, and comes back
// while some are left.
func (d *direct) reap() {
	now := time.Now()
	d.mu.Lock()
	n := 0
	for _, c := range d.idle {
		if now.Sub(c.idleSince) >= directIdleTimeout {
			_ = c.Close()
			continue
		}
		d.idle[n] = c
		n++
	}
	clear(d.idle[n:])
	d.idle = d.idle[:n]
	d.reaping = n > 0
	if d.reaping {
		time.AfterFunc(directIdleTimeout-now.Sub(d.idle[0].idleSince), d.reap)
	}
	d.mu.Unlock()
}

// cancelPoll is the longest a request's I/O waits without looking at its
// context: the connection's deadline is at most that far ahead, so that a
// cancelled context (a shutdown) ends a request within it, without a
// goroutine or context.AfterFunc per request watching the context.
const cancelPoll = 200 * time.Millisecond

// roundTrip sends one request on c and reads the answer, keeping c when
// the exchange leaves it reusable. stale reports a failure before any byte
// of an answer arrived.
func (d *direct) roundTrip(ctx context.Context, c *directConn, body []byte) (a answer, stale bool, err error) {
	keep := false
	defer func() {
		if keep {
			d.put(c)
		} else {
			_ = c.Close()
		}
	}()
	deadline, hasDeadline := ctx.Deadline()
	// The deadline for writing the request and the start of the answer:
	// cancelPoll ahead, moved on while ctx lasts.
	last := false
	arm := func() error {
		next := time.Now().Add(cancelPoll)
		last = hasDeadline && !deadline.After(next)
		if last {
			next = deadline
		}
		return c.SetDeadline(next)
	}
	// poll runs op until it fails otherwise than by the connection's
	// deadline, or ctx ends.
	poll := func(op func() error) error {
		for {
			err := op()
			if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) || last || ctx.Err() != nil {
				return err
			}
			if err := arm(); err != nil {
				return err
			}
		}
	}
	if err := arm(); err != nil {
		return answer{}, true, err
	}

	var lenBuf [20]byte
	bufs := net.Buffers{d.header, strconv.AppendInt(lenBuf[:0], int64(len(body)), 10), headerEnd, body}
	// WriteTo consumes what it wrote: a write cut by the deadline goes on.
	if err := poll(func() error { _, err := bufs.WriteTo(c.Conn); return err }); err != nil {
		return answer{}, true, err
	}
	if err := poll(func() error { _, err := c.br.Peek(1); return err }); err != nil {
		return answer{}, !errors.Is(err, os.ErrDeadlineExceeded), err
	}
	// The rest of the answer has ctx's deadline.
	if !last {
		if err := c.SetDeadline(deadline); err != nil {
			return answer{}, false, err
		}
	}
	a, framing, err := readHead(c.br)
	if err != nil {
		return answer{}, false, err
	}
	if a.code/100 == 3 {
		return answer{}, false, errRedirect
	}
	// The body is read to its end, up to maxDrain, for the connection to
	// be reused; an error's start goes into the answer.
	var n int64
	if a.code/100 == 2 {
		n, err = io.Copy(io.Discard, io.LimitReader(framing.body, maxDrain+1))
	} else {
		a.body, err = io.ReadAll(io.LimitReader(framing.body, maxDrain+1))
		n = int64(len(a.body))
		a.body = a.body[:min(len(a.body), maxErrorBody)]
	}
	if err != nil {
		return answer{}, false, err
	}
	keep = framing.reusable && n <= maxDrain
	if keep && framing.trailer {
		for {
			line, err := readLine(c.br)
			if err != nil {
				keep = false
				break
			}
			if len(line) == 0 {
				break
			}
		}
	}
	return a, false, nil
}

// maxDrain bounds the response body read to reuse a connection;
// maxErrorBody what an error keeps of it (CheckResponse reads 1 KiB).
const (
	maxDrain     = 1 << 20
	maxErrorBody = 4 << 10
)

// headerEnd ends the Content-Length line and the header.
var headerEnd = []byte("\r\n\r\n")

// framing is how a response's body is delimited (RFC 9112 section 6.3).
type framing struct {
	body io.Reader
	// reusable: the connection carries another request once body has
	// been read to its end (and the trailer, if any).
	reusable bool
	// trailer: a chunked body, followed by a trailer section.
	trailer bool
}

// readHead reads a response's status line and header from br, skipping
// interim (1xx) responses. Of the header it looks only at what frames the
// body (Content-Length, Transfer-Encoding, Connection) and at Retry-After.
func readHead(br *bufio.Reader) (answer, framing, error) {
	for {
		line, err := readLine(br)
		if err != nil {
			return answer{}, framing{}, err
		}
		minor, code, ok := parseStatusLine(line)
		if !ok {
			return answer{}, framing{}, fmt.Errorf("malformed HTTP response %q", line)
		}
		var (
			length    int64 = -1
			chunked   bool
			keepAlive = minor >= 1
			a         = answer{code: code}
		)
		for {
			line, err := readLine(br)
			if err != nil {
				return answer{}, framing{}, err
			}
			if len(line) == 0 {
				break
			}
			// A line folded onto the previous one (obsolete, RFC 9112
			// section 5.2) starts with a space and has no token name.
			name, value, ok := bytes.Cut(line, []byte(":"))
			if !ok || !validFieldName(name) {
				return answer{}, framing{}, fmt.Errorf("malformed HTTP response header %q", line)
			}
			value = bytes.Trim(value, " \t")
			switch {
			case asciiEqualFold(name, "content-length"):
				n, err := strconv.ParseInt(string(value), 10, 64)
				if err != nil || n < 0 || length >= 0 && n != length {
					return answer{}, framing{}, fmt.Errorf("bad Content-Length %q", value)
				}
				length = n
			case asciiEqualFold(name, "transfer-encoding"):
				if !asciiEqualFold(value, "chunked") {
					return answer{}, framing{}, fmt.Errorf("unsupported Transfer-Encoding %q", value)
				}
				chunked = true
			case asciiEqualFold(name, "connection"):
				for opt := range bytes.SplitSeq(value, []byte(",")) {
					switch opt = bytes.Trim(opt, " \t"); {
					case asciiEqualFold(opt, "close"):
						keepAlive = false
					case asciiEqualFold(opt, "keep-alive") && minor == 0:
						keepAlive = true
					}
				}
			case asciiEqualFold(name, "retry-after"):
				a.retryAfter = string(value)
			}
		}
		switch {
		case code == http.StatusSwitchingProtocols:
			return answer{}, framing{}, errors.New("unexpected 101 Switching Protocols")
		case code/100 == 1:
			continue // 100 Continue, 103 Early Hints: the answer follows
		case code == http.StatusNoContent || code == http.StatusNotModified:
			return a, framing{body: http.NoBody, reusable: keepAlive}, nil
		case chunked && minor == 0:
			// RFC 9112 section 6.1: the framing of an HTTP/1.0 message
			// with Transfer-Encoding is faulty; it ends with the
			// connection.
			return a, framing{body: br}, nil
		case chunked:
			return a, framing{body: httputil.NewChunkedReader(br), reusable: keepAlive, trailer: true}, nil
		case length >= 0:
			return a, framing{body: io.LimitReader(br, length), reusable: keepAlive}, nil
		}
		return a, framing{body: br}, nil // until the receiver closes
	}
}

// readLine returns the next line of br without its CRLF or LF; a line
// longer than br's buffer is an error.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, errors.New("HTTP response header line too long")
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// parseStatusLine parses "HTTP/1.<minor> <3-digit code>[ <reason>]".
func parseStatusLine(line []byte) (minor, code int, ok bool) {
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' || len(line) > 12 && line[12] != ' ' {
		return 0, 0, false
	}
	if line[7] != '0' && line[7] != '1' {
		return 0, 0, false
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return 0, 0, false
	}
	return int(line[7] - '0'), code, true
}

// validFieldName reports whether b is a header field name: a token.
func validFieldName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// asciiEqualFold reports whether b is s (lower case) but for ASCII case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

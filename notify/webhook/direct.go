package webhook

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strconv"
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

// post sends body and returns the response, with its body read and
// closed, for CheckResponse. Errors are those of net/http's client: a
// *url.Error for the webhook's redacted URL, wrapping ctx's error when ctx
// ended. errRedirect means the request must go through net/http.
func (d *direct) post(ctx context.Context, body []byte) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		c, reused, err := d.get(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		resp, stale, err := d.roundTrip(ctx, c, body)
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			// The connection's deadline is ctx's, or past when ctx was
			// cancelled: ctx is done or about to be.
			<-ctx.Done()
		}
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// A kept connection the receiver closed just before the request
		// went out, before answering anything: once more on a new one, as
		// net/http's Transport retries a request it has not sent.
		if err != nil && stale && reused && attempt == 0 {
			continue
		}
		return resp, err
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
		if connAlive(c.Conn) {
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

// roundTrip sends one request on c and reads the response, keeping c when
// the exchange leaves it reusable. stale reports a failure before any byte
// of a response arrived.
func (d *direct) roundTrip(ctx context.Context, c *directConn, body []byte) (resp *http.Response, stale bool, err error) {
	keep := false
	defer func() {
		if keep {
			d.put(c)
		} else {
			_ = c.Close()
		}
	}()
	deadline, _ := ctx.Deadline()
	if err := c.SetDeadline(deadline); err != nil {
		return nil, true, err
	}
	// ctx may end before its deadline (a shutdown): that ends the I/O too.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		if !stop() {
			keep = false
		}
	}()

	var lenBuf [20]byte
	bufs := net.Buffers{d.header, strconv.AppendInt(lenBuf[:0], int64(len(body)), 10), headerEnd, body}
	if _, err := bufs.WriteTo(c.Conn); err != nil {
		return nil, true, err
	}
	if _, err := c.br.Peek(1); err != nil {
		return nil, !errors.Is(err, os.ErrDeadlineExceeded), err
	}
	resp, err = http.ReadResponse(c.br, nil)
	if err != nil {
		return nil, false, err
	}
	if resp.StatusCode/100 == 3 {
		_ = resp.Body.Close()
		return nil, false, errRedirect
	}
	// The body is drained, up to 1 MiB, for the connection to be reused;
	// CheckResponse reads the start of an error's.
	var data []byte
	if resp.StatusCode/100 == 2 {
		var n int64
		n, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain+1))
		keep = n <= maxDrain
	} else {
		data, err = io.ReadAll(io.LimitReader(resp.Body, maxDrain+1))
		keep = len(data) <= maxDrain
	}
	_ = resp.Body.Close()
	if err != nil {
		keep = false
		return nil, false, err
	}
	keep = keep && !resp.Close
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp, false, nil
}

// maxDrain bounds the response body read to reuse a connection.
const maxDrain = 1 << 20

// headerEnd ends the Content-Length line and the header.
var headerEnd = []byte("\r\n\r\n")

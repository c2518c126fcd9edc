package alertload

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The sink's servers: SinkLean (the default) or net/http's.
const (
	SinkLean    = "lean"
	SinkNetHTTP = "net/http"
)

// StartSink serves a new Sink on a loopback port with the server kind
// (SinkLean or SinkNetHTTP) and returns it, its URL and how to stop it.
//
// The sink runs on the cores the measured system runs on, so its cost is
// in every delivery figure: with net/http's server it spends ~15 µs of CPU
// per webhook request, a share of the delivery time that grows as the
// system gets faster. The lean server reads HTTP/1.1 requests as webhooks
// send them (Content-Length or chunked bodies, keep-alive) and answers
// each with an empty 200 at a fraction of that; anything else closes the
// connection after a 400.
func StartSink(kind string) (*Sink, string, func(), error) {
	sink := NewSink()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	var stop func()
	switch kind {
	case SinkLean:
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = sink.serveLean(ln)
		}()
		stop = func() {
			_ = ln.Close()
			<-done
		}
	case SinkNetHTTP:
		srv := &http.Server{Handler: sink, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
		go func() { _ = srv.Serve(ln) }()
		stop = func() { _ = srv.Close() }
	default:
		_ = ln.Close()
		return nil, "", nil, fmt.Errorf("unknown sink server %q (%s or %s)", kind, SinkLean, SinkNetHTTP)
	}
	return sink, "http://" + ln.Addr().String(), stop, nil
}

// serveLean serves webhook requests on the connections l accepts until l
// is closed, then closes them and returns.
func (s *Sink) serveLean(l net.Listener) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
	)
	defer func() {
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Go(func() {
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				_ = c.Close()
			}()
			s.serveConn(c)
		})
	}
}

// leanIdle bounds how long a connection waits for its next request.
const leanIdle = time.Minute

// serveConn answers the requests of one connection until it closes or a
// request is not one the lean server reads.
func (s *Sink) serveConn(c net.Conn) {
	br := bufio.NewReaderSize(c, 64<<10)
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	for {
		_ = c.SetDeadline(time.Now().Add(leanIdle))
		req, err := readLeanRequest(br, buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
			}
			return
		}
		status, msg := s.receive(time.Now(), req.path, buf.Bytes())
		var out []byte
		if status == http.StatusOK {
			out = append(out, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"...)
		} else {
			out = fmt.Appendf(out, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n", status, http.StatusText(status), len(msg))
		}
		if req.close {
			out = append(out, "Connection: close\r\n"...)
		}
		out = append(out, "\r\n"...)
		out = append(out, msg...)
		if _, err := c.Write(out); err != nil || req.close {
			return
		}
	}
}

type leanRequest struct {
	path  string
	close bool // the client asked to close, or spoke HTTP/1.0
}

// readLeanRequest reads a request's head from br and its body into buf.
func readLeanRequest(br *bufio.Reader, buf *bytes.Buffer) (leanRequest, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		if line == "" {
			return leanRequest{}, io.EOF
		}
		return leanRequest{}, err
	}
	method, rest, ok1 := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || method != http.MethodPost || (proto != "HTTP/1.1" && proto != "HTTP/1.0") {
		return leanRequest{}, fmt.Errorf("unsupported request %q", line)
	}
	req := leanRequest{close: proto == "HTTP/1.0"}
	req.path, _, _ = strings.Cut(target, "?")
	length, chunked := int64(-1), false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return leanRequest{}, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return leanRequest{}, fmt.Errorf("malformed header %q", line)
		}
		value = bytes.TrimSpace(value)
		is := func(s string) bool { return bytes.EqualFold(name, []byte(s)) }
		switch {
		case is("content-length"):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return leanRequest{}, fmt.Errorf("bad Content-Length %q", value)
			}
		case is("transfer-encoding"):
			if !bytes.EqualFold(value, []byte("chunked")) {
				return leanRequest{}, fmt.Errorf("unsupported Transfer-Encoding %q", value)
			}
			chunked = true
		case is("connection"):
			if bytes.EqualFold(value, []byte("close")) {
				req.close = true
			}
		case is("expect"):
			return leanRequest{}, errors.New("the Expect header is not supported")
		}
	}
	buf.Reset()
	switch {
	case chunked:
		if _, err := buf.ReadFrom(httputil.NewChunkedReader(br)); err != nil {
			return leanRequest{}, err
		}
		for { // the trailer
			line, err := br.ReadSlice('\n')
			if err != nil {
				return leanRequest{}, err
			}
			if len(bytes.TrimRight(line, "\r\n")) == 0 {
				break
			}
		}
	case length > 0:
		if _, err := io.CopyN(buf, br, length); err != nil {
			return leanRequest{}, err
		}
	}
	return req, nil
}

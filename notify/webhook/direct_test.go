package webhook_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	commoncfg "github.com/prometheus/common/config"

	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/webhook"
)

// TestDirectChosen: a webhook posts over its own connections only with a
// fixed http:// URL without credentials and the default http_config;
// everything else goes through net/http's client.
func TestDirectChosen(t *testing.T) {
	def := commoncfg.DefaultHTTPClientConfig
	withAuth := def
	withAuth.BasicAuth = &commoncfg.BasicAuth{Username: "u", Password: "p"}
	for _, tc := range []struct {
		name   string
		c      webhook.Config
		direct bool
	}{
		{"default http_config", webhook.Config{URL: "http://127.0.0.1:9/hook?a=1", HTTPConfig: def}, true},
		{"no port", webhook.Config{URL: "http://receiver.example/hook", HTTPConfig: def}, true},
		{"IPv6", webhook.Config{URL: "http://[::1]:9/hook", HTTPConfig: def}, true},
		{"https", webhook.Config{URL: "https://127.0.0.1:9/hook", HTTPConfig: def}, false},
		{"userinfo", webhook.Config{URL: "http://u:p@127.0.0.1:9/hook", HTTPConfig: def}, false},
		{"basic auth", webhook.Config{URL: "http://127.0.0.1:9/hook", HTTPConfig: withAuth}, false},
		{"no redirects (zero http_config)", webhook.Config{URL: "http://127.0.0.1:9/hook"}, false},
		{"empty port", webhook.Config{URL: "http://127.0.0.1:/hook", HTTPConfig: def}, false},
		{"non-ASCII host", webhook.Config{URL: "http://ünïcode.example/hook", HTTPConfig: def}, false},
		{"url_file", webhook.Config{URLFile: "/nonexistent", HTTPConfig: def}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := webhook.New(0, tc.c, webhook.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if n.Direct() != tc.direct {
				t.Errorf("direct %v, want %v", n.Direct(), tc.direct)
			}
		})
	}
}

// TestDirectRequestIsNetHTTPs: the direct request has the method, URI,
// headers and body net/http's client sends for the same notification.
func TestDirectRequestIsNetHTTPs(t *testing.T) {
	var got []received
	for _, c := range clients {
		rc := newReceiver(t, nil)
		if err := send(t, webhook.Config{URL: rc.srv.URL + "/hook/x?token=y&z=%20", SendResolved: true, HTTPConfig: c.config}, nil, 10*time.Second, goldenNotification()); err != nil {
			t.Fatal(err)
		}
		r := rc.next(t, 5*time.Second)
		// Host carries the receiver's port, which differs.
		r.header.Set("Host", "")
		got = append(got, r)
	}
	if d := cmp.Diff(got[0], got[1], cmp.AllowUnexported(received{})); d != "" {
		t.Errorf("request (-net/http +direct):\n%s", d)
	}
}

// connCounter is an HTTP server counting the connections it accepted.
type connCounter struct {
	srv   *httptest.Server
	conns atomic.Int32
	reqs  atomic.Int32
}

func newConnCounter(t *testing.T, h http.HandlerFunc, config func(*http.Server)) *connCounter {
	t.Helper()
	cc := &connCounter{}
	cc.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		cc.reqs.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	cc.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			cc.conns.Add(1)
		}
	}
	if config != nil {
		config(cc.srv.Config)
	}
	cc.srv.Start()
	t.Cleanup(cc.srv.Close)
	return cc
}

// check reports an error unless the receiver got reqs requests on conns
// connections.
func (cc *connCounter) check(t *testing.T, reqs, conns int32) {
	t.Helper()
	if gotReqs, gotConns := cc.reqs.Load(), cc.conns.Load(); gotReqs != reqs || gotConns != conns {
		t.Errorf("%d requests on %d connections, want %d on %d", gotReqs, gotConns, reqs, conns)
	}
}

// directWebhook is a webhook with the default http_config, which posts
// over its own connections.
func directWebhook(t *testing.T, url string) *webhook.Notifier {
	t.Helper()
	n, err := webhook.New(0, webhook.Config{URL: url, SendResolved: true, HTTPConfig: commoncfg.DefaultHTTPClientConfig}, webhook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !n.Direct() {
		t.Fatal("the webhook does not post directly")
	}
	return n
}

func notifyOnce(ctx context.Context, t *testing.T, n *webhook.Notifier) error {
	t.Helper()
	ng := goldenNotification()
	_, err := n.NotifyAlerts(ctx, &notify.Alerts{Receiver: ng.Receiver, GroupKey: ng.GroupKey, GroupLabels: ng.GroupLabels, Now: ng.Now, Alerts: ng.Alerts})
	return err
}

func TestDirectReusesConnections(t *testing.T) {
	cc := newConnCounter(t, nil, nil)
	n := directWebhook(t, cc.srv.URL+"/hook")
	for i := range 50 {
		if err := notifyOnce(t.Context(), t, n); err != nil {
			t.Fatalf("notification %d: %v", i, err)
		}
	}
	cc.check(t, 50, 1)
	// At once: a connection each, kept for the next round.
	for round := range 2 {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if err := notifyOnce(t.Context(), t, n); err != nil {
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		wg.Wait()
	}
	if conns := cc.conns.Load(); conns > 8 {
		t.Errorf("%d connections for 8 at once", conns)
	}
}

// TestDirectReceiverClosesConnections: a receiver that closes connections
// (idle timeout, no keep-alive, or closing after each answer without
// saying so) gets every request once and no request fails.
func TestDirectReceiverClosesConnections(t *testing.T) {
	for _, tc := range []struct {
		name      string
		config    func(*http.Server)
		pause     time.Duration
		wantConns int32
	}{
		{"idle timeout", func(s *http.Server) { s.IdleTimeout = 20 * time.Millisecond }, 200 * time.Millisecond, 5},
		{"keep-alive off", func(s *http.Server) { s.SetKeepAlivesEnabled(false) }, 0, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := newConnCounter(t, nil, tc.config)
			n := directWebhook(t, cc.srv.URL+"/hook")
			for i := range 5 {
				if err := notifyOnce(t.Context(), t, n); err != nil {
					t.Fatalf("notification %d: %v", i, err)
				}
				time.Sleep(tc.pause)
			}
			cc.check(t, 5, tc.wantConns)
		})
	}
	// Closed while idle: seen before the request (checked), or by the
	// request on it failing before any answer, made again on a new one
	// (unchecked, used again within aliveCheckAfter).
	for _, checked := range []bool{true, false} {
		t.Run(fmt.Sprintf("closed after the answer/checked=%v", checked), func(t *testing.T) {
			if checked {
				webhook.SetAliveCheckAfter(t, 0)
			} else {
				webhook.SetAliveCheckAfter(t, time.Hour)
			}
			reqs := rawServer(t, func(c net.Conn) bool {
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
				time.Sleep(20 * time.Millisecond)
				return false
			})
			n := directWebhook(t, "http://"+reqs.addr+"/hook")
			for i := range 5 {
				time.Sleep(50 * time.Millisecond)
				if err := notifyOnce(t.Context(), t, n); err != nil {
					t.Fatalf("notification %d: %v", i, err)
				}
			}
			if got := reqs.n.Load(); got != 5 {
				t.Errorf("%d requests, want 5", got)
			}
		})
	}
}

// rawTCP is a loopback listener whose connections serve requests with
// answer until it returns false, then close.
type rawTCP struct {
	addr  string
	n     atomic.Int32 // requests read
	conns atomic.Int32 // connections accepted
}

func rawServer(t *testing.T, answer func(c net.Conn) bool) *rawTCP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := &rawTCP{addr: l.Addr().String()}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			rs.conns.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer func() { _ = c.Close() }()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					rs.n.Add(1)
					if !answer(c) {
						return
					}
				}
			})
		}
	})
	return rs
}

// TestDirectResponses: responses of every framing leave the connection in
// step for the next request, or closed.
func TestDirectResponses(t *testing.T) {
	for _, tc := range []struct {
		name      string
		answer    string
		wantErr   string // "": success
		wantConns int32  // for 3 requests
	}{
		{"empty", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "", 1},
		{"body", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "", 1},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "", 1},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", "", 1},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", "", 3},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "", 3},
		{"server error", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 9\r\n\r\ntry later", "unexpected status code 503: try later", 1},
		{"garbage", "SMTP ready\r\n\r\n", "malformed HTTP", 3},
		{"interim 100 Continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "", 1},
		{"chunked with trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Done: 1\r\n\r\n", "", 1},
		{"LF line ends", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", "", 1},
		{"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", "", 1},
		{"body until close", "HTTP/1.1 200 OK\r\n\r\nall of it", "", 3},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length", 3},
		{"gzip transfer coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding", 3},
		{"header line too long", "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("x", 5000) + "\r\n\r\n", "too long", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := rawServer(t, func(c net.Conn) bool {
				_, _ = io.WriteString(c, tc.answer)
				return tc.wantConns == 1
			})
			n := directWebhook(t, "http://"+rs.addr+"/hook")
			for i := range 3 {
				err := notifyOnce(t.Context(), t, n)
				switch {
				case tc.wantErr == "" && err != nil:
					t.Fatalf("notification %d: %v", i, err)
				case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
					t.Fatalf("notification %d: error %v, want %q", i, err, tc.wantErr)
				}
			}
			if reqs, conns := rs.n.Load(), rs.conns.Load(); reqs != 3 || conns != tc.wantConns {
				t.Errorf("%d requests on %d connections, want 3 on %d", reqs, conns, tc.wantConns)
			}
		})
	}
	t.Run("large body", func(t *testing.T) {
		big := strings.Repeat("x", 3<<20)
		cc := newConnCounter(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, big) }, nil)
		n := directWebhook(t, cc.srv.URL+"/hook")
		for i := range 3 {
			if err := notifyOnce(t.Context(), t, n); err != nil {
				t.Fatalf("notification %d: %v", i, err)
			}
		}
		// More than 1 MiB is not read to reuse the connection.
		cc.check(t, 3, 3)
	})
}

// TestDirectRedirect: a redirect is followed, as net/http's client does
// with the default http_config.
func TestDirectRedirect(t *testing.T) {
	var moved, target atomic.Int32
	cc := newConnCounter(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/old":
			moved.Add(1)
			http.Redirect(w, r, "/new", http.StatusTemporaryRedirect)
		case "/new":
			target.Add(1)
		}
	}, nil)
	n := directWebhook(t, cc.srv.URL+"/old")
	if err := notifyOnce(t.Context(), t, n); err != nil {
		t.Fatal(err)
	}
	// The direct attempt and net/http's each meet the redirect once.
	if moved.Load() != 2 || target.Load() != 1 {
		t.Errorf("/old got %d requests, /new %d; want 2 and 1", moved.Load(), target.Load())
	}
}

// TestDirectCancel: cancelling the context ends a request the receiver
// does not answer, at once.
func TestDirectCancel(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	n := directWebhook(t, rc.srv.URL+"/hook")
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err := notifyOnce(ctx, t, n)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %s", d)
	}
}

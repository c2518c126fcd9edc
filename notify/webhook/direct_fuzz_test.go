package webhook

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzReadHead compares readHead with net/http's ReadResponse: whatever
// answer net/http reads, readHead reads the same status code and body (or
// refuses it with an error of its own, never silently differently), and
// an answer it reads as reusable leaves the reader where net/http's does.
func FuzzReadHead(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 4\r\n\r\nslow",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\nNEXT",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nNEXT",
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\nNEXT",
		"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\ntry later",
		"HTTP/1.1 200 OK\nContent-Length: 2\n\nokNEXT",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nNEXT",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ours := bufio.NewReaderSize(strings.NewReader(s), 4096)
		a, fr, err := readHead(ours)
		if err != nil {
			return
		}
		var body []byte
		body, err = io.ReadAll(io.LimitReader(fr.body, 1<<20))
		if err != nil {
			return
		}
		theirs := bufio.NewReaderSize(strings.NewReader(s), 4096)
		resp, err := http.ReadResponse(theirs, nil)
		for err == nil && resp.StatusCode/100 == 1 && resp.StatusCode != http.StatusSwitchingProtocols {
			resp, err = http.ReadResponse(theirs, nil)
		}
		if err != nil {
			// net/http is stricter about some headers alertd does not
			// look at; a response it refuses is not compared.
			return
		}
		want, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return
		}
		if a.code != resp.StatusCode {
			t.Fatalf("status %d, net/http %d", a.code, resp.StatusCode)
		}
		if !bytes.Equal(body, want) {
			t.Fatalf("body %q, net/http %q", body, want)
		}
		if ra := resp.Header.Get("Retry-After"); a.retryAfter != ra && len(resp.Header.Values("Retry-After")) == 1 {
			t.Fatalf("Retry-After %q, net/http %q", a.retryAfter, ra)
		}
		if fr.reusable && !resp.Close {
			rest, _ := io.ReadAll(ours)
			if fr.trailer {
				// readHead's caller reads the trailer.
				return
			}
			wantRest, _ := io.ReadAll(theirs)
			if !bytes.Equal(rest, wantRest) {
				t.Fatalf("after the answer %q, net/http %q", rest, wantRest)
			}
		}
		if fr.reusable && resp.Close {
			t.Fatalf("reusable, net/http closes")
		}
	})
}

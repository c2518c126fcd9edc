package datasource_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/eval/datasource"
)

// cmpVector compares Vectors with readable label diffs and NaN == NaN.
var cmpVector = cmp.Options{
	cmp.Transformer("labels", func(l labels.Labels) string { return l.String() }),
	cmpopts.EquateNaNs(),
}

// evalTime is a query time with sub-millisecond digits to drop.
var evalTime = time.Unix(1700000000, 123_999_999)

// serve starts a test server on 127.0.0.1, closed when the test ends.
func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// reply answers every request with a fixed response.
func reply(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// gzipReply answers with a gzip-compressed body, as Prometheus does when
// the client accepts it.
func gzipReply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(status)
		gz := gzip.NewWriter(w)
		_, _ = gz.Write([]byte(body))
		_ = gz.Close()
	}
}

// success is a Prometheus success reply with the given data.
func success(data string) http.HandlerFunc {
	return reply(http.StatusOK, "application/json", `{"status":"success","data":`+data+`}`)
}

func newClient(t *testing.T, o datasource.Options) *datasource.Client {
	t.Helper()
	c, err := datasource.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// request is what the test server saw of a query.
type request struct {
	Method, Path, RawQuery, ContentType, Accept, UserAgent string
	Authorization, OrgID, Extra, Host                      string
	Form                                                   url.Values
}

// recorder returns a handler that records each request on the returned
// channel (which holds one) and answers with an empty vector.
func recorder() (http.HandlerFunc, <-chan request) {
	got := make(chan request, 1)
	return func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		select {
		case got <- request{
			Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			ContentType: r.Header.Get("Content-Type"), Accept: r.Header.Get("Accept"),
			UserAgent: r.Header.Get("User-Agent"), Authorization: r.Header.Get("Authorization"),
			OrgID: r.Header.Get("X-Scope-OrgID"), Extra: r.Header.Get("X-Extra"),
			Host: r.Host, Form: r.PostForm,
		}:
		default:
		}
		success(`{"resultType":"vector","result":[]}`)(w, r)
	}, got
}

func TestQueryRequest(t *testing.T) {
	form := func(timeout, ts string) url.Values {
		return url.Values{"query": {`up == 0`}, "time": {ts}, "timeout": {timeout}}
	}
	base := request{
		Method: http.MethodPost, Path: "/api/v1/query", ContentType: "application/x-www-form-urlencoded",
		Accept: "application/json", UserAgent: "alertd", Form: form("30", "1700000000.123"),
	}
	with := func(f func(*request)) request { r := base; f(&r); return r }
	for _, tc := range []struct {
		name string
		url  func(srv string) string // from the server's URL; nil = as is
		opts datasource.Options
		ts   time.Time
		want request
	}{
		{name: "defaults", want: base},
		{
			name: "path prefix and trailing slash",
			url:  func(srv string) string { return srv + "/prometheus/" },
			want: with(func(r *request) { r.Path = "/prometheus/api/v1/query" }),
		},
		{
			name: "query parameters of the base URL are kept",
			url:  func(srv string) string { return srv + "/select/0/prometheus?nocache=1" },
			want: with(func(r *request) { r.Path = "/select/0/prometheus/api/v1/query"; r.RawQuery = "nocache=1" }),
		},
		{
			name: "timeout",
			opts: datasource.Options{Timeout: 1500 * time.Millisecond},
			want: with(func(r *request) { r.Form = form("1.5", "1700000000.123") }),
		},
		{
			name: "whole second",
			ts:   time.Unix(1700000000, 0),
			want: with(func(r *request) { r.Form = form("30", "1700000000.000") }),
		},
		{
			name: "before the epoch",
			ts:   time.UnixMilli(-1250),
			want: with(func(r *request) { r.Form = form("30", "-1.250") }),
		},
		{
			name: "basic auth",
			opts: datasource.Options{HTTPConfig: config.HTTPClientConfig{
				BasicAuth: &config.BasicAuth{Username: "alice", Password: "wonderland"},
			}},
			want: with(func(r *request) { r.Authorization = "Basic YWxpY2U6d29uZGVybGFuZA==" }),
		},
		{
			name: "basic auth from the URL",
			url:  func(srv string) string { return strings.Replace(srv, "://", "://alice:wonderland@", 1) },
			want: with(func(r *request) { r.Authorization = "Basic YWxpY2U6d29uZGVybGFuZA==" }),
		},
		{
			name: "authorization",
			opts: datasource.Options{HTTPConfig: config.HTTPClientConfig{
				Authorization: &config.Authorization{Credentials: "t0ken"},
			}},
			want: with(func(r *request) { r.Authorization = "Bearer t0ken" }),
		},
		{
			name: "bearer_token",
			opts: datasource.Options{HTTPConfig: config.HTTPClientConfig{BearerToken: "t0ken"}},
			want: with(func(r *request) { r.Authorization = "Bearer t0ken" }),
		},
		{
			name: "headers",
			opts: datasource.Options{
				Headers: map[string]string{"x-scope-orgid": "tenant-1", "User-Agent": "custom/1", "Host": "prom.example.org"},
				HTTPConfig: config.HTTPClientConfig{HTTPHeaders: &config.Headers{Headers: map[string]config.Header{
					"X-Extra": {Values: []string{"extra"}},
				}}},
			},
			want: with(func(r *request) {
				r.OrgID, r.UserAgent, r.Extra, r.Host = "tenant-1", "custom/1", "extra", "prom.example.org"
			}),
		},
		{
			name: "Content-Type cannot be overridden",
			opts: datasource.Options{Headers: map[string]string{"Content-Type": "application/json"}},
			want: base,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, got := recorder()
			srv := serve(t, h)
			o := tc.opts
			o.URL = srv.URL
			if tc.url != nil {
				o.URL = tc.url(srv.URL)
			}
			ts := tc.ts
			if ts.IsZero() {
				ts = evalTime
			}
			want := tc.want
			if want.Host == "" {
				want.Host = strings.TrimPrefix(srv.URL, "http://")
			}
			if _, err := newClient(t, o).Query(t.Context(), `up == 0`, ts); err != nil {
				t.Fatalf("Query: %v", err)
			}
			select {
			case r := <-got:
				if diff := cmp.Diff(want, r); diff != "" {
					t.Errorf("request mismatch (-want +got):\n%s", diff)
				}
			default:
				t.Fatal("the server saw no request")
			}
		})
	}
}

func TestQueryResults(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want datasource.Vector
	}{
		{
			name: "vector",
			data: `{"resultType":"vector","result":[
				{"metric":{"__name__":"up","job":"node","instance":"b:9100"},"value":[1700000000.123,"0"]},
				{"metric":{"instance":"a:9100","job":"node","__name__":"up"},"value":[1700000000.123,"1"]}]}`,
			want: datasource.Vector{
				{Metric: labels.FromStrings("__name__", "up", "instance", "b:9100", "job", "node"), Value: 0},
				{Metric: labels.FromStrings("__name__", "up", "instance", "a:9100", "job", "node"), Value: 1},
			},
		},
		{
			name: "scalar",
			data: `{"resultType":"scalar","result":[1700000000.123,"1.5"]}`,
			want: datasource.Vector{{Metric: labels.EmptyLabels(), Value: 1.5}},
		},
		{
			name: "empty vector",
			data: `{"resultType":"vector","result":[]}`,
			want: datasource.Vector{},
		},
		{
			name: "special values",
			data: `{"resultType":"vector","result":[
				{"metric":{"v":"a"},"value":[1,"NaN"]},{"metric":{"v":"b"},"value":[1,"+Inf"]},
				{"metric":{"v":"c"},"value":[1,"-Inf"]},{"metric":{"v":"d"},"value":[1,"2.5e-07"]}]}`,
			want: datasource.Vector{
				{Metric: labels.FromStrings("v", "a"), Value: math.NaN()},
				{Metric: labels.FromStrings("v", "b"), Value: math.Inf(1)},
				{Metric: labels.FromStrings("v", "c"), Value: math.Inf(-1)},
				{Metric: labels.FromStrings("v", "d"), Value: 2.5e-7},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, success(tc.data))
			got, err := newClient(t, datasource.Options{URL: srv.URL}).Query(t.Context(), "q", evalTime)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if got == nil {
				t.Fatal("nil Vector for a success reply")
			}
			if diff := cmp.Diff(tc.want, got, cmpVector); diff != "" {
				t.Errorf("Vector mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestQueryLargeGzip decodes a large, gzip-compressed reply, as Prometheus
// sends it to clients that accept gzip (Go's transport does by default).
func TestQueryLargeGzip(t *testing.T) {
	const n = 10000
	var body bytes.Buffer
	body.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
	for i := range n {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"metric":{"__name__":"up","instance":"10.0.%d.%d:9100","job":"node"},"value":[1700000000.123,"%d"]}`, i/256, i%256, i)
	}
	body.WriteString(`]}}`)
	gz := gzipReply(http.StatusOK, body.String())
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			w.WriteHeader(http.StatusNotAcceptable)
			return
		}
		gz(w, r)
	})
	got, err := newClient(t, datasource.Options{URL: srv.URL}).Query(t.Context(), "up", evalTime)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(got) != n {
		t.Fatalf("got %d samples, want %d", len(got), n)
	}
	last := got[n-1]
	want := datasource.Sample{Metric: labels.FromStrings("__name__", "up", "instance", "10.0.39.15:9100", "job", "node"), Value: n - 1}
	if diff := cmp.Diff(want, last, cmpVector); diff != "" {
		t.Errorf("last sample (-want +got):\n%s", diff)
	}
}

func TestQueryFailures(t *testing.T) {
	htmlPage := "<html>\r\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n" +
		"<hr><center>nginx</center>\n" + strings.Repeat("<!-- padding to make the page long -->\n", 20) + "</body>\n</html>\n"
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    datasource.QueryError // Err is not compared
		wantErr string                // exact Error()
	}{
		{
			name:    "bad_data",
			handler: reply(400, "application/json", `{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"}`),
			want:    datasource.QueryError{StatusCode: 400, Type: "bad_data", Message: "1:5: parse error: unexpected end of input"},
			wantErr: "query failed: bad_data (HTTP 400): 1:5: parse error: unexpected end of input",
		},
		{
			name:    "execution",
			handler: reply(422, "application/json", `{"status":"error","errorType":"execution","error":"found duplicate series for the match group"}`),
			want:    datasource.QueryError{StatusCode: 422, Type: "execution", Message: "found duplicate series for the match group"},
			wantErr: "query failed: execution (HTTP 422): found duplicate series for the match group",
		},
		{
			name:    "server timeout",
			handler: reply(503, "application/json", `{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation","warnings":["w"]}`),
			want:    datasource.QueryError{StatusCode: 503, Type: "timeout", Message: "query timed out in expression evaluation", Retryable: true},
			wantErr: "query failed: timeout (HTTP 503): query timed out in expression evaluation",
		},
		{
			name:    "internal",
			handler: reply(500, "application/json", `{"status":"error","errorType":"internal","error":"storage error"}`),
			want:    datasource.QueryError{StatusCode: 500, Type: "internal", Message: "storage error", Retryable: true},
			wantErr: "query failed: internal (HTTP 500): storage error",
		},
		{
			name:    "too many requests",
			handler: reply(429, "application/json", `{"status":"error","errorType":"too_many_requests","error":"slow down"}`),
			want:    datasource.QueryError{StatusCode: 429, Type: "too_many_requests", Message: "slow down", Retryable: true},
			wantErr: "query failed: too_many_requests (HTTP 429): slow down",
		},
		{
			name:    "gzipped error",
			handler: gzipReply(400, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:1: parse error: unexpected \"}\""}`),
			want:    datasource.QueryError{StatusCode: 400, Type: "bad_data", Message: `invalid parameter "query": 1:1: parse error: unexpected "}"`},
			wantErr: `query failed: bad_data (HTTP 400): invalid parameter "query": 1:1: parse error: unexpected "}"`,
		},
		{
			name: "unexpected Content-Encoding",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Encoding", "br")
				_, _ = w.Write([]byte("\x1b\x00"))
			},
			want:    datasource.QueryError{StatusCode: 200, Message: `unsupported Content-Encoding "br"`},
			wantErr: `query failed: invalid response body (HTTP 200): unsupported Content-Encoding "br"`,
		},
		{
			name: "corrupt gzip in an error reply",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				w.WriteHeader(http.StatusBadGateway)
				_, _ = w.Write([]byte("upstream down"))
			},
			want:    datasource.QueryError{StatusCode: 502, Message: "upstream down", Retryable: true},
			wantErr: "query failed: HTTP 502 Bad Gateway; body: upstream down",
		},
		{
			name: "corrupt gzip",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				_, _ = w.Write([]byte("not gzip at all"))
			},
			want:    datasource.QueryError{StatusCode: 200, Message: "read response body: gzip: invalid header", Retryable: true},
			wantErr: "query failed: read response body (HTTP 200): gzip: invalid header",
		},
		{
			name:    "Prometheus starting: 503 plain text",
			handler: reply(503, "text/plain; charset=utf-8", "Service Unavailable\n"),
			want:    datasource.QueryError{StatusCode: 503, Message: "Service Unavailable", Retryable: true},
			wantErr: "query failed: HTTP 503 Service Unavailable; body: Service Unavailable",
		},
		{
			name:    "proxy HTML page",
			handler: reply(502, "text/html", htmlPage),
			want: datasource.QueryError{StatusCode: 502, Retryable: true,
				Message: "<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> <hr><center>nginx</center> <!-- padding to make the page long --> <!-- padding to make the page long...",
			},
			wantErr: "query failed: HTTP 502 Bad Gateway; body: <html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> <hr><center>nginx</center> <!-- padding to make the page long --> <!-- padding to make the page long...",
		},
		{
			name:    "empty error body",
			handler: reply(504, "", ""),
			want:    datasource.QueryError{StatusCode: 504, Retryable: true},
			wantErr: "query failed: HTTP 504 Gateway Timeout; empty body",
		},
		{
			name:    "gateway JSON that is not a Prometheus error",
			handler: reply(401, "application/json", `{"message":"invalid token"}`),
			want:    datasource.QueryError{StatusCode: 401, Message: `{"message":"invalid token"}`},
			wantErr: `query failed: HTTP 401 Unauthorized; body: {"message":"invalid token"}`,
		},
		{
			name:    "non-standard status",
			handler: reply(599, "", "boom"),
			want:    datasource.QueryError{StatusCode: 599, Message: "boom", Retryable: true},
			wantErr: "query failed: HTTP 599; body: boom",
		},
		{
			name:    "redirect not followed",
			handler: func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/login", http.StatusFound) },
			want:    datasource.QueryError{StatusCode: 302},
			wantErr: "query failed: HTTP 302 Found; empty body",
		},
		{
			name:    "200 with status error",
			handler: reply(200, "application/json", `{"status":"error","errorType":"execution","error":"vector cannot contain metrics with the same labelset"}`),
			want:    datasource.QueryError{StatusCode: 200, Type: "execution", Message: "vector cannot contain metrics with the same labelset"},
			wantErr: "query failed: execution (HTTP 200): vector cannot contain metrics with the same labelset",
		},
		{
			name:    "200 with HTML (URL points at a UI)",
			handler: reply(200, "text/html", "<!doctype html>\n<html lang=\"en\"><head><title>Grafana</title>"),
			want: datasource.QueryError{StatusCode: 200,
				Message: `invalid character '<', expected '{' at offset 0; body: <!doctype html> <html lang="en"><head><title>Grafana</title>`},
			wantErr: `query failed: invalid response body (HTTP 200): invalid character '<', expected '{' at offset 0; body: <!doctype html> <html lang="en"><head><title>Grafana</title>`,
		},
		{
			name:    "200 with truncated JSON",
			handler: reply(200, "application/json", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1,"1"]`),
			want: datasource.QueryError{StatusCode: 200,
				Message: `unexpected end of JSON input at offset 95; body: {"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1,"1"]`},
			wantErr: `query failed: invalid response body (HTTP 200): unexpected end of JSON input at offset 95; body: {"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1,"1"]`,
		},
		{
			name:    "200 with empty body",
			handler: reply(200, "application/json", ""),
			want:    datasource.QueryError{StatusCode: 200, Message: "unexpected end of JSON input at offset 0"},
			wantErr: "query failed: invalid response body (HTTP 200): unexpected end of JSON input at offset 0",
		},
		{
			name:    "200 without data",
			handler: reply(200, "application/json", `{"status":"success"}`),
			want:    datasource.QueryError{StatusCode: 200, Message: `missing "data"`},
			wantErr: `query failed: invalid response (HTTP 200): missing "data"`,
		},
		{
			name:    "200 without status",
			handler: reply(200, "application/json", `{"data":{"resultType":"vector","result":[]}}`),
			want:    datasource.QueryError{StatusCode: 200, Message: `missing "status"`},
			wantErr: `query failed: invalid response (HTTP 200): missing "status"`,
		},
		{
			name:    "200 without result",
			handler: success(`{"resultType":"vector"}`),
			want:    datasource.QueryError{StatusCode: 200, Message: `missing "data.result"`},
			wantErr: `query failed: invalid response (HTTP 200): missing "data.result"`,
		},
		{
			name:    "200 with a bad sample value",
			handler: success(`{"resultType":"vector","result":[{"metric":{},"value":[1,"one"]}]}`),
			want:    datasource.QueryError{StatusCode: 200, Message: `invalid sample value "one" at offset 84; body: {"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"one"]}]}}`},
			wantErr: `query failed: invalid response body (HTTP 200): invalid sample value "one" at offset 84; body: {"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"one"]}]}}`,
		},
		{
			name:    "matrix",
			handler: success(`{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1,"1"],[2,"2"]]}]}`),
			want:    datasource.QueryError{StatusCode: 200, Message: "rule result is not a vector or scalar (got matrix)"},
			wantErr: "rule result is not a vector or scalar (got matrix)",
		},
		{
			name:    "string",
			handler: success(`{"resultType":"string","result":[1,"hello"]}`),
			want:    datasource.QueryError{StatusCode: 200, Message: "rule result is not a vector or scalar (got string)"},
			wantErr: "rule result is not a vector or scalar (got string)",
		},
		{
			name: "native histogram",
			handler: success(`{"resultType":"vector","result":[{"metric":{"__name__":"rpc_duration_seconds","job":"api"},
				"histogram":[1700000000.123,{"count":"3","sum":"0.25","buckets":[[0,"0.1","0.2","3"]]}]}]}`),
			want: datasource.QueryError{StatusCode: 200,
				Message: `native histogram results are not supported (1 series with a histogram sample, first: {__name__="rpc_duration_seconds", job="api"})`},
			wantErr: `native histogram results are not supported (1 series with a histogram sample, first: {__name__="rpc_duration_seconds", job="api"})`,
		},
		{
			name: "body shorter than Content-Length",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Length", "1000")
				_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[`))
			},
			want:    datasource.QueryError{StatusCode: 200, Message: "read response body: unexpected EOF", Retryable: true},
			wantErr: "query failed: read response body (HTTP 200): unexpected EOF",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, tc.handler)
			got, err := newClient(t, datasource.Options{URL: srv.URL}).Query(t.Context(), "q", evalTime)
			checkQueryError(t, got, err, tc.want, tc.wantErr)
		})
	}
}

// checkQueryError checks that a query failed with the wanted *QueryError
// and returned nothing.
func checkQueryError(t *testing.T, got datasource.Vector, err error, want datasource.QueryError, wantErr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; got %v", got)
	}
	if got != nil {
		t.Errorf("a Vector came with the error: %v", got)
	}
	if err.Error() != wantErr {
		t.Errorf("error text:\n got %s\nwant %s", err, wantErr)
	}
	qerr, ok := errors.AsType[*datasource.QueryError](err)
	if !ok {
		t.Fatalf("error is %T, not a *QueryError", err)
	}
	if diff := cmp.Diff(&want, qerr, cmpopts.IgnoreUnexported(datasource.QueryError{}), cmpopts.IgnoreFields(datasource.QueryError{}, "Err")); diff != "" {
		t.Errorf("QueryError mismatch (-want +got):\n%s", diff)
	}
}

func TestQueryConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens on its address any more
	got, err := newClient(t, datasource.Options{URL: srv.URL}).Query(t.Context(), "q", evalTime)
	if got != nil || err == nil {
		t.Fatalf("got %v, %v; want an error and nothing", got, err)
	}
	qerr, ok := errors.AsType[*datasource.QueryError](err)
	if !ok || qerr.StatusCode != 0 || !qerr.Retryable {
		t.Fatalf("got %#v, want a retryable *QueryError without status", err)
	}
	wantPrefix := "query failed: POST " + srv.URL + "/api/v1/query: dial tcp "
	if !strings.HasPrefix(err.Error(), wantPrefix) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %q: want prefix %q and \"connection refused\"", err, wantPrefix)
	}
}

// slowHandler waits until the client goes away (or a bound passes),
// optionally after sending the start of a reply.
func slowHandler(partial string, arrived chan<- struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Read the request first: only then does the server notice
		// the client going away and cancel r.Context().
		_, _ = io.Copy(io.Discard, r.Body)
		if partial != "" {
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(partial))
			_ = http.NewResponseController(w).Flush()
		}
		if arrived != nil {
			arrived <- struct{}{}
		}
		select { // simulate a slow server; bounded
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
}

func TestQueryTimeout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		partial string
	}{
		{name: "no response", partial: ""},
		{name: "slow body", partial: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, slowHandler(tc.partial, nil))
			c := newClient(t, datasource.Options{URL: srv.URL, Timeout: 100 * time.Millisecond})
			start := time.Now()
			got, err := c.Query(t.Context(), "q", evalTime)
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("query took %s with a 100ms timeout", elapsed)
			}
			checkQueryError(t, got, err, datasource.QueryError{Message: "query timed out after 100ms", Retryable: true},
				"query timed out after 100ms")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false", err)
			}
		})
	}
}

func TestQueryCanceled(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := serve(t, slowHandler("", arrived))
	c := newClient(t, datasource.Options{URL: srv.URL})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-arrived:
			cancel()
		case <-time.After(10 * time.Second):
		}
	})
	got, err := c.Query(ctx, "q", evalTime)
	wg.Wait()
	checkQueryError(t, got, err, datasource.QueryError{Message: "query canceled: context canceled"}, "query canceled: context canceled")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(%v, context.Canceled) = false", err)
	}
}

func TestQueryTLS(t *testing.T) {
	srv := httptest.NewTLSServer(success(`{"resultType":"scalar","result":[1,"7"]}`))
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		tls     config.TLSConfig
		wantErr string // substring; "" for success
	}{
		{name: "ca_file", tls: config.TLSConfig{CAFile: caFile}},
		{name: "insecure_skip_verify", tls: config.TLSConfig{InsecureSkipVerify: true}},
		{name: "unknown CA", wantErr: "certificate signed by unknown authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, datasource.Options{URL: srv.URL, HTTPConfig: config.HTTPClientConfig{TLSConfig: tc.tls}})
			got, err := c.Query(t.Context(), "q", evalTime)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Query: %v", err)
				}
				if diff := cmp.Diff(datasource.Vector{{Metric: labels.EmptyLabels(), Value: 7}}, got, cmpVector); diff != "" {
					t.Errorf("Vector mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if got != nil || err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, %v; want an error containing %q", got, err, tc.wantErr)
			}
			if qerr, ok := errors.AsType[*datasource.QueryError](err); !ok || qerr.Retryable || qerr.StatusCode != 0 {
				t.Errorf("got %#v, want a non-retryable *QueryError without status", err)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    datasource.Options
		wantErr string
	}{
		{"empty URL", datasource.Options{}, "datasource URL is empty"},
		{"unparsable URL", datasource.Options{URL: "http://127.0.0.1:port"}, `invalid datasource URL: invalid port ":port" after host`},
		{"bad scheme", datasource.Options{URL: "ftp://prom:9090"}, "invalid datasource URL ftp://prom:9090: scheme must be http or https"},
		{"no scheme", datasource.Options{URL: "prom:9090"}, "invalid datasource URL prom:9090: scheme must be http or https"},
		{"no host", datasource.Options{URL: "http:///api"}, "invalid datasource URL http:///api: no host"},
		{"negative timeout", datasource.Options{URL: "http://prom", Timeout: -time.Second}, "datasource timeout must not be negative, got -1s"},
		{
			"two kinds of credentials",
			datasource.Options{URL: "http://prom", HTTPConfig: config.HTTPClientConfig{
				BasicAuth: &config.BasicAuth{Username: "a"}, BearerToken: "t0ken-t0ken",
			}},
			"datasource http_config: at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := datasource.New(tc.opts)
			if err == nil {
				t.Fatalf("New succeeded: %v", c)
			}
			if err.Error() != tc.wantErr {
				t.Errorf("error:\n got %s\nwant %s", err, tc.wantErr)
			}
		})
	}
}

// TestRedaction drives every kind of failure with secrets in the URL,
// the credentials and the headers, against servers that echo them, and
// checks that no error or log line shows them.
func TestRedaction(t *testing.T) {
	const (
		password = "pa55-w0rd-s3cret"
		token    = "t0ken-s3cret-value"
		apiKey   = "ap1-k3y-s3cret"
	)
	secrets := []string{password, token, apiKey}
	echo := func(status int, format string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, pw, _ := r.BasicAuth()
			_, _ = fmt.Fprintf(w, format, pw+" "+r.Header.Get("Authorization")+" "+r.Header.Get("X-Api-Key"))
		}
	}
	withUser := func(u string) string { return strings.Replace(u, "://", "://alice:"+password+"@", 1) }
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	var errs []string
	newErr := func(o datasource.Options) {
		if _, err := datasource.New(o); err != nil {
			errs = append(errs, err.Error())
		} else {
			t.Errorf("New(%q) succeeded, want an error", o.URL)
		}
	}
	newErr(datasource.Options{URL: "ftp://alice:" + password + "@prom"})
	newErr(datasource.Options{URL: "http://alice:" + password + "@prom:port"})
	newErr(datasource.Options{URL: "http://alice:" + password + "@/api"})
	newErr(datasource.Options{URL: "http://alice:" + password + "@prom", HTTPConfig: config.HTTPClientConfig{
		BasicAuth: &config.BasicAuth{Username: "a", Password: password}, BearerToken: token,
	}})

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc // nil: nothing listens
		auth    config.HTTPClientConfig
		timeout time.Duration
	}{
		{name: "plain 401 echo", handler: echo(401, "bad credentials: %s")},
		{name: "JSON error echo", handler: echo(400, `{"status":"error","errorType":"bad_data","error":"not allowed: %s"}`)},
		{name: "200 garbage echo", handler: echo(200, `oops %s`)},
		{name: "200 error echo", handler: echo(200, `{"status":"error","errorType":"execution","error":"%s"}`)},
		{name: "warnings echo", handler: echo(200, `{"status":"success","warnings":["%s"],"data":{"resultType":"vector","result":[]}}`)},
		{name: "bearer echo", handler: echo(403, "forbidden: %s"), auth: config.HTTPClientConfig{Authorization: &config.Authorization{Credentials: token}}},
		{name: "basic auth echo", handler: echo(401, "%s"), auth: config.HTTPClientConfig{BasicAuth: &config.BasicAuth{Username: "bob", Password: password}}},
		{name: "connection refused"},
		{name: "timeout", handler: slowHandler("", nil), timeout: 50 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := closed.URL
			if tc.handler != nil {
				u = serve(t, tc.handler).URL
			}
			c := newClient(t, datasource.Options{
				URL: withUser(u), HTTPConfig: tc.auth, Timeout: tc.timeout, Logger: logger,
				Headers: map[string]string{"X-Api-Key": apiKey},
			})
			if _, err := c.Query(t.Context(), "q", evalTime); err != nil {
				errs = append(errs, err.Error())
				if qerr, ok := errors.AsType[*datasource.QueryError](err); ok {
					errs = append(errs, qerr.Message)
				}
			}
		})
	}
	if len(errs) < 12 {
		t.Errorf("only %d errors collected: %q", len(errs), errs)
	}
	if !strings.Contains(logs.String(), "query returned annotations") {
		t.Errorf("no warning was logged: %s", logs.String())
	}
	for _, s := range append(errs, logs.String()) {
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("secret %q leaked: %s", secret, s)
			}
		}
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ok := serve(t, reply(200, "application/json", `{"status":"success","warnings":["PromQL warning: w1","w2"],"infos":["PromQL info: i1"],"data":{"resultType":"vector","result":[]}}`))
	bad := serve(t, reply(400, "application/json", `{"status":"error","errorType":"bad_data","error":"parse error"}`))

	// Two clients on one Registerer, as after a config reload.
	c1 := newClient(t, datasource.Options{URL: ok.URL, Registerer: reg, Logger: logger})
	c2 := newClient(t, datasource.Options{URL: bad.URL, Registerer: reg})
	if _, err := c1.Query(t.Context(), "q", evalTime); err != nil {
		t.Fatalf("Query: %v", err)
	}
	if _, err := c2.Query(t.Context(), "q", evalTime); err == nil {
		t.Fatal("Query succeeded against an error reply")
	}

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += fmt.Sprintf("{%s=%q}", l.GetName(), l.GetValue())
			}
			switch {
			case m.GetCounter() != nil:
				got[name] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				got[name+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	want := map[string]float64{
		`alertd_datasource_requests_total{result="success"}`: 1,
		`alertd_datasource_requests_total{result="error"}`:   1,
		`alertd_datasource_warnings_total`:                   3,
		`alertd_datasource_request_duration_seconds_count`:   2,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics mismatch (-want +got):\n%s", diff)
	}
	for _, s := range []string{"query returned annotations", "component=datasource", "PromQL warning: w1", "PromQL info: i1"} {
		if !strings.Contains(logs.String(), s) {
			t.Errorf("debug log lacks %q:\n%s", s, logs.String())
		}
	}
}

func TestConcurrentQueries(t *testing.T) {
	srv := serve(t, success(`{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1,"1"]}]}`))
	c := newClient(t, datasource.Options{URL: srv.URL, Registerer: prometheus.NewRegistry()})
	var wg sync.WaitGroup
	errs := make(chan error, 8*5)
	for range 8 {
		wg.Go(func() {
			for range 5 {
				if _, err := c.Query(t.Context(), "q", evalTime); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

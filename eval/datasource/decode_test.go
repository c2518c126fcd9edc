package datasource

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/prometheus/model/labels"
)

// vectorCmp compares Vectors with readable label diffs and NaN == NaN.
var vectorCmp = cmp.Options{
	cmp.Transformer("labels", func(l labels.Labels) string { return l.String() }),
	cmpopts.EquateNaNs(),
}

// readers wraps a body in readers that split it differently, so that
// every token crosses a buffer boundary somewhere.
var readers = []struct {
	name string
	wrap func([]byte) io.Reader
}{
	{"whole", func(b []byte) io.Reader { return bytes.NewReader(b) }},
	{"one_byte", func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
	{"half", func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
	{"data_err", func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
}

// decodeVector decodes a 2xx body as Client.Query does.
func decodeVector(r io.Reader) (Vector, error) {
	resp, err := decodeResponse(r)
	if err != nil {
		return nil, err
	}
	vec, qerr := resp.vector(200)
	if qerr != nil {
		return nil, qerr
	}
	return vec, nil
}

func TestDecodeVector(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want Vector
	}{
		{
			name: "vector",
			body: `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"__name__":"up","job":"api","instance":"a:1"},"value":[1700000000.123,"1"]},
				{"metric":{"job":"db"},"value":[1700000000.123,"0.5"]}]}}`,
			want: Vector{
				{Metric: labels.FromStrings("__name__", "up", "instance", "a:1", "job", "api"), Value: 1},
				{Metric: labels.FromStrings("job", "db"), Value: 0.5},
			},
		},
		{
			name: "labels sorted",
			body: `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"z":"1","a":"2","m":"3","__name__":"x"},"value":[1,"2"]}]}}`,
			want: Vector{{Metric: labels.FromStrings("__name__", "x", "a", "2", "m", "3", "z", "1"), Value: 2}},
		},
		{
			name: "empty label value dropped",
			body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"","b":"1"},"value":[1,"2"]}]}}`,
			want: Vector{{Metric: labels.FromStrings("b", "1"), Value: 2}},
		},
		{
			name: "no metric",
			body: `{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"2"]},{"metric":null,"value":[1,"3"]},{"metric":{},"value":[1,"4"]}]}}`,
			want: Vector{{Metric: labels.EmptyLabels(), Value: 2}, {Metric: labels.EmptyLabels(), Value: 3}, {Metric: labels.EmptyLabels(), Value: 4}},
		},
		{
			name: "special values",
			body: `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"v":"nan"},"value":[1,"NaN"]},
				{"metric":{"v":"inf"},"value":[1,"+Inf"]},
				{"metric":{"v":"-inf"},"value":[1,"-Inf"]},
				{"metric":{"v":"tiny"},"value":[1,"1e-07"]},
				{"metric":{"v":"big"},"value":[1,"1.7976931348623157e+308"]},
				{"metric":{"v":"neg"},"value":[1,"-42.25"]},
				{"metric":{"v":"zero"},"value":[1,"-0"]}]}}`,
			want: Vector{
				{Metric: labels.FromStrings("v", "nan"), Value: math.NaN()},
				{Metric: labels.FromStrings("v", "inf"), Value: math.Inf(1)},
				{Metric: labels.FromStrings("v", "-inf"), Value: math.Inf(-1)},
				{Metric: labels.FromStrings("v", "tiny"), Value: 1e-7},
				{Metric: labels.FromStrings("v", "big"), Value: math.MaxFloat64},
				{Metric: labels.FromStrings("v", "neg"), Value: -42.25},
				{Metric: labels.FromStrings("v", "zero"), Value: math.Copysign(0, -1)},
			},
		},
		{
			name: "escapes",
			body: `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"q\"k":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00 \u2603"},"value":[1,"1"]}]}}`,
			want: Vector{{Metric: labels.FromStrings(`q"k`, "a\"b\\c/d\n\té😀 ☃"), Value: 1}},
		},
		{
			name: "utf-8 names",
			body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"http.status":"200","ünïcode":"✓"},"value":[1,"1"]}]}}`,
			want: Vector{{Metric: labels.FromStrings("http.status", "200", "ünïcode", "✓"), Value: 1}},
		},
		{
			name: "scalar",
			body: `{"status":"success","data":{"resultType":"scalar","result":[1700000000.123,"42"]}}`,
			want: Vector{{Metric: labels.EmptyLabels(), Value: 42}},
		},
		{
			name: "scalar NaN",
			body: `{"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}}`,
			want: Vector{{Metric: labels.EmptyLabels(), Value: math.NaN()}},
		},
		{
			name: "empty vector",
			body: `{"status":"success","data":{"resultType":"vector","result":[]}}`,
			want: Vector{},
		},
		{
			name: "null vector",
			body: `{"status":"success","data":{"resultType":"vector","result":null}}`,
			want: Vector{},
		},
		{
			name: "keys in any order, unknown keys skipped",
			body: ` {"warnings":["w1"],"infos":["i1"],"data":{"stats":{"timings":{"a":[1,2,{"b":null}]},"x":true,"y":false},
				"result":[{"value":[1,"7"],"extra":[{}],"metric":{"b":"2","a":"1"}}],"resultType":"vector"},
				"unknown":{"nested":[[["deep"]]]},"status":"success"} ` + "\n",
			want: Vector{{Metric: labels.FromStrings("a", "1", "b", "2"), Value: 7}},
		},
		{
			name: "scalar before resultType",
			body: `{"data":{"result":[1,"3"],"resultType":"scalar"},"status":"success"}`,
			want: Vector{{Metric: labels.EmptyLabels(), Value: 3}},
		},
		{
			name: "whitespace everywhere",
			body: "\r\n\t{ \"status\" : \"success\" , \"data\" : { \"resultType\" : \"vector\" , \"result\" : [ { \"metric\" : { \"a\" : \"b\" } , \"value\" : [ 1 , \"2\" ] } ] } }\n",
			want: Vector{{Metric: labels.FromStrings("a", "b"), Value: 2}},
		},
	} {
		for _, rd := range readers {
			t.Run(tc.name+"/"+rd.name, func(t *testing.T) {
				got, err := decodeVector(rd.wrap([]byte(tc.body)))
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if got == nil {
					t.Fatal("got nil Vector for a success reply")
				}
				if diff := cmp.Diff(tc.want, got, vectorCmp); diff != "" {
					t.Errorf("Vector mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestDecodeWarnings(t *testing.T) {
	body := `{"status":"success","warnings":["PromQL warning: a","b"],"infos":["PromQL info: c"],"data":{"resultType":"vector","result":[]}}`
	resp, err := decodeResponse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"PromQL warning: a", "b"}, resp.warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"PromQL info: c"}, resp.infos); diff != "" {
		t.Errorf("infos (-want +got):\n%s", diff)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want string // exact Error() of the result
	}{
		{"empty body", ``, "unexpected end of JSON input at offset 0"},
		{"html", "<html>\n<body>oops</body>", "invalid character '<', expected '{' at offset 0"},
		{"truncated", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b`, "unexpected end of JSON input at offset 77"},
		{"truncated after value", `{"status":"success","data":{"resultType":"vector","result":[]}`, "unexpected end of JSON input at offset 62"},
		{"trailing data", `{"status":"success","data":{"resultType":"vector","result":[]}} x`, "invalid character 'x' after top-level value at offset 64"},
		{"two documents", `{"status":"success"}{}`, "invalid character '{' after top-level value at offset 20"},
		{"missing comma", `{"status":"success" "data":{}}`, `invalid character '"' after element, expected ',' or '}' at offset 20`},
		{"bad escape", `{"status":"succ\xess"}`, `invalid escape character 'x' in string at offset 16`},
		{"control char", "{\"status\":\"a\nb\"}", `invalid control character "\n" in string at offset 12`},
		{"bad unicode escape", `{"status":"\u12G4"}`, `invalid character 'G' in \u escape at offset 15`},
		{"status not string", `{"status":1}`, `invalid character '1' at start of status, expected string at offset 10`},
		{"result not array", `{"status":"success","data":{"resultType":"vector","result":{}}}`, `invalid character '{' at start of data.result, expected '[' at offset 59`},
		{"bad value", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}}`, `invalid sample value "abc" at offset 84`},
		{"bad timestamp", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":["1","2"]}]}}`, `invalid character '"', expected number at offset 82`},
		{"bad number", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1-2,"2"]}]}}`, `invalid number "1-2" at offset 82`},
		{"bad literal", `{"status":"success","x":nul}`, `invalid character '}' in literal null at offset 27`},
		{"label value not string", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"2"]}]}}`, `invalid character '1', expected string at offset 75`},
		{"duplicate label", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1","a":"2"},"value":[1,"2"]}]}}`, `duplicate label name "a" in series at offset 104`},
		{"too deep", `{"x":` + strings.Repeat("[", maxDepth+2), `JSON nested too deeply at offset 1006`},
		{"status error", `{"status":"error","errorType":"bad_data","error":"parse error: x"}`, `query failed: bad_data (HTTP 200): parse error: x`},
		{"status error without details", `{"status":"error"}`, `query failed: HTTP 200: status "error" without an error message`},
		{"missing status", `{"data":{"resultType":"vector","result":[]}}`, `query failed: invalid response (HTTP 200): missing "status"`},
		{"unknown status", `{"status":"maybe","data":{"resultType":"vector","result":[]}}`, `query failed: invalid response (HTTP 200): unknown status "maybe"`},
		{"missing data", `{"status":"success"}`, `query failed: invalid response (HTTP 200): missing "data"`},
		{"null data", `{"status":"success","data":null}`, `query failed: invalid response (HTTP 200): missing "data"`},
		{"missing resultType", `{"status":"success","data":{"result":[]}}`, `query failed: invalid response (HTTP 200): missing "data.resultType"`},
		{"unknown resultType", `{"status":"success","data":{"resultType":"table","result":[]}}`, `query failed: invalid response (HTTP 200): unknown resultType "table"`},
		{"missing result", `{"status":"success","data":{"resultType":"vector"}}`, `query failed: invalid response (HTTP 200): missing "data.result"`},
		{"matrix", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"2"]]}]}}`, `rule result is not a vector or scalar (got matrix)`},
		{"matrix before resultType", `{"status":"success","data":{"result":[{"metric":{},"values":[[1,"1"]]}],"resultType":"matrix"}}`, `rule result is not a vector or scalar (got matrix)`},
		{"string", `{"status":"success","data":{"resultType":"string","result":[1,"hello"]}}`, `rule result is not a vector or scalar (got string)`},
		{"string before resultType", `{"status":"success","data":{"result":[1,"hello"],"resultType":"string"}}`, `rule result is not a vector or scalar (got string)`},
		{"scalar with vector shape", `{"status":"success","data":{"resultType":"scalar","result":[]}}`, `query failed: invalid response (HTTP 200): data.result is not a scalar [<time>, "<value>"]`},
		{"scalar null", `{"status":"success","data":{"resultType":"scalar","result":null}}`, `query failed: invalid response (HTTP 200): data.result is not a scalar [<time>, "<value>"]`},
		{"scalar bad value", `{"status":"success","data":{"resultType":"scalar","result":[1,"x"]}}`, `query failed: invalid response (HTTP 200): invalid sample value "x"`},
		{"vector with pair shape", `{"status":"success","data":{"resultType":"vector","result":[1,"2"]}}`, `query failed: invalid response (HTTP 200): data.result is not a vector`},
		{"series without value", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"}}]}}`, `query failed: invalid response (HTTP 200): 1 series without a "value" in a vector result`},
		{
			"histogram",
			`{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"__name__":"rpc_seconds","job":"api"},"histogram":[1,{"count":"2","sum":"0.5","buckets":[[0,"0","0.5","2"]]}]},
				{"metric":{"a":"1"},"value":[1,"1"]},
				{"metric":{"__name__":"rpc_seconds","job":"db"},"histogram":[1,{"count":"1","sum":"1","buckets":[]}]}]}}`,
			`native histogram results are not supported (2 series with a histogram sample, first: {__name__="rpc_seconds", job="api"})`,
		},
	} {
		for _, rd := range readers {
			t.Run(tc.name+"/"+rd.name, func(t *testing.T) {
				got, err := decodeVector(rd.wrap([]byte(tc.body)))
				if err == nil {
					t.Fatalf("no error, got %v", got)
				}
				if got != nil {
					t.Errorf("got a Vector with the error: %v", got)
				}
				if err.Error() != tc.want {
					t.Errorf("error:\n got %s\nwant %s", err, tc.want)
				}
			})
		}
	}
}

func TestDecodeReadError(t *testing.T) {
	body := `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"}`
	boom := errors.New("connection reset by peer")
	_, err := decodeVector(io.MultiReader(strings.NewReader(body), iotest.ErrReader(boom)))
	re, ok := errors.AsType[*readError](err)
	if !ok || !errors.Is(re, boom) {
		t.Fatalf("got %v (%T), want a readError wrapping %v", err, err, boom)
	}
}

// TestReadStringMatchesEncodingJSON checks string unescaping against
// encoding/json, lone surrogates included.
func TestReadStringMatchesEncodingJSON(t *testing.T) {
	for _, lit := range []string{
		`""`, `"plain"`, `"\"\\\/\b\f\n\r\t"`, `"\u0041\u00e9\u20ac"`, `"\ud83d\ude00"`,
		`"\ud83d"`, `"\ude00"`, `"\ud83dx"`, `"\ud83d\n"`, `"\ud83d\ud83d\ude00"`, `"\ud83d\u0041"`,
		`"\uDBFF\uDFFF"`, `"é✓😀"`, `"a\u0000b"`,
	} {
		t.Run(lit, func(t *testing.T) {
			checkReadString(t, []byte(lit))
		})
	}
}

func checkReadString(t *testing.T, lit []byte) {
	t.Helper()
	var want string
	if err := json.Unmarshal(lit, &want); err != nil {
		t.Skipf("not a JSON string: %v", err)
	}
	for _, rd := range readers {
		got, err := newJSONReader(rd.wrap(lit), 16).readString(nil)
		if err != nil {
			t.Fatalf("%s: readString(%s): %v", rd.name, lit, err)
		}
		if string(got) != want {
			t.Fatalf("%s: readString(%s) = %q, encoding/json says %q", rd.name, lit, got, want)
		}
	}
}

func FuzzReadString(f *testing.F) {
	for _, s := range []string{`"a"`, `"\ud83d\ude00"`, `"\ud83dx"`, `"\u00e9\n"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, lit []byte) {
		if !utf8.Valid(lit) || !json.Valid(lit) || len(lit) == 0 || lit[0] != '"' {
			return // encoding/json replaces invalid UTF-8; readString keeps it
		}
		checkReadString(t, lit)
	})
}

// FuzzDecode checks that no body makes the decoder panic, that every
// Vector it returns is well formed, and that how the body is split into
// reads does not change the outcome.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[1,"1"]}]}}`,
		`{"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}}`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1,{"count":"1"}]}]}}`,
		`{"status":"error","errorType":"bad_data","error":"parse error"}`,
		`{"status":"success","warnings":["w"],"data":{"result":[{"value":[1,"+Inf"],"metric":{"b":"\u00e9","a":""}}],"resultType":"vector"}}`,
		`Service Unavailable`,
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"\ud83d"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		vec, err := decodeVector(bytes.NewReader(body))
		slow, slowErr := decodeVector(iotest.OneByteReader(bytes.NewReader(body)))
		if (err == nil) != (slowErr == nil) || err != nil && err.Error() != slowErr.Error() {
			t.Fatalf("read in one go: %v; byte by byte: %v", err, slowErr)
		}
		_ = errorResponse(503, body)
		_ = snippet(body, maxSnippet)
		if err != nil {
			if vec != nil {
				t.Fatalf("a Vector with error %v", err)
			}
			return
		}
		if vec == nil {
			t.Fatal("nil Vector without an error")
		}
		if diff := cmp.Diff(vec, slow, vectorCmp); diff != "" {
			t.Fatalf("byte-by-byte read differs:\n%s", diff)
		}
		for _, s := range vec {
			prev := ""
			s.Metric.Range(func(l labels.Label) {
				if l.Value == "" {
					t.Errorf("empty label value in %s", s.Metric)
				}
				if prev != "" && l.Name <= prev {
					t.Errorf("labels not sorted or duplicated in %s", s.Metric)
				}
				prev = l.Name
			})
		}
	})
}

func TestSnippet(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"empty", "", ""},
		{"spaces only", " \n\t ", ""},
		{"plain", "Service Unavailable\n", "Service Unavailable"},
		{"html", "<html>\r\n  <head><title>502 Bad Gateway</title></head>\n<body>\x00</body>", "<html> <head><title>502 Bad Gateway</title></head> <body> </body>"},
		{"invalid utf-8", "a\xffb", "a\uFFFDb"},
		{"cut", strings.Repeat("x", 250), strings.Repeat("x", 200) + "..."},
		{"cut ignores trailing space", strings.Repeat("x", 200) + "   ", strings.Repeat("x", 200)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := snippet([]byte(tc.body), maxSnippet); got != tc.want {
				t.Errorf("snippet(%q) = %q, want %q", tc.body, got, tc.want)
			}
		})
	}
}

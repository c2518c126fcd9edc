package datasource_test

import (
	"bufio"
	"context"
	"errors"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/eval/datasource"
)

// startPrometheus runs a real Prometheus on a free 127.0.0.1 port with an
// empty configuration and returns its URL. It stops when the test ends.
func startPrometheus(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real Prometheus; skipped with -short")
	}
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("this test needs a real Prometheus: apt-get install prometheus (%v)", err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  evaluation_interval: 1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
	)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})

	ready := make(chan struct{})
	exited := make(chan []string, 1)
	go func() { // ends when Prometheus closes stderr
		var lines []string
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if len(lines) < 200 {
				lines = append(lines, sc.Text())
			}
			if strings.Contains(sc.Text(), "Server is ready to receive web requests.") {
				close(ready)
			}
		}
		exited <- lines
	}()
	select {
	case <-ready:
	case lines := <-exited:
		t.Fatalf("prometheus exited before it was ready:\n%s", strings.Join(lines, "\n"))
	case <-time.After(60 * time.Second):
		t.Fatal("prometheus not ready after 60s")
	}
	return "http://" + addr
}

// TestRealPrometheus checks the client against the wire format and error
// replies of a real Prometheus.
func TestRealPrometheus(t *testing.T) {
	c := newClient(t, datasource.Options{URL: startPrometheus(t)})
	dup := `label_replace(vector(1), "a", "x", "", "") * on() (label_replace(vector(1), "b", "1", "", "") or label_replace(vector(1), "b", "2", "", ""))`
	for _, tc := range []struct {
		name      string
		query     string
		want      datasource.Vector
		wantErr   string // prefix of the error text
		wantType  string
		wantCode  int
		wantExact bool // wantErr is the whole text
	}{
		{
			name:  "vector with labels sorted",
			query: `label_replace(label_replace(vector(2), "zone", "b", "", ""), "app", "api", "", "")`,
			want:  datasource.Vector{{Metric: labels.FromStrings("app", "api", "zone", "b"), Value: 2}},
		},
		{
			name:  "time is sent with millisecond precision",
			query: `time()`,
			want:  datasource.Vector{{Metric: labels.EmptyLabels(), Value: 1700000000.123}},
		},
		{
			name:  "empty vector",
			query: `up`,
			want:  datasource.Vector{},
		},
		{
			name:  "NaN and infinities",
			query: `label_replace(vector(0) / 0, "v", "nan", "", "") or label_replace(vector(1) / 0, "v", "inf", "", "") or label_replace(vector(-1) / 0, "v", "-inf", "", "")`,
			want: datasource.Vector{
				{Metric: labels.FromStrings("v", "nan"), Value: math.NaN()},
				{Metric: labels.FromStrings("v", "inf"), Value: math.Inf(1)},
				{Metric: labels.FromStrings("v", "-inf"), Value: math.Inf(-1)},
			},
		},
		{
			name:     "parse error",
			query:    `sum(`,
			wantErr:  `query failed: bad_data (HTTP 400): invalid parameter "query": `,
			wantType: "bad_data", wantCode: 400,
		},
		{
			name:     "execution error",
			query:    dup,
			wantErr:  "query failed: execution (HTTP 422): found duplicate series for the match group",
			wantType: "execution", wantCode: 422,
		},
		{
			name:     "matrix",
			query:    `vector(1)[5m:1m]`,
			wantErr:  "rule result is not a vector or scalar (got matrix)",
			wantCode: 200, wantExact: true,
		},
		{
			name:     "string",
			query:    `"text"`,
			wantErr:  "rule result is not a vector or scalar (got string)",
			wantCode: 200, wantExact: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Query(t.Context(), tc.query, evalTime)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Query: %v", err)
				}
				if diff := cmp.Diff(tc.want, got, cmpVector, sortByLabels); diff != "" {
					t.Errorf("Vector mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil || got != nil {
				t.Fatalf("got %v, %v; want an error and nothing", got, err)
			}
			t.Logf("error: %v", err)
			if !strings.HasPrefix(err.Error(), tc.wantErr) || tc.wantExact && err.Error() != tc.wantErr {
				t.Errorf("error:\n got %s\nwant %s", err, tc.wantErr)
			}
			qerr, ok := errors.AsType[*datasource.QueryError](err)
			if !ok || qerr.Type != tc.wantType || qerr.StatusCode != tc.wantCode || qerr.Retryable {
				t.Errorf("got %#v, want a non-retryable *QueryError of type %q, status %d", err, tc.wantType, tc.wantCode)
			}
		})
	}
}

// sortByLabels ignores the order of samples, which the API leaves open.
var sortByLabels = cmp.Transformer("sorted", func(v datasource.Vector) datasource.Vector {
	out := append(datasource.Vector(nil), v...)
	if v != nil && len(v) == 0 {
		out = datasource.Vector{}
	}
	for i := range out { // insertion sort: test vectors are tiny
		for j := i; j > 0 && labels.Compare(out[j].Metric, out[j-1].Metric) < 0; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
})

package testenv

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func scrape(t *testing.T, tg *Target) (string, *http.Response) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, tg.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", tg.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read scrape body: %v", err)
	}
	return string(body), resp
}

func TestTargetExposition(t *testing.T) {
	tg := NewTarget(t)
	tg.Set(`up_probe{job="x",instance="b"}`, 0)
	tg.Set(`up_probe{instance="a",job="x"}`, 1)
	tg.Set(`bench_metric`, 1.5)
	tg.Set(`escaped{path="C:\\dir",msg="say \"hi\"\n"}`, -2)
	tg.SetMany(map[string]float64{`zeta{A="upper"}`: 1e-9, `deleted`: 3})
	tg.Set(`up_probe{instance="a",job="x"}`, 2) // overwrites
	tg.Delete(`deleted`)
	tg.Delete(`never_set`)

	want := `# TYPE bench_metric gauge
bench_metric 1.5
# TYPE escaped gauge
escaped{msg="say \"hi\"\n",path="C:\\dir"} -2
# TYPE up_probe gauge
up_probe{instance="a",job="x"} 2
up_probe{instance="b",job="x"} 0
# TYPE zeta gauge
zeta{A="upper"} 1e-09
`
	body, resp := scrape(t, tg)
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("exposition mismatch (-want +got):\n%s", diff)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q, want text/plain; version=0.0.4", ct)
	}
	if got := tg.Scrapes(); got != 1 {
		t.Errorf("Scrapes() = %d, want 1", got)
	}

	tg.Reset()
	if body, _ := scrape(t, tg); body != "" {
		t.Errorf("after Reset, exposition = %q, want empty", body)
	}

	resp, err := (&http.Client{}).Get(tg.URL + "/other")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /other: %s, want 404", resp.Status)
	}
}

func TestTargetSetPanicsOnMalformedSeries(t *testing.T) {
	tg := newTarget()
	for _, series := range []string{`up{`, `{job="x"}`, `rate(x[1m])`, ``} {
		t.Run(series, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), "testenv: series") {
					t.Errorf("Set(%q) recovered %v, want a testenv panic", series, r)
				}
			}()
			tg.Set(series, 1)
		})
	}
}

func TestTargetConcurrentUse(t *testing.T) {
	tg := NewTarget(t)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 50 {
				s := fmt.Sprintf(`m{w="%d",j="%d"}`, i, j%5)
				tg.Set(s, float64(j))
				if j%7 == 0 {
					tg.Delete(s)
				}
			}
		})
	}
	for range 10 {
		if body, _ := scrape(t, tg); body != "" && !strings.HasPrefix(body, "# TYPE m gauge\n") {
			t.Errorf("exposition starts %q", body)
		}
	}
	wg.Wait()
}

func TestNewTargetServer(t *testing.T) {
	tg, err := NewTargetServer("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg.Set(`x{a="1"}`, 1)
	body, _ := scrape(t, tg)
	if want := "# TYPE x gauge\nx{a=\"1\"} 1\n"; body != want {
		t.Errorf("exposition = %q, want %q", body, want)
	}
	if err := tg.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if err := tg.Close(); err != nil {
		t.Errorf("second Close() = %v", err)
	}
}

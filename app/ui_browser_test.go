package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/alertd/alertd/internal/testenv"
)

// chromiumBinary returns Debian's Chromium, failing (skipping under
// -short) with how to install it when it is missing.
func chromiumBinary(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := `real component "chromium" not found in PATH: install it with "apt-get install -y --no-install-recommends chromium" (or "make deps")`
	if testing.Short() {
		t.Skip(msg)
	}
	t.Fatal(msg)
	return ""
}

// browser is a headless Chromium tab that records the console's errors
// and the page's uncaught exceptions.
type browser struct {
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

// startBrowser starts Chromium (with --no-sandbox when run as root, where
// its sandbox cannot work) and opens a tab. It stops with the test.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	bin := chromiumBinary(t)
	var out testenv.SyncBuffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("lang", "en-US"),
		chromedp.CombinedOutput(&out),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(t.Context()), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(format string, args ...any) {
		_, _ = fmt.Fprintf(&out, "chromedp: "+format+"\n", args...)
	}))
	b := &browser{ctx: ctx}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		wg.Wait()
		if t.Failed() {
			t.Logf("chromium output:\n%s", out.String())
		}
	})
	startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	// The first Do starts the browser, bound to ctx (not startCtx, which
	// only bounds the wait).
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start %s: %v\n%s", bin, err, out.String())
		}
	case <-startCtx.Done():
		t.Fatalf("%s did not start within 60s\n%s", bin, out.String())
	}
	messages := chromedp.Console(ctx)
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.problems = append(b.problems, fmt.Sprintf("%s %s:%d: %s", m.Type, m.URL, m.Line+1, m))
				b.mu.Unlock()
			}
		}
	})
	return b
}

// consoleProblems returns the console errors and exceptions so far.
func (b *browser) consoleProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.problems)
}

// do runs actions, bounded to 30s.
func (b *browser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v (console: %q)", what, err, b.consoleProblems())
	}
}

// eval evaluates a JavaScript expression, bounded to 30s.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// ready waits until the UI has rendered the page route (its data loaded)
// and returns the page's text.
func (b *browser) ready(t *testing.T, route string) string {
	t.Helper()
	b.do(t, "wait for "+route, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#page[data-page=%q][data-state="ready"]`, route))))
	return eval[string](t, b, `document.getElementById("page").innerText`)
}

// screenshot saves the viewport as name.png in the test's artifact
// directory and, with ALERTD_UPDATE_GOLDEN=1, in docs/screenshots.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dirs := []string{t.ArtifactDir()}
	if os.Getenv("ALERTD_UPDATE_GOLDEN") == "1" {
		dirs = append(dirs, filepath.Join("..", "docs", "screenshots"))
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// okSink answers every webhook with 200 or, when status is set, with
// that status and a body.
func okSink(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if status != 0 {
			http.Error(w, body, status)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// status returns the status of a GET, following redirects as the
// browser does.
func status(t *testing.T, u string) int {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

type uiNotification struct {
	Receiver string `json:"receiver"`
	Success  bool   `json:"success"`
	Error    string `json:"error"`
}

type uiSilence struct {
	ID        string `json:"id"`
	CreatedBy string `json:"createdBy"`
	Comment   string `json:"comment"`
	Status    struct {
		State string `json:"state"`
	} `json:"status"`
	Matchers []struct {
		Name    string `json:"name"`
		Value   string `json:"value"`
		IsRegex bool   `json:"isRegex"`
		IsEqual bool   `json:"isEqual"`
	} `json:"matchers"`
}

type uiAlert struct {
	Labels map[string]string `json:"labels"`
	Status struct {
		State      string   `json:"state"`
		SilencedBy []string `json:"silencedBy"`
	} `json:"status"`
}

// TestUIInBrowser runs alertd against a real Prometheus, with a webhook
// receiver that works and one that refuses, and drives the web UI in a
// real headless Chromium: every page loads without a console error or an
// uncaught exception and shows what the APIs hold; a silence created with
// the UI's form (after its preview showed the one alert it matches) is in
// the API and silences that alert; expiring it in the UI unsilences it.
// Screenshots of the pages go to the test's artifacts, and to
// docs/screenshots with ALERTD_UPDATE_GOLDEN=1.
func TestUIInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus and Chromium")
	}
	target := testenv.NewTarget(t)
	target.SetMany(map[string]float64{
		`ui_demo_up{job="node",instance="web-1:9100"}`: 0,
		`ui_demo_up{job="node",instance="web-2:9100"}`: 1,
		`ui_demo_dup{instance="a"}`:                    1,
		`ui_demo_dup{instance="b"}`:                    1,
	})
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{ScrapeTargets: []string{target.HostPort}})
	if err := prom.WaitForScrape(t.Context(), "ui_demo_up"); err != nil {
		t.Fatal(err)
	}
	const hookToken = "hook-token-9f3a"
	okURL := okSink(t, 0, "")
	refusingURL := okSink(t, http.StatusBadRequest, "channel is archived")

	dir := t.TempDir()
	write(t, filepath.Join(dir, "rules.yml"), `groups:
- name: node
  interval: 1s
  rules:
  - alert: InstanceDown
    expr: ui_demo_up == 0
    labels: {severity: page}
    annotations:
      summary: "{{ $labels.instance }} is down"
      runbook_url: https://runbooks.example.org/InstanceDown
  - alert: InstanceDownForAnHour
    expr: ui_demo_up == 0
    for: 1h
    labels: {severity: ticket}
    annotations: {summary: "{{ $labels.instance }} has been down for an hour"}
  - record: job:ui_demo_up:sum
    expr: sum by (job) (ui_demo_up)
- name: broken
  interval: 1s
  rules:
  - alert: DuplicateSeries
    expr: ui_demo_dup + on() ui_demo_dup
`)
	_, base := startAlertd(t, dir, fmt.Sprintf(`global:
  evaluation_interval: 1s
datasource: {url: %s}
rule_files: [rules.yml]
route:
  receiver: ops
  group_by: [alertname]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
  routes:
  - matchers: [team="db"]
    receiver: db-pager
receivers:
- name: ops
  webhook_configs: [{url: %q, send_resolved: true}]
- name: db-pager
  webhook_configs: [{url: %q}]
`, prom.URL, okURL+"/ops", refusingURL+"/"+hookToken))
	now := time.Now().UTC()
	postAlerts(t, base, fmt.Appendf(nil, `[
 {"labels":{"alertname":"HighLatency","service":"api","severity":"warning"},"annotations":{"summary":"p99 above 2s"},"startsAt":%q},
 {"labels":{"alertname":"DiskFull","team":"db","instance":"db-1"},"annotations":{"summary":"/var is 97%% full"},"startsAt":%q}
]`, now.Add(-5*time.Minute).Format(time.RFC3339), now.Add(-2*time.Minute).Format(time.RFC3339)))

	// Wait until the rules have run and both receivers have been tried.
	err := eventually(t.Context(), 30*time.Second, func(ctx context.Context) error {
		var d struct {
			Notifications []uiNotification `json:"notifications"`
		}
		if err := getJSON(ctx, base+"/api/v1/notifications", &d); err != nil {
			return err
		}
		var sent, failed bool
		for _, n := range d.Notifications {
			sent = sent || (n.Receiver == "ops" && n.Success)
			failed = failed || (n.Receiver == "db-pager" && !n.Success)
		}
		if !sent || !failed {
			return fmt.Errorf("notifications so far: %+v", d.Notifications)
		}
		groups, err := ruleGroups(ctx, base)
		if err != nil {
			return err
		}
		health := map[string]string{}
		for _, g := range groups {
			for _, r := range g.Rules {
				health[r.Name] = r.Health
			}
		}
		if health["InstanceDown"] != "ok" || health["DuplicateSeries"] != "err" {
			return fmt.Errorf("rule health so far: %v", health)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	b := startBrowser(t)
	load := func(route, hash string) string {
		t.Helper()
		// A query string makes each a full load, so that each page's
		// start is checked too; the route is in the fragment.
		b.do(t, "load "+hash, chromedp.Navigate(base+"/?load="+url.QueryEscape(route)+"#"+hash))
		return b.ready(t, route)
	}
	mustContain := func(page, text string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s does not show %q; it shows:\n%s", page, w, text)
			}
		}
	}

	// Rules, then a rule's page through its link.
	text := load("/rules", "/rules")
	mustContain("the rules page", text, "node", "broken", "InstanceDown", "InstanceDownForAnHour", "job:ui_demo_up:sum",
		"firing", "pending", "duplicate series", "every 1s")
	b.screenshot(t, "rules")
	b.do(t, "open the rule", chromedp.Click(chromedp.CSS(`a.rule-name[href*="name=InstanceDown&"], a.rule-name[href$="name=InstanceDown"]`)))
	text = b.ready(t, "/rule")
	mustContain("the rule page", text, "ui_demo_up == 0", "web-1:9100 is down", "https://runbooks.example.org/InstanceDown", "Open in the datasource")
	graph := eval[string](t, b, `document.querySelector('a[target="_blank"][href*="/graph?"]').href`)
	if want := prom.URL + "/graph?g0.expr=ui_demo_up%20%3D%3D%200&g0.tab=0"; graph != want {
		t.Errorf("graph link %q, want %q", graph, want)
	} else if code := status(t, graph); code != http.StatusOK {
		t.Errorf("GET %s (redirects followed): %d, want Prometheus's graph page", graph, code)
	}
	b.screenshot(t, "rule")

	// A silence through the form: matchers typed, the preview shows the
	// one alert they match, then it is saved.
	load("/silences/new", "/silences/new")
	b.do(t, "fill the silence form",
		chromedp.SendKeys(chromedp.CSS(`#matchers .matcher-row:nth-child(1) .m-name`), "alertname"),
		chromedp.SendKeys(chromedp.CSS(`#matchers .matcher-row:nth-child(1) .m-value`), "HighLatency"),
		chromedp.Click(chromedp.CSS(`#add-matcher`)),
		chromedp.SetValue(chromedp.CSS(`#matchers .matcher-row:nth-child(2) .m-op`), "=~"),
		chromedp.SendKeys(chromedp.CSS(`#matchers .matcher-row:nth-child(2) .m-name`), "service"),
		chromedp.SendKeys(chromedp.CSS(`#matchers .matcher-row:nth-child(2) .m-value`), "api|web"),
		chromedp.SendKeys(chromedp.CSS(`#created-by`), "ui-test"),
		chromedp.SendKeys(chromedp.CSS(`#comment`), "Deploying the API: latency expected"),
		chromedp.WaitVisible(chromedp.CSS(`#preview .preview-count[data-count="1"]`)),
	)
	previewText := eval[string](t, b, `document.getElementById("preview").innerText`)
	mustContain("the preview", previewText, "1 alert would be silenced", "HighLatency")
	b.screenshot(t, "silence-new")
	b.do(t, "save the silence", chromedp.Click(chromedp.CSS(`#submit-silence`)))
	text = b.ready(t, "/silences")
	mustContain("the silences page after saving", text, "saved", `alertname="HighLatency"`, `service=~"api|web"`, "ui-test", "Deploying the API")
	id := eval[string](t, b, `document.querySelector('table[data-state="active"] tr[data-silence-id]').dataset.silenceId`)

	var sils []uiSilence
	if err := getV2(t.Context(), base+"/api/v2/silences", &sils); err != nil {
		t.Fatal(err)
	}
	if len(sils) != 1 || sils[0].ID != id || sils[0].Status.State != "active" || sils[0].CreatedBy != "ui-test" ||
		sils[0].Comment != "Deploying the API: latency expected" || len(sils[0].Matchers) != 2 ||
		sils[0].Matchers[1].Name != "service" || sils[0].Matchers[1].Value != "api|web" || !sils[0].Matchers[1].IsRegex || !sils[0].Matchers[1].IsEqual {
		t.Fatalf("silences in the API: %+v, want the one saved in the UI, %s", sils, id)
	}
	silenced := func(want bool) error {
		return eventually(t.Context(), 10*time.Second, func(ctx context.Context) error {
			var alerts []uiAlert
			if err := getV2(ctx, base+"/api/v2/alerts?filter="+url.QueryEscape(`alertname="HighLatency"`), &alerts); err != nil {
				return err
			}
			if len(alerts) != 1 || slices.Contains(alerts[0].Status.SilencedBy, id) != want {
				return fmt.Errorf("HighLatency in the API: %+v, want silenced by %s: %v", alerts, id, want)
			}
			return nil
		})
	}
	if err := silenced(true); err != nil {
		t.Fatal(err)
	}
	b.screenshot(t, "silences")

	// Edit it: the form comes back filled in; an active silence whose
	// start is untouched is updated in place, keeping its ID.
	b.do(t, "edit the silence", chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-silence-id=%q] a[href*="id="]`, id))))
	b.ready(t, "/silences/new")
	filled := eval[string](t, b, `[...document.querySelectorAll("#matchers .matcher-row")].map(r =>
		r.querySelector(".m-name").value + r.querySelector(".m-op").value + r.querySelector(".m-value").value).join(",") +
		" " + document.getElementById("created-by").value`)
	if filled != "alertname=HighLatency,service=~api|web ui-test" {
		t.Errorf("the edit form holds %q", filled)
	}
	b.do(t, "change the comment",
		chromedp.Clear(chromedp.CSS(`#comment`)),
		chromedp.SendKeys(chromedp.CSS(`#comment`), "Deploying the API, take two"),
		chromedp.Click(chromedp.CSS(`#submit-silence`)))
	b.ready(t, "/silences")
	sils = nil
	if err := getV2(t.Context(), base+"/api/v2/silences", &sils); err != nil {
		t.Fatal(err)
	}
	if len(sils) != 1 || sils[0].ID != id || sils[0].Comment != "Deploying the API, take two" || sils[0].Status.State != "active" {
		t.Fatalf("silences in the API after the edit: %+v, want %s updated in place", sils, id)
	}

	text = load("/alerts", "/alerts")
	mustContain("the alerts page", text, "InstanceDown", "web-1:9100", "firing", "pending", "HighLatency", "suppressed", "DiskFull", "db-pager")
	b.screenshot(t, "alerts")

	text = load("/groups", "/groups")
	mustContain("the groups page", text, "ops", "db-pager", "InstanceDown", "HighLatency", "DiskFull")
	dbGroup := eval[string](t, b, `document.querySelector('section[data-receiver="db-pager"]').innerText`)
	mustContain("db-pager's groups", dbGroup, "DiskFull")
	b.screenshot(t, "groups")

	text = load("/notifications", "/notifications")
	mustContain("the notifications page", text, "ops", "db-pager", "webhook[0]", "sent", "failed", "unexpected status code 400: channel is archived")
	if strings.Contains(text, hookToken) {
		t.Errorf("the notifications page shows the webhook URL's secret path: %s", text)
	}
	b.screenshot(t, "notifications")

	// Expire it in the UI: two clicks, no dialog.
	load("/silences", "/silences")
	expire := chromedp.CSS(fmt.Sprintf(`tr[data-silence-id=%q] button[data-action="expire"]`, id))
	b.do(t, "expire the silence", chromedp.Click(expire), chromedp.WaitVisible(chromedp.CSS(`button.confirming`)), chromedp.Click(expire))
	if err := eventually(t.Context(), 10*time.Second, func(ctx context.Context) error {
		var s uiSilence
		if err := getV2(ctx, base+"/api/v2/silence/"+id, &s); err != nil {
			return err
		}
		if s.Status.State != "expired" {
			return fmt.Errorf("silence %s is %s", id, s.Status.State)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := silenced(false); err != nil {
		t.Fatal(err)
	}
	b.ready(t, "/silences")

	if problems := b.consoleProblems(); len(problems) > 0 {
		t.Errorf("the browser's console has errors:\n%s", strings.Join(problems, "\n"))
	}
}

// TestUIShowsNoDatasourceCredentials checks that the datasource URL the UI
// gets has neither the URL's userinfo and query nor http_config's
// credentials.
func TestUIShowsNoDatasourceCredentials(t *testing.T) {
	dir := t.TempDir()
	_, base := startAlertd(t, dir, `datasource:
  url: http://reader:url-password@127.0.0.1:1/prometheus?token=query-token#frag
  http_config:
    basic_auth: {username: reader, password: config-password}
route: {receiver: r}
receivers: [{name: r}]
`)
	var d struct {
		URL string `json:"url"`
	}
	if err := getJSON(t.Context(), base+"/api/v1/status/datasource", &d); err != nil {
		t.Fatal(err)
	}
	if d.URL != "http://127.0.0.1:1/prometheus" {
		t.Errorf("datasource URL %q, want http://127.0.0.1:1/prometheus", d.URL)
	}
	for _, p := range []string{"/", "/static/js/main.js", "/static/js/rules.js", "/api/v1/rules", "/api/v1/status/datasource"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+p, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", p, resp.StatusCode, err)
		}
		for _, secret := range []string{"url-password", "query-token", "config-password"} {
			if strings.Contains(string(body), secret) {
				t.Errorf("GET %s shows %q", p, secret)
			}
		}
	}
}

// TestNotificationHistorySurvivesRestart checks that the history is
// written to --storage.path and read back by the next alertd.
func TestNotificationHistorySurvivesRestart(t *testing.T) {
	sinkURL := okSink(t, 0, "")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertd.yml")
	write(t, cfg, fmt.Sprintf(`route: {receiver: ops, group_wait: 100ms, group_interval: 1s}
receivers:
- name: ops
  webhook_configs: [{url: %q}]
`, sinkURL+"/ops"))
	start := func() (string, func()) { return startApp(t, cfg, filepath.Join(dir, "data")) }
	history := func(ctx context.Context, base string) ([]uiNotification, error) {
		var d struct {
			Notifications []uiNotification `json:"notifications"`
		}
		err := getJSON(ctx, base+"/api/v1/notifications", &d)
		return d.Notifications, err
	}

	base, stop := start()
	postAlerts(t, base, []byte(`[{"labels":{"alertname":"Restart"}}]`))
	var before []uiNotification
	if err := eventually(t.Context(), 10*time.Second, func(ctx context.Context) error {
		var err error
		if before, err = history(ctx, base); err == nil && len(before) == 0 {
			err = errors.New("no notification yet")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Stopped at once: the history is written when alertd stops, not
	// only every second.
	stop()

	base, stop = start()
	defer stop()
	after, err := history(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) < len(before) || after[len(after)-1] != before[len(before)-1] || !after[len(after)-1].Success {
		t.Errorf("history after a restart: %+v, want it to hold %+v", after, before)
	}
}

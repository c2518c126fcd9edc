package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alertd/alertd/internal/testenv"
)

// TestV2SameAsAlertmanager posts the same alerts and silence to alertd and
// to a real Alertmanager 0.25 configured as the fakes behave (amConfig),
// and compares what GET /alerts, /alerts/groups, /silences and /receivers
// answer, field by field. Left out: updatedAt (each server's own clock),
// a silence's startsAt (Alertmanager moves it up to its now), and the
// fields Alertmanager added after 0.25 (mutedBy, routeLabels). Silence IDs
// are mapped.
func TestV2SameAsAlertmanager(t *testing.T) {
	am := testenv.StartAlertmanager(t, testenv.AlertmanagerOptions{ConfigYAML: amConfig})
	e := newEnv(t, time.Now)

	now := time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339Nano) }
	alerts := `[
	  {"labels":{"alertname":"Down","instance":"a","team":"a"},"annotations":{"summary":"a down"},
	   "startsAt":"` + ts(-10*time.Minute) + `","endsAt":"` + ts(time.Hour) + `","generatorURL":"http://prom:9090/graph"},
	  {"labels":{"alertname":"Down","instance":"b","job":"x"},"startsAt":"` + ts(-time.Minute) + `","endsAt":"` + ts(time.Hour) + `"},
	  {"labels":{"alertname":"Down","instance":"c","job":"w"},"startsAt":"` + ts(-time.Minute) + `","endsAt":"` + ts(time.Hour) + `"},
	  {"labels":{"alertname":"Source"},"startsAt":"` + ts(-time.Minute) + `","endsAt":"` + ts(time.Hour) + `"},
	  {"labels":{"alertname":"Target","inhibited":"true"},"startsAt":"` + ts(-time.Minute) + `","endsAt":"` + ts(time.Hour) + `"},
	  {"labels":{"alertname":"Gone"},"startsAt":"` + ts(-time.Hour) + `","endsAt":"` + ts(-time.Minute) + `"}
	]`
	silence := `{"matchers":[{"name":"instance","value":"b","isRegex":false},{"name":"job","value":"x|y","isRegex":true,"isEqual":true}],
	  "startsAt":"` + ts(0) + `","endsAt":"` + ts(2*time.Hour) + `","createdBy":"me","comment":"c"}`

	servers := map[string]string{"alertd": e.srv.URL, "alertmanager": am.URL}
	ids := map[string]string{}
	for name, base := range servers {
		if code, body := request(t, http.MethodPost, base+"/api/v2/alerts", "application/json", alerts); code != http.StatusOK {
			t.Fatalf("%s: POST /alerts: %d %s", name, code, body)
		}
		code, body := request(t, http.MethodPost, base+"/api/v2/silences", "application/json", silence)
		if code != http.StatusOK {
			t.Fatalf("%s: POST /silences: %d %s", name, code, body)
		}
		var r struct{ SilenceID string }
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		ids[name] = r.SilenceID
	}

	for _, path := range []string{
		"/alerts", "/alerts?silenced=false", "/alerts?active=false", "/alerts?receiver=team-a", `/alerts?filter=instance%3D~%22a%7Cb%22`,
		"/alerts/groups", "/alerts/groups?inhibited=false", "/alerts/groups?receiver=default",
		"/silences", "/receivers",
	} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			get := func(name string) any {
				_, body := request(t, http.MethodGet, servers[name]+"/api/v2"+path, "", "")
				body = strings.ReplaceAll(body, ids[name], "SILENCE-ID")
				var v any
				if err := json.Unmarshal([]byte(body), &v); err != nil {
					t.Fatalf("%s: %v: %s", name, err, body)
				}
				return drop(v, path == "/silences")
			}
			want := get("alertd")
			// Alertmanager files alerts into groups and into its inhibitor
			// asynchronously: poll it, for a bounded time.
			var diff string
			deadline := time.NewTimer(10 * time.Second)
			defer deadline.Stop()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				if diff = cmp.Diff(get("alertmanager"), want); diff == "" {
					return
				}
				select {
				case <-tick.C:
					continue
				case <-deadline.C:
				}
				break
			}
			t.Errorf("GET %s (-alertmanager +alertd):\n%s", path, diff)
		})
	}
}

// drop removes the fields the comparison leaves out.
func drop(v any, silences bool) any {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range []string{"updatedAt", "mutedBy", "routeLabels"} {
			delete(v, k)
		}
		if silences {
			delete(v, "startsAt")
		}
		for k, x := range v {
			v[k] = drop(x, silences)
		}
	case []any:
		for i, x := range v {
			v[i] = drop(x, silences)
		}
	}
	return v
}

// request sends a request with a body of content type ctype (none if
// empty) and returns the status code and body; 0 and "" if the server
// dropped the connection.
func request(t *testing.T, method, url, ctype, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		// A dropped connection (Alertmanager panicking) is status 0.
		t.Logf("%s %s: %v", method, url, err)
		return 0, ""
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

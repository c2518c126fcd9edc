package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/api"
	"github.com/alertd/alertd/internal/testenv"
)

// answer is an HTTP status and body (trimmed).
type answer struct {
	code int
	body string
}

// badCase is a request the API must refuse as Alertmanager does.
type badCase struct {
	name                string
	method, path, ctype string
	body                string
	want                answer
	// alertmanager is what Alertmanager 0.25 answers where alertd answers
	// differently on purpose, with why; nil means the same as want.
	alertmanager *answer
	why          string
	// anyOrderInAM: Alertmanager lists the allowed methods in an order
	// random per process; compare its status code only.
	anyOrderInAM bool
}

// badCases returns the bad requests, with silence times around now.
func badCases(now time.Time) []badCase {
	ts := func(d time.Duration) string { return now.Add(d).UTC().Format(time.RFC3339) }
	silence := func(matchers, startsAt, endsAt string) string {
		return `{"matchers":` + matchers + `,"startsAt":"` + startsAt + `","endsAt":"` + endsAt + `","createdBy":"me","comment":"c"}`
	}
	okMatchers := `[{"name":"a","value":"b","isRegex":false}]`
	const unknownID = "4a6bd0e4-5d4e-4ac4-9a5e-1b0d1c3b9f00"
	return []badCase{
		// POST /alerts: request-level errors are go-openapi's.
		{name: "alerts malformed JSON", method: "POST", path: "/alerts", body: `not json`,
			want: answer{400, `{"code":400,"message":"parsing alerts body from \"\" failed, because invalid character 'o' in literal null (expecting 'u')"}`}},
		{name: "alerts empty body", method: "POST", path: "/alerts", body: ``,
			want: answer{422, `{"code":602,"message":"alerts in body is required"}`}},
		{name: "alerts not an array", method: "POST", path: "/alerts", body: `{}`,
			want: answer{400, `{"code":400,"message":"parsing alerts body from \"\" failed, because json: cannot unmarshal object into Go value of type models.PostableAlerts"}`}},
		{name: "alerts not JSON content type", method: "POST", path: "/alerts", ctype: "text/plain", body: `[{"labels":{"a":"b"}}]`,
			want: answer{415, `{"code":415,"message":"unsupported media type \"text/plain\", only [application/json] are allowed"}`}},
		{name: "alert without labels", method: "POST", path: "/alerts", body: `[{"annotations":{"a":"b"}}]`,
			want: answer{422, `{"code":602,"message":"0.labels in body is required"}`}},
		{name: "alert with a generatorURL that is not a URI", method: "POST", path: "/alerts", body: `[{"labels":{"a":"b"},"generatorURL":"not a url %%"}]`,
			want: answer{422, `{"code":601,"message":"0.generatorURL in body must be of type uri: \"not a url %%\""}`}},
		{name: "alerts null item", method: "POST", path: "/alerts", body: `[{"labels":{"a":"b"}},null]`,
			want: answer{422, `{"code":602,"message":"1 in body is required"}`}, alertmanager: &answer{},
			why: "Alertmanager panics and drops the connection"},
		// POST /alerts: Alertmanager's own validation, JSON strings.
		{name: "alert with empty labels", method: "POST", path: "/alerts", body: `[{"labels":{}}]`,
			want: answer{400, `"at least one label pair required"`}},
		{name: "alert with only empty label values", method: "POST", path: "/alerts", body: `[{"labels":{"a":""}}]`,
			want: answer{400, `"at least one label pair required"`}},
		{name: "alert endsAt before startsAt", method: "POST", path: "/alerts",
			body: `[{"labels":{"a":"b"},"startsAt":"2026-01-02T00:00:00Z","endsAt":"2026-01-01T00:00:00Z"}]`,
			want: answer{400, `"start time must be before end time"`}},
		{name: "alert with an invalid label name", method: "POST", path: "/alerts", body: `[{"labels":{"0bad":"x"}}]`,
			want: answer{400, `"invalid label set: invalid name \"0bad\""`}},
		{name: "alert with an invalid annotation name", method: "POST", path: "/alerts", body: `[{"labels":{"a":"b"},"annotations":{"a-b":"x"}}]`,
			want: answer{400, `"invalid annotations: invalid name \"a-b\""`}},
		{name: "alert batch with invalid ones", method: "POST", path: "/alerts",
			body: `[{"labels":{"alertname":"ok"}},{"labels":{"0bad":"x"}},{"labels":{}}]`,
			want: answer{400, `"invalid label set: invalid name \"0bad\"; at least one label pair required"`}},

		// Filters.
		{name: "alerts bad filter", method: "GET", path: "/alerts?filter=foo",
			want: answer{400, `"bad matcher format: foo"`}},
		{name: "alerts filter without value", method: "GET", path: "/alerts?filter=%7Bfoo%3D%7D",
			want: answer{400, `"bad matcher format: {foo=}"`}},
		{name: "alerts bad receiver regex", method: "GET", path: "/alerts?receiver=%28",
			want: answer{400, "\"failed to parse receiver param: error parsing regexp: missing closing ): `^(?:()$`\""}},
		{name: "groups bad filter", method: "GET", path: "/alerts/groups?filter=a%3D~%28",
			want: answer{400, "\"error parsing regexp: missing closing ): `^(?:()$`\""}},
		{name: "groups bad receiver regex", method: "GET", path: "/alerts/groups?receiver=%28",
			want: answer{400, "\"failed to parse receiver param: error parsing regexp: missing closing ): `^(?:()$`\""}},
		{name: "silences bad filter", method: "GET", path: "/silences?filter=foo",
			want: answer{400, `"bad matcher format: foo"`}},
		{name: "unparsable booleans are false", method: "GET", path: "/alerts?active=maybe",
			want: answer{200, `[]`}},

		// POST /silences.
		{name: "silence missing fields", method: "POST", path: "/silences", body: `{}`,
			want: answer{422, `{"code":602,"message":"comment in body is required"}`}},
		{name: "silence malformed JSON", method: "POST", path: "/silences", body: `{"matchers":`,
			want: answer{400, `{"code":400,"message":"parsing silence body from \"\" failed, because unexpected EOF"}`}},
		{name: "silence without matchers", method: "POST", path: "/silences", body: silence(`[]`, ts(0), ts(time.Hour)),
			want: answer{422, `{"code":612,"message":"matchers in body should have at least 1 items"}`}},
		{name: "silence null matcher", method: "POST", path: "/silences", body: silence(`[null]`, ts(0), ts(time.Hour)),
			want: answer{422, `{"code":602,"message":"matchers.0 in body is required"}`}, alertmanager: &answer{},
			why: "Alertmanager panics and drops the connection"},
		{name: "silence matcher without isRegex", method: "POST", path: "/silences", body: silence(`[{"name":"a","value":"b"}]`, ts(0), ts(time.Hour)),
			want: answer{422, `{"code":602,"message":"matchers.0.isRegex in body is required"}`}},
		{name: "silence with only empty-matching matchers", method: "POST", path: "/silences",
			body:         silence(`[{"name":"a","value":"","isRegex":false},{"name":"b","value":".*","isRegex":true}]`, ts(0), ts(time.Hour)),
			want:         answer{400, `"invalid silence: matcher set 0: at least one matcher must not match the empty string"`},
			alertmanager: &answer{400, `"silence invalid: at least one matcher must not match the empty string"`},
			why:          "the silence store's text is Alertmanager 0.33+'s (matcher sets)"},
		{name: "silence with a bad regexp", method: "POST", path: "/silences",
			body:         silence(`[{"name":"a","value":"(","isRegex":true}]`, ts(0), ts(time.Hour)),
			want:         answer{400, "\"invalid silence: invalid label matcher 0 in set 0: invalid regular expression \\\"(\\\": error parsing regexp: missing closing ): `(`\""},
			alertmanager: &answer{400, "\"silence invalid: invalid label matcher 0: invalid regular expression \\\"(\\\": error parsing regexp: missing closing ): `(`\""},
			why:          "the silence store's text is Alertmanager 0.33+'s (matcher sets)"},
		{name: "silence endsAt before startsAt", method: "POST", path: "/silences", body: silence(okMatchers, ts(time.Hour), ts(time.Minute)),
			want: answer{400, `"Failed to create silence: start time must be before end time"`}},
		{name: "silence endsAt in the past", method: "POST", path: "/silences", body: silence(okMatchers, ts(-2*time.Hour), ts(-time.Hour)),
			want: answer{400, `"Failed to create silence: end time can't be in the past"`}},
		{name: "silence update of an unknown id", method: "POST", path: "/silences",
			body: `{"id":"` + unknownID + `",` + strings.TrimPrefix(silence(okMatchers, ts(0), ts(time.Hour)), "{"),
			want: answer{404, `"silence not found"`}},

		// /silence/{id}.
		{name: "get silence id not a uuid", method: "GET", path: "/silence/nope",
			want: answer{422, `{"code":601,"message":"silenceID in path must be of type uuid: \"nope\""}`}},
		{name: "get unknown silence", method: "GET", path: "/silence/" + unknownID,
			want: answer{404, ``}},
		{name: "delete silence id not a uuid", method: "DELETE", path: "/silence/nope",
			want: answer{422, `{"code":601,"message":"silenceID in path must be of type uuid: \"nope\""}`}},
		{name: "delete unknown silence", method: "DELETE", path: "/silence/" + unknownID,
			want:         answer{404, ``},
			alertmanager: &answer{500, `"silence not found"`},
			why:          "Alertmanager 0.27+ answers 404, as the OpenAPI spec of 0.34 says"},

		// Routing.
		{name: "method not allowed", method: "PUT", path: "/alerts",
			want:         answer{405, `{"code":405,"message":"method PUT is not allowed, but [GET,POST] are"}`},
			anyOrderInAM: true},
		{name: "method not allowed on a silence", method: "PUT", path: "/silence/" + unknownID,
			want:         answer{405, `{"code":405,"message":"method PUT is not allowed, but [GET,DELETE] are"}`},
			anyOrderInAM: true},
		{name: "unknown path", method: "GET", path: "/nope",
			want: answer{404, `{"code":404,"message":"path /api/v2/nope was not found"}`}},
	}
}

func do(t *testing.T, base string, c badCase) answer {
	t.Helper()
	ctype := c.ctype
	if ctype == "" && c.method == http.MethodPost {
		ctype = "application/json"
	}
	code, body := request(t, c.method, base+"/api/v2"+c.path, ctype, c.body)
	return answer{code, strings.TrimSpace(body)}
}

// TestV2BadInput pins the status and body of each bad request.
func TestV2BadInput(t *testing.T) {
	e := newEnv(t, time.Now)
	for _, c := range badCases(time.Now()) {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, do(t, e.srv.URL, c), cmp.AllowUnexported(answer{})); diff != "" {
				t.Errorf("%s %s (-want +got):\n%s", c.method, c.path, diff)
			}
		})
	}
}

// TestV2BadInputAlertmanager sends the same bad requests to a real
// Alertmanager 0.25: it must answer as alertd does, except where a case
// says why not.
func TestV2BadInputAlertmanager(t *testing.T) {
	am := testenv.StartAlertmanager(t, testenv.AlertmanagerOptions{})
	for _, c := range badCases(time.Now()) {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			if c.alertmanager != nil {
				want = *c.alertmanager
			}
			got := do(t, am.URL, c)
			if c.anyOrderInAM {
				want.body, got.body = "", ""
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(answer{})); diff != "" {
				t.Errorf("Alertmanager: %s %s (-want +got):\n%s", c.method, c.path, diff)
			}
		})
	}
}

// TestV2PostAlertsPartial checks that a batch with invalid alerts stores
// the valid ones, and that a store error is a 500 with its text.
func TestV2PostAlertsPartial(t *testing.T) {
	e := newEnv(t, time.Now)
	post := func(body string) answer {
		return do(t, e.srv.URL, badCase{method: "POST", path: "/alerts", body: body})
	}
	got := post(`[{"labels":{"alertname":"ok"}},{"labels":{"0bad":"x"}},{"labels":{"alertname":"ok2"}}]`)
	if diff := cmp.Diff(answer{400, `"invalid label set: invalid name \"0bad\""`}, got, cmp.AllowUnexported(answer{})); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	for _, name := range []string{"ok", "ok2"} {
		if e.store.get(labels.FromStrings("alertname", name)) == nil {
			t.Errorf("valid alert %s of the batch was not stored", name)
		}
	}
	if n := len(e.store.List()); n != 2 {
		t.Errorf("%d alerts stored, want 2", n)
	}

	e.store.putErr = errBoom
	if diff := cmp.Diff(answer{500, `"disk on fire"`}, post(`[{"labels":{"alertname":"x"}}]`), cmp.AllowUnexported(answer{})); diff != "" {
		t.Errorf("store error (-want +got):\n%s", diff)
	}
}

// TestV2SilenceStoreError checks that an error of the silence store that
// is not the caller's is a 500.
func TestV2SilenceStoreError(t *testing.T) {
	e := newEnv(t, time.Now)
	e.silences.setErr = errBoom
	body := `{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"` + time.Now().Format(time.RFC3339) +
		`","endsAt":"` + time.Now().Add(time.Hour).Format(time.RFC3339) + `","createdBy":"me","comment":"c"}`
	got := do(t, e.srv.URL, badCase{method: "POST", path: "/silences", body: body})
	if diff := cmp.Diff(answer{500, `"disk on fire"`}, got, cmp.AllowUnexported(answer{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestV2Routes checks that without AlertmanagerOptions there is no v2
// API, and that with them Alertmanager's removed v1 API is 410 Gone while
// Prometheus's GET /api/v1/alerts stays.
func TestV2Routes(t *testing.T) {
	if code, _ := get(t, api.New(api.Options{}), http.MethodGet, "/api/v2/status"); code != http.StatusNotFound {
		t.Errorf("v2 without options: %d, want 404", code)
	}
	h := api.New(api.Options{Alertmanager: &api.AlertmanagerOptions{}})
	tests := []struct {
		method, path string
		code         int
	}{
		{"GET", "/api/v2/status", 200},
		{"GET", "/api/v2/alerts", 200},
		{"GET", "/api/v2/alerts/groups", 200},
		{"GET", "/api/v2/silences", 200},
		{"GET", "/api/v2/receivers", 200},
		{"GET", "/api/v1/alerts", 200},
		{"POST", "/api/v1/alerts", 410},
		{"GET", "/api/v1/status", 410},
		{"GET", "/api/v1/receivers", 410},
		{"GET", "/api/v1/silences", 410},
		{"POST", "/api/v1/silences", 410},
		{"DELETE", "/api/v1/silence/x", 410},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			code, body := get(t, h, tc.method, tc.path)
			if code != tc.code {
				t.Errorf("%d, want %d: %s", code, tc.code, body)
			}
		})
	}
}

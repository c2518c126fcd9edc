package api_test

import (
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"testing"
	"time"

	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	"github.com/prometheus/alertmanager/api/v2/client/alert"
	"github.com/prometheus/alertmanager/api/v2/client/alertgroup"
	"github.com/prometheus/alertmanager/api/v2/client/general"
	"github.com/prometheus/alertmanager/api/v2/client/receiver"
	"github.com/prometheus/alertmanager/api/v2/client/silence"
	"github.com/prometheus/alertmanager/api/v2/models"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"

	alertdalert "github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/silences"
)

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// newClient is Alertmanager's own generated API client, as amtool 0.25
// and Prometheus-ecosystem tools use it, pointed at e's server.
func newClient(t *testing.T, e *env) *amclient.AlertmanagerAPI {
	t.Helper()
	u, err := url.Parse(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return amclient.New(httptransport.New(u.Host, "/api/v2", []string{"http"}), strfmt.Default)
}

func dt(ts time.Time) *strfmt.DateTime { d := strfmt.DateTime(ts); return &d }
func sp(s string) *string              { return &s }
func bp(b bool) *bool                  { return &b }

func fp(ls labels.Labels) string { return fmt.Sprintf("%016x", alertdalert.Fingerprint(ls)) }

// The alerts every client test posts. Labels with empty values are
// dropped on the way in, so downLabels has no "empty".
var (
	downA      = labels.FromStrings("alertname", "Down", "instance", "a", "team", "a")
	downB      = labels.FromStrings("alertname", "Down", "instance", "b")
	inhibited  = labels.FromStrings("alertname", "Inhibited", "inhibited", "true")
	resolved   = labels.FromStrings("alertname", "Resolved")
	postAlerts = models.PostableAlerts{
		{
			Alert:       models.Alert{Labels: models.LabelSet{"alertname": "Down", "instance": "a", "team": "a"}, GeneratorURL: "http://prom:9090/graph?g0.expr=up"},
			Annotations: models.LabelSet{"summary": "a down", "empty": ""},
			StartsAt:    strfmt.DateTime(now.Add(-10 * time.Minute)),
			EndsAt:      strfmt.DateTime(now.Add(3 * time.Minute)),
		},
		{Alert: models.Alert{Labels: models.LabelSet{"alertname": "Down", "instance": "b", "empty": ""}}},
		{Alert: models.Alert{Labels: models.LabelSet{"alertname": "Inhibited", "inhibited": "true"}}, EndsAt: strfmt.DateTime(now.Add(5 * time.Minute))},
		{
			Alert:    models.Alert{Labels: models.LabelSet{"alertname": "Resolved"}},
			StartsAt: strfmt.DateTime(now.Add(-time.Hour)),
			EndsAt:   strfmt.DateTime(now.Add(-time.Minute)),
		},
	}
)

// clientEnv posts postAlerts and silences instance="b" with the client.
func clientEnv(t *testing.T) (*env, *amclient.AlertmanagerAPI, string) {
	t.Helper()
	clock := &testClock{ts: now}
	e := newEnv(t, clock.Now)
	e.clock = clock
	c := newClient(t, e)
	if _, err := c.Alert.PostAlerts(alert.NewPostAlertsParams().WithContext(t.Context()).WithAlerts(postAlerts)); err != nil {
		t.Fatal(err)
	}
	ok, err := c.Silence.PostSilences(silence.NewPostSilencesParams().WithContext(t.Context()).WithSilence(&models.PostableSilence{Silence: models.Silence{
		Matchers:  models.Matchers{{Name: sp("instance"), Value: sp("b"), IsRegex: bp(false)}},
		StartsAt:  dt(now.Add(-time.Minute)),
		EndsAt:    dt(now.Add(time.Hour)),
		CreatedBy: sp("me"),
		Comment:   sp("maintenance"),
	}}))
	if err != nil {
		t.Fatal(err)
	}
	return e, c, ok.Payload.SilenceID
}

// TestClientPostAlertsDefaults checks what POST /alerts stores: the
// defaults of Alertmanager's postAlertsHandler.
func TestClientPostAlertsDefaults(t *testing.T) {
	e, _, _ := clientEnv(t)
	want := map[string]*alertdalert.Alert{
		"explicit times kept, empty annotation kept": {
			Labels: downA, Annotations: labels.FromStrings("empty", "", "summary", "a down"),
			StartsAt: now.Add(-10 * time.Minute), EndsAt: now.Add(3 * time.Minute),
			GeneratorURL: "http://prom:9090/graph?g0.expr=up", UpdatedAt: now,
		},
		"no times: now, now+resolve_timeout, empty label dropped": {
			Labels: downB, Annotations: labels.EmptyLabels(),
			StartsAt: now, EndsAt: now.Add(10 * time.Minute), UpdatedAt: now, Timeout: true,
		},
		"only endsAt: startsAt = endsAt": {
			Labels: inhibited, Annotations: labels.EmptyLabels(),
			StartsAt: now.Add(5 * time.Minute), EndsAt: now.Add(5 * time.Minute), UpdatedAt: now,
		},
		"resolved alert stored too": {
			Labels: resolved, Annotations: labels.EmptyLabels(),
			StartsAt: now.Add(-time.Hour), EndsAt: now.Add(-time.Minute), UpdatedAt: now,
		},
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			got := e.store.get(w.Labels)
			if diff := cmp.Diff(w, got, cmpopts.EquateComparable(labels.Labels{})); diff != "" {
				t.Errorf("stored alert (-want +got):\n%s", diff)
			}
		})
	}
}

func gettable(ls labels.Labels, annotations models.LabelSet, startsAt, endsAt time.Time, generatorURL string, receivers []string, state string, silencedBy, inhibitedBy []string) *models.GettableAlert {
	refs := []*models.ReceiverReference{}
	for _, r := range receivers {
		refs = append(refs, &models.ReceiverReference{Name: sp(r)})
	}
	return &models.GettableAlert{
		Alert:       models.Alert{Labels: models.LabelSet(ls.Map()), GeneratorURL: strfmt.URI(generatorURL)},
		Annotations: annotations,
		StartsAt:    dt(startsAt),
		EndsAt:      dt(endsAt),
		UpdatedAt:   dt(now),
		Fingerprint: sp(fp(ls)),
		Receivers:   refs,
		Status:      &models.AlertStatus{State: sp(state), SilencedBy: silencedBy, InhibitedBy: inhibitedBy, MutedBy: []string{}},
	}
}

// wantAlerts are the GET /alerts results, by alertname/instance.
func wantAlerts(silenceID string) map[string]*models.GettableAlert {
	return map[string]*models.GettableAlert{
		"a": gettable(downA, models.LabelSet{"summary": "a down", "empty": ""}, now.Add(-10*time.Minute), now.Add(3*time.Minute),
			"http://prom:9090/graph?g0.expr=up", []string{"team-a", "default"}, "active", []string{}, []string{}),
		"b": gettable(downB, models.LabelSet{}, now, now.Add(10*time.Minute), "", []string{"default"}, "suppressed", []string{silenceID}, []string{}),
		"inhibited": gettable(inhibited, models.LabelSet{}, now.Add(5*time.Minute), now.Add(5*time.Minute), "", []string{"default"},
			"suppressed", []string{}, []string{fp(inhibitSource)}),
	}
}

func TestClientGetAlerts(t *testing.T) {
	_, c, silenceID := clientEnv(t)
	all := wantAlerts(silenceID)
	tests := []struct {
		name   string
		params func(*alert.GetAlertsParams)
		want   []string
	}{
		{"defaults", func(*alert.GetAlertsParams) {}, []string{"a", "b", "inhibited"}},
		{"active=false", func(p *alert.GetAlertsParams) { p.Active = bp(false) }, []string{"b", "inhibited"}},
		{"silenced=false", func(p *alert.GetAlertsParams) { p.Silenced = bp(false) }, []string{"a", "inhibited"}},
		{"inhibited=false", func(p *alert.GetAlertsParams) { p.Inhibited = bp(false) }, []string{"a", "b"}},
		{"silenced only (amtool --silenced)", func(p *alert.GetAlertsParams) { p.Active, p.Inhibited = bp(false), bp(false) }, []string{"b"}},
		{"unprocessed=false has no effect", func(p *alert.GetAlertsParams) { p.Unprocessed = bp(false) }, []string{"a", "b", "inhibited"}},
		{"filter equal", func(p *alert.GetAlertsParams) { p.Filter = []string{`alertname="Down"`} }, []string{"a", "b"}},
		{"filters are ANDed", func(p *alert.GetAlertsParams) { p.Filter = []string{`alertname="Down"`, `instance=~"b|c"`} }, []string{"b"}},
		{"filter not-regex", func(p *alert.GetAlertsParams) { p.Filter = []string{`alertname!~"Down|Other"`} }, []string{"inhibited"}},
		{"filter =\"\" matches a missing label", func(p *alert.GetAlertsParams) { p.Filter = []string{`team=""`} }, []string{"b", "inhibited"}},
		{"filter !=\"\" needs the label", func(p *alert.GetAlertsParams) { p.Filter = []string{`team!=""`} }, []string{"a"}},
		{"receiver regex", func(p *alert.GetAlertsParams) { p.Receiver = sp("team-.*") }, []string{"a"}},
		{"receiver anchored", func(p *alert.GetAlertsParams) { p.Receiver = sp("team") }, nil},
		{"receiver any of the routes", func(p *alert.GetAlertsParams) { p.Receiver = sp("default") }, []string{"a", "b", "inhibited"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := alert.NewGetAlertsParams().WithContext(t.Context())
			tc.params(p)
			ok, err := c.Alert.GetAlerts(p)
			if err != nil {
				t.Fatal(err)
			}
			want := models.GettableAlerts{}
			for _, k := range tc.want {
				want = append(want, all[k])
			}
			slices.SortFunc(want, func(a, b *models.GettableAlert) int { return cmpString(*a.Fingerprint, *b.Fingerprint) })
			if diff := cmp.Diff(want, ok.Payload); diff != "" {
				t.Errorf("GET /alerts (-want +got):\n%s", diff)
			}
		})
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestClientGetAlertGroups(t *testing.T) {
	e, c, silenceID := clientEnv(t)
	e.router.mutedReceivers = map[string][]string{"team-a": {"weekends"}}
	all := wantAlerts(silenceID)
	// In groups, an alert's receivers are those of the listed groups that
	// hold it, sorted; a muted group's alerts are suppressed, mutedBy set.
	a := *all["a"]
	a.Receivers = []*models.ReceiverReference{{Name: sp("default")}, {Name: sp("team-a")}}
	aMuted := a
	st := *a.Status
	st.State, st.MutedBy = sp("suppressed"), []string{"weekends"}
	aMuted.Status = &st
	group := func(alertname, rcv string, alerts ...*models.GettableAlert) *models.AlertGroup {
		return &models.AlertGroup{
			Labels:      models.LabelSet{"alertname": alertname},
			Receiver:    &models.ReceiverReference{Name: sp(rcv)},
			RouteLabels: models.LabelSet{},
			Alerts:      alerts,
		}
	}
	// Sorted by labels, then receiver; alerts by instance.
	downDefault := group("Down", "default", &a, all["b"])
	downTeam := group("Down", "team-a", &aMuted)
	inhib := group("Inhibited", "default", all["inhibited"])
	tests := []struct {
		name   string
		params func(*alertgroup.GetAlertGroupsParams)
		want   models.AlertGroups
	}{
		{"defaults", func(*alertgroup.GetAlertGroupsParams) {}, models.AlertGroups{downDefault, downTeam, inhib}},
		{"muted=false", func(p *alertgroup.GetAlertGroupsParams) { p.Muted = bp(false) }, models.AlertGroups{downDefault, inhib}},
		{"receiver", func(p *alertgroup.GetAlertGroupsParams) { p.Receiver = sp("team-a") },
			models.AlertGroups{group("Down", "team-a", withReceivers(&aMuted, "team-a"))}},
		{"filter leaves groups without alerts out", func(p *alertgroup.GetAlertGroupsParams) { p.Filter = []string{`instance="b"`} },
			models.AlertGroups{group("Down", "default", withReceivers(all["b"], "default"))}},
		{"silenced=false", func(p *alertgroup.GetAlertGroupsParams) { p.Silenced = bp(false) },
			models.AlertGroups{group("Down", "default", &a), downTeam, inhib}},
		{"active=false inhibited=false", func(p *alertgroup.GetAlertGroupsParams) { p.Active, p.Inhibited = bp(false), bp(false) },
			models.AlertGroups{group("Down", "default", withReceivers(all["b"], "default"))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := alertgroup.NewGetAlertGroupsParams().WithContext(t.Context())
			tc.params(p)
			ok, err := c.Alertgroup.GetAlertGroups(p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, ok.Payload); diff != "" {
				t.Errorf("GET /alerts/groups (-want +got):\n%s", diff)
			}
		})
	}
}

func withReceivers(a *models.GettableAlert, rcvs ...string) *models.GettableAlert {
	c := *a
	c.Receivers = nil
	for _, r := range rcvs {
		c.Receivers = append(c.Receivers, &models.ReceiverReference{Name: sp(r)})
	}
	return &c
}

func gettableSilence(id string, ms models.Matchers, startsAt, endsAt, updatedAt time.Time, createdBy, comment, state string) *models.GettableSilence {
	return &models.GettableSilence{
		Silence: models.Silence{
			Matchers: ms, StartsAt: dt(startsAt), EndsAt: dt(endsAt),
			CreatedBy: sp(createdBy), Comment: sp(comment),
		},
		ID: sp(id), UpdatedAt: dt(updatedAt), Status: &models.SilenceStatus{State: sp(state)},
	}
}

func TestClientSilences(t *testing.T) {
	e, c, id := clientEnv(t)
	ctx := t.Context()
	instanceB := models.Matchers{{Name: sp("instance"), Value: sp("b"), IsRegex: bp(false), IsEqual: bp(true)}}

	got, err := c.Silence.GetSilence(silence.NewGetSilenceParams().WithContext(ctx).WithSilenceID(strfmt.UUID(id)))
	if err != nil {
		t.Fatal(err)
	}
	want := gettableSilence(id, instanceB, now.Add(-time.Minute), now.Add(time.Hour), now, "me", "maintenance", "active")
	if diff := cmp.Diff(want, got.Payload); diff != "" {
		t.Errorf("GET /silence/%s (-want +got):\n%s", id, diff)
	}

	// An update of a known ID: the store keeps the ID here.
	up := &models.PostableSilence{ID: id, Silence: models.Silence{
		Matchers: instanceB, StartsAt: dt(now.Add(-time.Minute)), EndsAt: dt(now.Add(2 * time.Hour)),
		CreatedBy: sp("me"), Comment: sp("longer"),
	}}
	ok, err := c.Silence.PostSilences(silence.NewPostSilencesParams().WithContext(ctx).WithSilence(up))
	if err != nil {
		t.Fatal(err)
	}
	if ok.Payload.SilenceID != id {
		t.Errorf("update answered ID %q, want %q", ok.Payload.SilenceID, id)
	}

	// Silences in every state, to check the order and the filters.
	mk := func(name string, typ amlabels.MatchType, value string) *amlabels.Matcher {
		m, err := amlabels.NewMatcher(typ, name, value)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	others := []*silences.Silence{
		{ID: "00000000-0000-4000-8000-000000000001", Matchers: amlabels.Matchers{mk("job", amlabels.MatchRegexp, "a.*")}, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(30 * time.Minute), UpdatedAt: now.Add(-time.Hour), CreatedBy: "x", Comment: "active, ends first"},
		{ID: "00000000-0000-4000-8000-000000000002", Matchers: amlabels.Matchers{mk("job", amlabels.MatchNotEqual, "a"), mk("instance", amlabels.MatchEqual, "b")}, StartsAt: now.Add(2 * time.Hour), EndsAt: now.Add(3 * time.Hour), UpdatedAt: now.Add(-time.Hour), CreatedBy: "x", Comment: "pending, starts later"},
		{ID: "00000000-0000-4000-8000-000000000003", Matchers: amlabels.Matchers{mk("job", amlabels.MatchNotRegexp, "b")}, StartsAt: now.Add(time.Hour), EndsAt: now.Add(3 * time.Hour), UpdatedAt: now.Add(-time.Hour), CreatedBy: "x", Comment: "pending, starts first"},
		{ID: "00000000-0000-4000-8000-000000000004", Matchers: amlabels.Matchers{mk("job", amlabels.MatchEqual, "a")}, StartsAt: now.Add(-3 * time.Hour), EndsAt: now.Add(-2 * time.Hour), UpdatedAt: now.Add(-time.Hour), CreatedBy: "x", Comment: "expired, earlier"},
		{ID: "00000000-0000-4000-8000-000000000005", Matchers: amlabels.Matchers{mk("job", amlabels.MatchEqual, "a")}, StartsAt: now.Add(-3 * time.Hour), EndsAt: now.Add(-time.Hour), UpdatedAt: now.Add(-time.Hour), CreatedBy: "x", Comment: "expired, latest"},
	}
	for _, s := range others {
		e.silences.add(s)
	}
	tests := []struct {
		name   string
		params func(*silence.GetSilencesParams)
		want   []string // comments, in order
	}{
		{"all, sorted by state then time", func(*silence.GetSilencesParams) {}, []string{
			"active, ends first", "longer", "pending, starts first", "pending, starts later", "expired, latest", "expired, earlier",
		}},
		{"filter needs an identical matcher", func(p *silence.GetSilencesParams) { p.Filter = []string{`job="a"`} }, []string{"expired, latest", "expired, earlier"}},
		{"filter by type", func(p *silence.GetSilencesParams) { p.Filter = []string{`job=~"a.*"`} }, []string{"active, ends first"}},
		{"every filter matcher", func(p *silence.GetSilencesParams) { p.Filter = []string{`instance="b"`, `job!="a"`} }, []string{"pending, starts later"}},
		{"no silence matches a value the silence does not have", func(p *silence.GetSilencesParams) { p.Filter = []string{`instance="c"`} }, nil},
		{"expired=false", func(p *silence.GetSilencesParams) { p.Expired = bp(false) }, []string{"active, ends first", "longer", "pending, starts first", "pending, starts later"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := silence.NewGetSilencesParams().WithContext(t.Context())
			tc.params(p)
			ok, err := c.Silence.GetSilences(p)
			if err != nil {
				t.Fatal(err)
			}
			var comments []string
			for _, s := range ok.Payload {
				comments = append(comments, *s.Comment)
			}
			if diff := cmp.Diff(tc.want, comments); diff != "" {
				t.Errorf("GET /silences comments (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("matchers round-trip", func(t *testing.T) {
		ok, err := c.Silence.GetSilence(silence.NewGetSilenceParams().WithContext(t.Context()).WithSilenceID("00000000-0000-4000-8000-000000000002"))
		if err != nil {
			t.Fatal(err)
		}
		want := models.Matchers{
			{Name: sp("job"), Value: sp("a"), IsEqual: bp(false), IsRegex: bp(false)},
			{Name: sp("instance"), Value: sp("b"), IsEqual: bp(true), IsRegex: bp(false)},
		}
		if diff := cmp.Diff(want, ok.Payload.Matchers); diff != "" {
			t.Errorf("matchers (-want +got):\n%s", diff)
		}
	})

	t.Run("expire", func(t *testing.T) {
		for range 2 { // DELETE is idempotent
			if _, err := c.Silence.DeleteSilence(silence.NewDeleteSilenceParams().WithContext(t.Context()).WithSilenceID(strfmt.UUID(id))); err != nil {
				t.Fatal(err)
			}
		}
		// EndsAt = now counts as active (both ends included); a second
		// later it has expired.
		e.clock.Add(time.Second)
		got, err := c.Silence.GetSilence(silence.NewGetSilenceParams().WithContext(t.Context()).WithSilenceID(strfmt.UUID(id)))
		if err != nil {
			t.Fatal(err)
		}
		want := gettableSilence(id, instanceB, now.Add(-time.Minute), now, now, "me", "longer", "expired")
		if diff := cmp.Diff(want, got.Payload); diff != "" {
			t.Errorf("expired silence (-want +got):\n%s", diff)
		}
	})

	t.Run("unknown id", func(t *testing.T) {
		const unknown = "4a6bd0e4-5d4e-4ac4-9a5e-1b0d1c3b9f00"
		_, err := c.Silence.GetSilence(silence.NewGetSilenceParams().WithContext(t.Context()).WithSilenceID(unknown))
		if _, ok := errors.AsType[*silence.GetSilenceNotFound](err); !ok {
			t.Errorf("GET unknown: %v, want GetSilenceNotFound", err)
		}
		_, err = c.Silence.DeleteSilence(silence.NewDeleteSilenceParams().WithContext(t.Context()).WithSilenceID(unknown))
		if _, ok := errors.AsType[*silence.DeleteSilenceNotFound](err); !ok {
			t.Errorf("DELETE unknown: %v, want DeleteSilenceNotFound", err)
		}
		up := *up
		up.ID = unknown
		_, err = c.Silence.PostSilences(silence.NewPostSilencesParams().WithContext(t.Context()).WithSilence(&up))
		if nf, ok := errors.AsType[*silence.PostSilencesNotFound](err); !ok || nf.Payload != "silence not found" {
			t.Errorf("POST unknown id: %v, want PostSilencesNotFound \"silence not found\"", err)
		}
	})
}

func TestClientStatusAndReceivers(t *testing.T) {
	_, c, _ := clientEnv(t)
	st, err := c.General.GetStatus(general.NewGetStatusParams().WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Payload.Validate(strfmt.Default); err != nil {
		t.Errorf("status does not validate against the OpenAPI schema: %v", err)
	}
	want := &models.AlertmanagerStatus{
		Cluster: &models.ClusterStatus{Status: sp("disabled"), Peers: []*models.PeerStatus{}},
		Config:  &models.AlertmanagerConfig{Original: sp(amConfig)},
		Uptime:  dt(startTime),
	}
	if diff := cmp.Diff(want, st.Payload, cmpopts.IgnoreFields(models.AlertmanagerStatus{}, "VersionInfo")); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if vi := st.Payload.VersionInfo; vi == nil || vi.GoVersion == nil || *vi.GoVersion != runtime.Version() ||
		vi.Version == nil || vi.Revision == nil || vi.Branch == nil || vi.BuildUser == nil || vi.BuildDate == nil {
		t.Errorf("versionInfo incomplete: %+v", vi)
	}

	rs, err := c.Receiver.GetReceivers(receiver.NewGetReceiversParams().WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	wantR := []*models.Receiver{{Name: sp("default")}, {Name: sp("team-a")}}
	if diff := cmp.Diff(wantR, rs.Payload); diff != "" {
		t.Errorf("receivers (-want +got):\n%s", diff)
	}
}

// TestClientResponsesValidate checks every list the client reads against
// the OpenAPI schema (required fields present), as a strict client would.
func TestClientResponsesValidate(t *testing.T) {
	_, c, _ := clientEnv(t)
	ctx := t.Context()
	as, err := c.Alert.GetAlerts(alert.NewGetAlertsParams().WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	gs, err := c.Alertgroup.GetAlertGroups(alertgroup.NewGetAlertGroupsParams().WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := c.Silence.GetSilences(silence.NewGetSilencesParams().WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]interface{ Validate(strfmt.Registry) error }{
		"alerts": as.Payload, "groups": gs.Payload, "silences": ss.Payload,
	} {
		if err := v.Validate(strfmt.Default); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

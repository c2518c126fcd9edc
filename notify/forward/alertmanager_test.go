package forward

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os/exec"
	"testing"
	"time"

	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	"github.com/google/go-cmp/cmp"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	amalert "github.com/prometheus/alertmanager/api/v2/client/alert"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
	"github.com/alertd/alertd/internal/testenv"
)

// eventually calls check every 50ms until it returns "" (done) or
// waitTimeout passes, then fails with the last reason.
func eventually(t *testing.T, what string, check func() (notYet string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		why := check()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %s", what, waitTimeout, why)
		}
		<-tick.C
	}
}

// amAPI is a v2 client for reading back what Alertmanager stored.
func amAPI(t *testing.T, base string) amalert.ClientService {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	rt := httptransport.NewWithClient(u.Host, "/api/v2/", []string{u.Scheme}, &http.Client{Timeout: 5 * time.Second})
	rt.Debug = false
	return amclient.New(rt, strfmt.Default).Alert
}

// getAlerts returns the alerts named ForwardTest that Alertmanager lists
// as active (its default filter; resolved alerts are never listed).
func getAlerts(t *testing.T, api amalert.ClientService) (models.GettableAlerts, error) {
	t.Helper()
	active := true
	params := amalert.NewGetAlertsParamsWithContext(t.Context()).
		WithActive(&active).
		WithFilter([]string{`alertname="ForwardTest"`})
	ok, err := api.GetAlerts(params)
	if err != nil {
		return nil, err
	}
	return ok.Payload, nil
}

// amtoolQuery runs amtool alert query -o json for the ForwardTest alerts.
func amtoolQuery(t *testing.T, bin, base string) models.GettableAlerts {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--alertmanager.url="+base, "alert", "query", "-o", "json", "alertname=ForwardTest")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s: %v\n%s", cmd, err, stderr)
	}
	var alerts models.GettableAlerts
	if err := json.Unmarshal(out, &alerts); err != nil {
		t.Fatalf("decode amtool output: %v\n%s", err, out)
	}
	return alerts
}

// receivedTotal reads Alertmanager's own count of received alerts by
// status ("firing" or "resolved").
func receivedTotal(t *testing.T, base, status string) float64 {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("scrape alertmanager: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse alertmanager metrics: %v", err)
	}
	var sum float64
	for _, m := range mfs["alertmanager_alerts_received_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "status" && l.GetValue() == status {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// TestRealAlertmanager forwards a firing then a resolved alert to a real
// Alertmanager 0.25 and reads it back through the v2 API and amtool.
func TestRealAlertmanager(t *testing.T) {
	am := testenv.StartAlertmanager(t, testenv.AlertmanagerOptions{})
	amtool := testenv.Binary(t, "amtool")
	api := amAPI(t, am.URL)

	reg := prometheus.NewRegistry()
	f := newForwarder(t, Options{
		Targets:        []Target{{URL: am.URL}},
		ExternalLabels: labels.FromStrings("region", "eu-1", "severity", "ignored"),
		Registerer:     reg,
	})
	stop := run(t, f)

	now := time.Now()
	firing := &alert.Alert{
		Labels:       labels.FromStrings("alertname", "ForwardTest", "severity", "page", "instance", "db-1:9100"),
		Annotations:  labels.FromStrings("summary", "db-1 is down", "description", "up == 0 for 5m"),
		StartsAt:     now.Add(-90 * time.Second),
		EndsAt:       now.Add(4 * time.Minute),
		GeneratorURL: "http://alertd.example.org:9095/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
	}
	wantLabels := models.LabelSet{"alertname": "ForwardTest", "severity": "page", "instance": "db-1:9100", "region": "eu-1"}
	wantAnnotations := models.LabelSet{"summary": "db-1 is down", "description": "up == 0 for 5m"}
	ms := func(ts time.Time) time.Time { return ts.Truncate(time.Millisecond).UTC() }

	f.Send(firing)
	var got models.GettableAlerts
	eventually(t, "firing alert listed by Alertmanager", func() string {
		var err error
		if got, err = getAlerts(t, api); err != nil {
			return err.Error()
		}
		if len(got) != 1 {
			return "listed alerts: " + dump(got)
		}
		return ""
	})

	a := got[0]
	type view struct {
		Labels, Annotations models.LabelSet
		StartsAt, EndsAt    time.Time
		GeneratorURL        string
		State               string
		Receivers           []string
	}
	gotView := view{
		Labels:       a.Labels,
		Annotations:  a.Annotations,
		StartsAt:     ms(time.Time(*a.StartsAt)),
		EndsAt:       ms(time.Time(*a.EndsAt)),
		GeneratorURL: a.GeneratorURL.String(),
		State:        *a.Status.State,
	}
	for _, r := range a.Receivers {
		gotView.Receivers = append(gotView.Receivers, *r.Name)
	}
	wantView := view{
		Labels:       wantLabels,
		Annotations:  wantAnnotations,
		StartsAt:     ms(firing.StartsAt),
		EndsAt:       ms(firing.EndsAt),
		GeneratorURL: firing.GeneratorURL,
		State:        models.AlertStatusStateActive,
		Receivers:    []string{"null"},
	}
	if diff := cmp.Diff(wantView, gotView); diff != "" {
		t.Errorf("alert as Alertmanager stored it (-want +got):\n%s", diff)
	}

	viaAmtool := amtoolQuery(t, amtool, am.URL)
	if len(viaAmtool) != 1 {
		t.Fatalf("amtool lists %d ForwardTest alerts, want 1", len(viaAmtool))
	}
	if diff := cmp.Diff(wantLabels, viaAmtool[0].Labels); diff != "" {
		t.Errorf("labels seen by amtool (-want +got):\n%s", diff)
	}
	if s := viaAmtool[0].Status; s == nil || s.State == nil || *s.State != models.AlertStatusStateActive {
		t.Errorf("amtool status = %+v, want active", s)
	}

	resolved := *firing
	resolved.EndsAt = time.Now().Add(-time.Second)
	f.Send(&resolved)
	eventually(t, "resolved alert no longer listed", func() string {
		got, err := getAlerts(t, api)
		if err != nil {
			return err.Error()
		}
		if len(got) != 0 {
			return "still listed: " + dump(got)
		}
		return ""
	})
	if n := len(amtoolQuery(t, amtool, am.URL)); n != 0 {
		t.Errorf("amtool still lists %d ForwardTest alerts after resolve", n)
	}
	// Absent from the list could also mean lost: Alertmanager must have
	// received it as resolved.
	if got := [2]float64{receivedTotal(t, am.URL, "firing"), receivedTotal(t, am.URL, "resolved")}; got != [2]float64{1, 1} {
		t.Errorf("alertmanager_alerts_received_total firing, resolved = %v, want [1 1]", got)
	}

	stop()
	want := map[string]float64{
		"alertd_notifications_sent_total{alertmanager=" + am.URL + "/api/v2/alerts}":   2,
		"alertd_notifications_errors_total{alertmanager=" + am.URL + "/api/v2/alerts}": 0,
		"alertd_notifications_dropped_total":                                           0,
	}
	if diff := cmp.Diff(want, subset(gather(t, reg), want)); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

// dump renders alerts for a failure message.
func dump(as models.GettableAlerts) string {
	b, _ := json.Marshal(as)
	return string(b)
}

package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	oaerrors "github.com/go-openapi/errors"
	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/models"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
)

// postAlerts stores the posted alerts as Alertmanager's postAlertsHandler:
// UpdatedAt is now; a missing StartsAt is EndsAt, or now; a missing EndsAt
// is now + resolve_timeout, with Timeout set; labels with empty values are
// dropped. Invalid alerts are answered 400 with their errors joined by
// "; " (as Alertmanager 0.25), and the valid ones of the batch are stored
// all the same. A body over MaxAlertsBodyBytes is 413 and stores nothing.
func (v *v2) postAlerts(w http.ResponseWriter, r *http.Request) {
	if !limitBody(w, r, MaxAlertsBodyBytes) {
		return
	}
	posted, ok, err := fastDecodeAlerts(r)
	if tooLarge(w, r, err) {
		return
	}
	if !ok {
		var body models.PostableAlerts
		if !decodeBody(w, r, "alerts", &body) {
			return
		}
		// The schema lets null items through; Alertmanager then panics.
		if i := slices.Index(body, nil); i >= 0 {
			oaerrors.ServeError(w, r, oaerrors.Required(strconv.Itoa(i), "body", nil))
			return
		}
		posted = make([]postedAlert, len(body))
		for i, pa := range body {
			posted[i] = postedAlert{
				lbls:         labelsFromAPI(pa.Labels, true),
				anns:         labelsFromAPI(pa.Annotations, false),
				startsAt:     time.Time(pa.StartsAt),
				endsAt:       time.Time(pa.EndsAt),
				GeneratorURL: string(pa.GeneratorURL),
			}
		}
	}
	now := v.o.Now()
	valid := make([]*alert.Alert, 0, len(posted))
	var errs []string
	for _, pa := range posted {
		a := &alert.Alert{
			Labels:       pa.lbls,
			Annotations:  pa.anns,
			StartsAt:     pa.startsAt,
			EndsAt:       pa.endsAt,
			GeneratorURL: pa.GeneratorURL,
			UpdatedAt:    now,
		}
		if a.StartsAt.IsZero() {
			if a.EndsAt.IsZero() {
				a.StartsAt = now
			} else {
				a.StartsAt = a.EndsAt
			}
		}
		if a.EndsAt.IsZero() {
			a.Timeout = true
			a.EndsAt = now.Add(v.resolveTimeout())
		}
		if err := validateAlert(a); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		valid = append(valid, a)
	}
	if len(valid) > 0 {
		if v.o.Alerts == nil {
			v.internalError(w, r, "store alerts", errors.New("no alert store"))
			return
		}
		if err := v.o.Alerts.Put(valid...); err != nil {
			v.internalError(w, r, "store alerts", err)
			return
		}
	}
	if len(errs) > 0 {
		writeV2Error(w, http.StatusBadRequest, strings.Join(errs, "; "))
		return
	}
	w.WriteHeader(http.StatusOK)
}

// postedAlert is one alert of a POST /api/v2/alerts body, decoded.
type postedAlert struct {
	lbls, anns       labels.Labels
	startsAt, endsAt time.Time
	GeneratorURL     string
}

// fastDecodeAlerts scans a well-formed body (scanAlerts), several times
// faster than the generated models. Anything it does not accept, and every
// error, goes the models' way, so status codes and messages stay
// Alertmanager's. The body is left readable for that, with the same read
// error, if any, at its end; the read error is also returned.
func fastDecodeAlerts(r *http.Request) ([]postedAlert, bool, error) {
	if r.ContentLength == 0 {
		return nil, false, nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, false, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), errReader{err}))
		return nil, false, err
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	posted, ok := scanAlerts(b)
	return posted, ok, nil
}

// resolveTimeout is global.resolve_timeout, or Alertmanager's default.
func (v *v2) resolveTimeout() time.Duration {
	if v.o.ResolveTimeout != nil {
		if d := v.o.ResolveTimeout(); d > 0 {
			return d
		}
	}
	return defaultResolveTimeout
}

func fastTime(s string) (time.Time, bool) {
	if s == "" {
		// The models read "" as the Unix epoch; let them.
		return time.Time{}, false
	}
	// What Go's strict RFC 3339 parser accepts, the schema's date-time
	// format accepts too, at the same instant; anything else goes the
	// models' way.
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// labelsFromAPI converts an API label set, dropping empty values if
// dropEmpty (Alertmanager's removeEmptyLabels, for alert labels only).
func labelsFromAPI(ls models.LabelSet, dropEmpty bool) labels.Labels {
	b := labels.NewScratchBuilder(len(ls))
	for k, v := range ls {
		if dropEmpty && v == "" {
			continue
		}
		b.Add(k, v)
	}
	b.Sort()
	return b.Labels()
}

// validateAlert checks a as prometheus/common's model.Alert.Validate, the
// check Alertmanager makes, with Alertmanager 0.25's (legacy) label name
// rule. Labels are checked in name order, so the error is deterministic.
func validateAlert(a *alert.Alert) error {
	if a.StartsAt.IsZero() {
		return errors.New("start time missing")
	}
	if !a.EndsAt.IsZero() && a.EndsAt.Before(a.StartsAt) {
		return errors.New("start time must be before end time")
	}
	if err := validateLabelSet(a.Labels); err != nil {
		return fmt.Errorf("invalid label set: %w", err)
	}
	if a.Labels.IsEmpty() {
		return errors.New("at least one label pair required")
	}
	if err := validateLabelSet(a.Annotations); err != nil {
		return fmt.Errorf("invalid annotations: %w", err)
	}
	return nil
}

// validateLabelSet is model.LabelSet.Validate with the legacy name rule.
func validateLabelSet(ls labels.Labels) error {
	var err error
	ls.Range(func(l labels.Label) {
		switch {
		case err != nil:
		case !model.LegacyValidation.IsValidLabelName(l.Name):
			err = fmt.Errorf("invalid name %q", l.Name)
		case !utf8.ValidString(l.Value):
			err = fmt.Errorf("invalid value %q", l.Value)
		}
	})
	return err
}

// alertFilter holds the query parameters GET /alerts and GET
// /alerts/groups share.
type alertFilter struct {
	matchers                    amlabels.Matchers
	receiver                    *regexp.Regexp
	active, silenced, inhibited bool
}

// parseAlertFilter reads filter, receiver, active, silenced and inhibited.
// On a bad filter or receiver it has answered 400 and returns false.
func parseAlertFilter(w http.ResponseWriter, r *http.Request) (alertFilter, bool) {
	f := alertFilter{
		active:    boolParam(r, "active", true),
		silenced:  boolParam(r, "silenced", true),
		inhibited: boolParam(r, "inhibited", true),
	}
	ms, err := parseFilter(r)
	if err != nil {
		writeV2Error(w, http.StatusBadRequest, err.Error())
		return f, false
	}
	f.matchers = ms
	if rcv := r.URL.Query().Get("receiver"); rcv != "" {
		re, err := regexp.Compile("^(?:" + rcv + ")$")
		if err != nil {
			writeV2Error(w, http.StatusBadRequest, "failed to parse receiver param: "+err.Error())
			return f, false
		}
		f.receiver = re
	}
	return f, true
}

// status returns the alert's status now, as Alertmanager predicts it at
// query time: silenced and inhibited by what mutes it now, suppressed if
// anything does, active otherwise.
func (v *v2) status(lset labels.Labels) *models.AlertStatus {
	var silencedBy, inhibitedBy []string
	if v.o.Inhibitor != nil {
		inhibitedBy = v.o.Inhibitor.Mutes(lset)
	}
	if v.o.Silencer != nil {
		silencedBy = v.o.Silencer.Mutes(lset)
	}
	state := models.AlertStatusStateActive
	if len(silencedBy) > 0 || len(inhibitedBy) > 0 {
		state = models.AlertStatusStateSuppressed
	}
	return &models.AlertStatus{
		State:       &state,
		SilencedBy:  nonNil(silencedBy),
		InhibitedBy: nonNil(inhibitedBy),
		MutedBy:     []string{},
	}
}

// keep reports whether an alert with status st passes the state filters.
func (f *alertFilter) keep(st *models.AlertStatus) bool {
	if !f.active && *st.State == models.AlertStatusStateActive {
		return false
	}
	if !f.silenced && len(st.SilencedBy) > 0 {
		return false
	}
	if !f.inhibited && len(st.InhibitedBy) > 0 {
		return false
	}
	return true
}

// current reports whether a is not resolved at now and matches the filter
// matchers, Alertmanager's first two checks.
func (f *alertFilter) current(a *alert.Alert, now time.Time) bool {
	if !a.EndsAt.IsZero() && a.EndsAt.Before(now) {
		return false
	}
	return matchFilterLabels(f.matchers, a.Labels)
}

// matchFilterLabels is Alertmanager's filter match: every matcher must
// match the label's value, a missing label being "", except that an
// empty-valued matcher accepts a missing label (=, =~) or a present one
// (!=, !~) without looking further.
func matchFilterLabels(ms amlabels.Matchers, lset labels.Labels) bool {
	for _, m := range ms {
		v := lset.Get(m.Name)
		present := lset.Has(m.Name)
		switch m.Type {
		case amlabels.MatchNotRegexp, amlabels.MatchNotEqual:
			if m.Value == "" && present {
				continue
			}
		default:
			if m.Value == "" && !present {
				continue
			}
		}
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

// getAlerts lists the alerts that are not resolved, with their status and
// receivers computed now, sorted by fingerprint. The unprocessed parameter
// is accepted and, as in Alertmanager, has no effect: a status computed at
// query time is never "unprocessed".
func (v *v2) getAlerts(w http.ResponseWriter, r *http.Request) {
	f, ok := parseAlertFilter(w, r)
	if !ok {
		return
	}
	res := models.GettableAlerts{}
	if v.o.Alerts == nil {
		writeV2(w, http.StatusOK, res)
		return
	}
	now := v.o.Now()
	for _, a := range v.o.Alerts.List() {
		if !f.current(a, now) {
			continue
		}
		var receivers []string
		if v.o.Router != nil {
			receivers = v.o.Router.Receivers(a.Labels)
		}
		if f.receiver != nil && !slices.ContainsFunc(receivers, f.receiver.MatchString) {
			continue
		}
		st := v.status(a.Labels)
		if !f.keep(st) {
			continue
		}
		res = append(res, gettableAlert(a, st, receivers))
	}
	slices.SortFunc(res, func(a, b *models.GettableAlert) int { return strings.Compare(*a.Fingerprint, *b.Fingerprint) })
	writeV2(w, http.StatusOK, res)
}

// gettableAlert converts an alert.
func gettableAlert(a *alert.Alert, st *models.AlertStatus, receivers []string) *models.GettableAlert {
	startsAt := strfmt.DateTime(a.StartsAt)
	updatedAt := strfmt.DateTime(a.UpdatedAt)
	endsAt := strfmt.DateTime(a.EndsAt)
	fp := model.Fingerprint(alert.Fingerprint(a.Labels)).String()
	refs := make([]*models.ReceiverReference, 0, len(receivers))
	for _, name := range receivers {
		refs = append(refs, &models.ReceiverReference{Name: &name})
	}
	return &models.GettableAlert{
		Alert: models.Alert{
			GeneratorURL: strfmt.URI(a.GeneratorURL),
			Labels:       apiLabels(a.Labels),
		},
		Annotations: apiLabels(a.Annotations),
		StartsAt:    &startsAt,
		UpdatedAt:   &updatedAt,
		EndsAt:      &endsAt,
		Fingerprint: &fp,
		Receivers:   refs,
		Status:      st,
	}
}

// getAlertGroups lists the aggregation groups with the alerts that pass
// the filters, as Alertmanager: groups whose receiver does not match the
// receiver regex, that are left with no alert, or (with muted=false) that
// a time interval mutes are left out. The alerts of a muted group are
// suppressed, with mutedBy set. An alert's receivers are those of the
// groups listed that hold it. Groups are sorted by labels (fewer first),
// then receiver; alerts by job, instance, then labels.
func (v *v2) getAlertGroups(w http.ResponseWriter, r *http.Request) {
	f, ok := parseAlertFilter(w, r)
	if !ok {
		return
	}
	muted := boolParam(r, "muted", true)
	res := models.AlertGroups{}
	if v.o.Router == nil {
		writeV2(w, http.StatusOK, res)
		return
	}
	now := v.o.Now()
	type group struct {
		AlertGroup
		statuses []*models.AlertStatus
	}
	var groups []group
	receivers := map[uint64][]string{}
	for _, g := range v.o.Router.Groups() {
		if f.receiver != nil && !f.receiver.MatchString(g.Receiver) {
			continue
		}
		kept := group{AlertGroup: g}
		kept.Alerts = nil
		for _, a := range g.Alerts {
			if !f.current(a, now) {
				continue
			}
			st := v.status(a.Labels)
			if !f.keep(st) {
				continue
			}
			fp := alert.Fingerprint(a.Labels)
			receivers[fp] = append(receivers[fp], g.Receiver)
			kept.Alerts = append(kept.Alerts, a)
			kept.statuses = append(kept.statuses, st)
		}
		if len(kept.Alerts) == 0 || (!muted && len(g.MutedBy) > 0) {
			continue
		}
		groups = append(groups, kept)
	}
	slices.SortStableFunc(groups, func(a, b group) int {
		if labels.Equal(a.Labels, b.Labels) {
			return strings.Compare(a.Receiver, b.Receiver)
		}
		if labelSetBefore(a.Labels, b.Labels) {
			return -1
		}
		return 1
	})
	for _, rs := range receivers {
		slices.Sort(rs)
	}
	for _, g := range groups {
		name := g.Receiver
		ag := &models.AlertGroup{
			Labels:      apiLabels(g.Labels),
			Receiver:    &models.ReceiverReference{Name: &name},
			RouteLabels: models.LabelSet{},
			Alerts:      make([]*models.GettableAlert, 0, len(g.Alerts)),
		}
		order := make([]int, len(g.Alerts))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(i, j int) int { return alertCompare(g.Alerts[i].Labels, g.Alerts[j].Labels) })
		for _, i := range order {
			a, st := g.Alerts[i], g.statuses[i]
			if len(g.MutedBy) > 0 {
				suppressed := models.AlertStatusStateSuppressed
				st.State = &suppressed
				st.MutedBy = slices.Clone(g.MutedBy)
			}
			ag.Alerts = append(ag.Alerts, gettableAlert(a, st, receivers[alert.Fingerprint(a.Labels)]))
		}
		res = append(res, ag)
	}
	writeV2(w, http.StatusOK, res)
}

// labelSetBefore is prometheus/common's model.LabelSet.Before, the order
// of Alertmanager's groups: fewer labels first, then by the first label
// name, in name order, that one lacks or whose values differ.
func labelSetBefore(a, b labels.Labels) bool {
	ma, mb := model.LabelSet{}, model.LabelSet{}
	a.Range(func(l labels.Label) { ma[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
	b.Range(func(l labels.Label) { mb[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
	return ma.Before(mb)
}

// alertCompare is Alertmanager's AlertSlice order: by the job label, then
// the instance label (an alert that has one before one that lacks it),
// then labelSetBefore.
func alertCompare(a, b labels.Labels) int {
	for _, name := range [...]string{"job", "instance"} {
		ha, hb := a.Has(name), b.Has(name)
		switch {
		case !ha && !hb:
			continue
		case !ha:
			return 1
		case !hb:
			return -1
		}
		if c := strings.Compare(a.Get(name), b.Get(name)); c != 0 {
			return c
		}
	}
	switch {
	case labelSetBefore(a, b):
		return -1
	case labelSetBefore(b, a):
		return 1
	}
	return 0
}

package api

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	oaerrors "github.com/go-openapi/errors"
	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/models"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"

	"github.com/alertd/alertd/silences"
)

// getSilences lists the silences that have, for each filter matcher, an
// identical matcher (same name, type and value), in the states asked for
// (active, pending, expired: all by default), active ones first by
// EndsAt, then pending ones by StartsAt, then expired ones by EndsAt, the
// latest first.
func (v *v2) getSilences(w http.ResponseWriter, r *http.Request) {
	ms, err := parseFilter(r)
	if err != nil {
		writeV2Error(w, http.StatusBadRequest, err.Error())
		return
	}
	want := map[silences.State]bool{
		silences.StateActive:  boolParam(r, "active", true),
		silences.StatePending: boolParam(r, "pending", true),
		silences.StateExpired: boolParam(r, "expired", true),
	}
	res := models.GettableSilences{}
	if v.o.Silences == nil {
		writeV2(w, http.StatusOK, res)
		return
	}
	now := v.o.Now()
	type listed struct {
		sil   *silences.Silence
		state silences.State
	}
	var sils []listed
	for _, s := range v.o.Silences.List() {
		st := s.State(now)
		if !want[st] || !hasFilterMatchers(s.Matchers, ms) {
			continue
		}
		sils = append(sils, listed{s, st})
	}
	order := map[silences.State]int{silences.StateActive: 0, silences.StatePending: 1, silences.StateExpired: 2}
	slices.SortStableFunc(sils, func(a, b listed) int {
		if a.state != b.state {
			return cmp.Compare(order[a.state], order[b.state])
		}
		var c int
		switch a.state {
		case silences.StateActive:
			c = a.sil.EndsAt.Compare(b.sil.EndsAt)
		case silences.StatePending:
			c = a.sil.StartsAt.Compare(b.sil.StartsAt)
		default:
			c = b.sil.EndsAt.Compare(a.sil.EndsAt)
		}
		return cmp.Or(c, cmp.Compare(a.sil.ID, b.sil.ID))
	})
	for _, s := range sils {
		res = append(res, gettableSilence(s.sil, s.state))
	}
	writeV2(w, http.StatusOK, res)
}

// hasFilterMatchers reports whether have holds a matcher identical to each
// of filter, Alertmanager's silence filter.
func hasFilterMatchers(have, filter amlabels.Matchers) bool {
	for _, f := range filter {
		if !slices.ContainsFunc(have, func(m *amlabels.Matcher) bool {
			return m.Name == f.Name && m.Type == f.Type && m.Value == f.Value
		}) {
			return false
		}
	}
	return true
}

// gettableSilence converts a silence in state st.
func gettableSilence(s *silences.Silence, st silences.State) *models.GettableSilence {
	startsAt := strfmt.DateTime(s.StartsAt)
	endsAt := strfmt.DateTime(s.EndsAt)
	updatedAt := strfmt.DateTime(s.UpdatedAt)
	id, comment, createdBy, state := s.ID, s.Comment, s.CreatedBy, string(st)
	ms := make(models.Matchers, 0, len(s.Matchers))
	for _, m := range s.Matchers {
		name, value := m.Name, m.Value
		isEqual := m.Type == amlabels.MatchEqual || m.Type == amlabels.MatchRegexp
		isRegex := m.Type == amlabels.MatchRegexp || m.Type == amlabels.MatchNotRegexp
		ms = append(ms, &models.Matcher{Name: &name, Value: &value, IsEqual: &isEqual, IsRegex: &isRegex})
	}
	return &models.GettableSilence{
		Silence: models.Silence{
			Matchers:  ms,
			StartsAt:  &startsAt,
			EndsAt:    &endsAt,
			CreatedBy: &createdBy,
			Comment:   &comment,
		},
		ID:        &id,
		UpdatedAt: &updatedAt,
		Status:    &models.SilenceStatus{State: &state},
	}
}

// postSilences creates or updates a silence, as Alertmanager's
// postSilencesHandler: after the OpenAPI schema checks (422), StartsAt
// must be before EndsAt and EndsAt not in the past ("Failed to create
// silence: …", 400); then the store validates it (400 with its text) and
// answers an unknown ID with 404. The answer is the silence's ID, a new
// one if the update could not be made in place. A body over
// MaxSilenceBodyBytes is 413.
func (v *v2) postSilences(w http.ResponseWriter, r *http.Request) {
	if !limitBody(w, r, MaxSilenceBodyBytes) {
		return
	}
	var body models.PostableSilence
	if !decodeBody(w, r, "silence", &body) {
		return
	}
	// The schema lets null matchers through; Alertmanager then panics.
	if i := slices.Index(body.Matchers, nil); i >= 0 {
		oaerrors.ServeError(w, r, oaerrors.Required("matchers."+strconv.Itoa(i), "body", nil))
		return
	}
	sil := &silences.Silence{
		ID:        body.ID,
		Matchers:  matchersFromAPI(body.Matchers),
		StartsAt:  time.Time(*body.StartsAt),
		EndsAt:    time.Time(*body.EndsAt),
		CreatedBy: *body.CreatedBy,
		Comment:   *body.Comment,
	}
	if err := silences.CheckPost(sil, v.o.Now()); err != nil {
		writeV2Error(w, http.StatusBadRequest, "Failed to create silence: "+err.Error())
		return
	}
	if v.o.Silences == nil {
		v.internalError(w, r, "create silence", errors.New("no silence store"))
		return
	}
	id, err := v.o.Silences.Set(sil)
	if err != nil {
		if ve := (*silences.ValidationError)(nil); errors.As(err, &ve) {
			writeV2Error(w, http.StatusBadRequest, err.Error())
			return
		}
		if errors.Is(err, silences.ErrNotFound) {
			writeV2Error(w, http.StatusNotFound, err.Error())
			return
		}
		v.internalError(w, r, "create silence", err)
		return
	}
	writeV2(w, http.StatusOK, map[string]string{"silenceID": id})
}

// matchersFromAPI converts the posted matchers (isEqual defaults to true;
// the schema has made the other fields present). A matcher whose regular
// expression does not compile is passed on uncompiled, for the store's
// validation to report it in Alertmanager's words.
func matchersFromAPI(in models.Matchers) amlabels.Matchers {
	out := make(amlabels.Matchers, 0, len(in))
	for _, m := range in {
		isEqual := m.IsEqual == nil || *m.IsEqual
		isRegex := m.IsRegex != nil && *m.IsRegex
		var t amlabels.MatchType
		switch {
		case isEqual && !isRegex:
			t = amlabels.MatchEqual
		case !isEqual && !isRegex:
			t = amlabels.MatchNotEqual
		case isEqual && isRegex:
			t = amlabels.MatchRegexp
		default:
			t = amlabels.MatchNotRegexp
		}
		c, err := amlabels.NewMatcher(t, *m.Name, *m.Value)
		if err != nil {
			c = &amlabels.Matcher{Type: t, Name: *m.Name, Value: *m.Value}
		}
		out = append(out, c)
	}
	return out
}

// silenceID returns the {id} path segment, or answers 422 as go-swagger
// does for one that is not a UUID.
func silenceID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !strfmt.Default.Validates("uuid", id) {
		oaerrors.ServeError(w, r, oaerrors.InvalidType("silenceID", "path", "uuid", id))
		return "", false
	}
	return id, true
}

// getSilence answers one silence, or 404 with no body.
func (v *v2) getSilence(w http.ResponseWriter, r *http.Request) {
	id, ok := silenceID(w, r)
	if !ok {
		return
	}
	if v.o.Silences == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	s, err := v.o.Silences.Get(id)
	if errors.Is(err, silences.ErrNotFound) {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if err != nil {
		v.internalError(w, r, "get silence", err)
		return
	}
	writeV2(w, http.StatusOK, gettableSilence(s, s.State(v.o.Now())))
}

// deleteSilence expires a silence: 200 with no body, also for one that
// has already expired; 404 with no body for an unknown ID (Alertmanager
// 0.27+; 0.25 answered 500).
func (v *v2) deleteSilence(w http.ResponseWriter, r *http.Request) {
	id, ok := silenceID(w, r)
	if !ok {
		return
	}
	if v.o.Silences == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	err := v.o.Silences.Expire(id)
	if errors.Is(err, silences.ErrNotFound) {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if err != nil {
		v.internalError(w, r, "expire silence", err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

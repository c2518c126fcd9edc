package silences

import (
	"errors"
	"regexp/syntax"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
)

// TestSetValidation checks Alertmanager's validation and its exact error
// texts (spec §4.3) through Set.
func TestSetValidation(t *testing.T) {
	end := t0.Add(time.Hour)
	tests := []struct {
		name     string
		matchers amlabels.Matchers
		start    time.Time // zero: Set uses now
		end      time.Time
		wantErr  string // "" means accepted
	}{
		{name: "valid", matchers: matchers(t, `foo="bar"`), end: end},
		{name: "no matchers", end: end, wantErr: "invalid silence: at least one matcher set required"},
		{name: "empty matchers", matchers: amlabels.Matchers{}, end: end, wantErr: "invalid silence: at least one matcher set required"},
		{
			name: "only equal empty", matchers: matchers(t, `foo=""`), end: end,
			wantErr: "invalid silence: matcher set 0: at least one matcher must not match the empty string",
		},
		{
			name: "only regexp empty", matchers: matchers(t, `foo=~""`), end: end,
			wantErr: "invalid silence: matcher set 0: at least one matcher must not match the empty string",
		},
		{
			name: "only regexp dot star", matchers: matchers(t, `foo=~".*"`), end: end,
			wantErr: "invalid silence: matcher set 0: at least one matcher must not match the empty string",
		},
		{
			name: "several matching empty", matchers: matchers(t, `foo=""`, `bar=~"a*"`, `baz=~"x|"`), end: end,
			wantErr: "invalid silence: matcher set 0: at least one matcher must not match the empty string",
		},
		{name: "not equal empty counts as not matching empty", matchers: matchers(t, `foo!=""`, `bar=""`), end: end},
		{name: "not regexp counts as not matching empty", matchers: matchers(t, `foo!~"a"`), end: end},
		{name: "one matcher not matching empty", matchers: matchers(t, `foo=""`, `bar=~".+"`), end: end},
		{
			name: "empty label name", matchers: amlabels.Matchers{raw(amlabels.MatchEqual, "", "x")}, end: end,
			wantErr: `invalid silence: invalid label matcher 0 in set 0: invalid label name ""`,
		},
		{
			name: "label name not utf-8", matchers: amlabels.Matchers{raw(amlabels.MatchEqual, "a", "x"), raw(amlabels.MatchEqual, "f\xff", "x")}, end: end,
			wantErr: `invalid silence: invalid label matcher 1 in set 0: invalid label name "f\xff"`,
		},
		{name: "utf-8 label name", matchers: amlabels.Matchers{raw(amlabels.MatchEqual, "service name", "x")}, end: end},
		{
			name: "label value not utf-8", matchers: amlabels.Matchers{raw(amlabels.MatchNotEqual, "foo", "\xff")}, end: end,
			wantErr: `invalid silence: invalid label matcher 0 in set 0: invalid label value "\xff"`,
		},
		{
			name: "invalid regexp", matchers: amlabels.Matchers{raw(amlabels.MatchEqual, "a", "b"), raw(amlabels.MatchRegexp, "foo", "(")}, end: end,
			wantErr: "invalid silence: invalid label matcher 1 in set 0: invalid regular expression \"(\": error parsing regexp: missing closing ): `(`",
		},
		{
			// Valid once anchored as "^(?:a)|(b)$", but not as given.
			name: "regexp valid only when anchored", matchers: amlabels.Matchers{raw(amlabels.MatchNotRegexp, "foo", "a)|(b")}, end: end,
			wantErr: "invalid silence: invalid label matcher 0 in set 0: invalid regular expression \"a)|(b\": error parsing regexp: unexpected ): `a)|(b`",
		},
		{
			name: "unknown matcher type", matchers: amlabels.Matchers{raw(amlabels.MatchType(7), "foo", "bar")}, end: end,
			wantErr: `invalid silence: invalid label matcher 0 in set 0: unknown matcher type "7"`,
		},
		{
			name: "nil matcher", matchers: amlabels.Matchers{nil}, end: end,
			wantErr: "invalid silence: invalid label matcher 0 in set 0: missing matcher",
		},
		{name: "zero end", matchers: matchers(t, `foo="bar"`), wantErr: "invalid silence: invalid zero end timestamp"},
		{
			name: "end before start", matchers: matchers(t, `foo="bar"`), start: t0.Add(time.Hour), end: t0.Add(time.Hour - time.Nanosecond),
			wantErr: "invalid silence: end time must not be before start time",
		},
		{
			name: "end before defaulted start", matchers: matchers(t, `foo="bar"`), end: t0.Add(-time.Second),
			wantErr: "invalid silence: end time must not be before start time",
		},
		{name: "end equal start", matchers: matchers(t, `foo="bar"`), start: end, end: end},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSilences(t, newClock())
			id, err := s.Set(&Silence{Matchers: tc.matchers, StartsAt: tc.start, EndsAt: tc.end})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Set: %v", err)
				}
				if id == "" {
					t.Fatal("Set returned no ID")
				}
				return
			}
			if err == nil {
				t.Fatalf("Set succeeded, want error %q", tc.wantErr)
			}
			if got := err.Error(); got != tc.wantErr {
				t.Errorf("error:\n got %s\nwant %s", got, tc.wantErr)
			}
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Errorf("error %v is not a *ValidationError", err)
			} else if want := strings.TrimPrefix(tc.wantErr, "invalid silence: "); verr.Error() != want {
				t.Errorf("ValidationError: %q, want %q", verr.Error(), want)
			}
			if got := s.List(); len(got) != 0 {
				t.Errorf("rejected silence stored: %v", got)
			}
		})
	}
}

// TestValidationErrorUnwrap checks that the cause of a bad regular
// expression is reachable.
func TestValidationErrorUnwrap(t *testing.T) {
	s := newSilences(t, newClock())
	_, err := s.Set(&Silence{Matchers: amlabels.Matchers{raw(amlabels.MatchRegexp, "foo", "[")}, EndsAt: t0.Add(time.Hour)})
	var serr *syntax.Error
	if !errors.As(err, &serr) {
		t.Fatalf("error %v does not wrap a *syntax.Error", err)
	}
}

// TestValidateZeroStart checks the zero start check, which Set never
// reaches because it defaults StartsAt to now.
func TestValidateZeroStart(t *testing.T) {
	tests := []struct {
		name    string
		sil     *Silence
		wantErr string
	}{
		{name: "zero start", sil: &Silence{Matchers: matchers(t, `a="b"`), EndsAt: t0}, wantErr: "invalid zero start timestamp"},
		{name: "zero both", sil: &Silence{Matchers: matchers(t, `a="b"`)}, wantErr: "invalid zero start timestamp"},
		{name: "matchers first", sil: &Silence{}, wantErr: "at least one matcher set required"},
		{name: "nil", wantErr: "no silence"},
		{name: "valid", sil: &Silence{Matchers: matchers(t, `a="b"`), StartsAt: t0, EndsAt: t0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.sil)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.wantErr {
				t.Errorf("Validate: %q, want %q", got, tc.wantErr)
			}
		})
	}
}

// TestCheckPost checks the API-level checks of Alertmanager's
// postSilencesHandler.
func TestCheckPost(t *testing.T) {
	tests := []struct {
		name       string
		start, end time.Time
		wantErr    string
	}{
		{name: "valid", start: t0, end: t0.Add(time.Hour)},
		{name: "start equals end", start: t0.Add(time.Hour), end: t0.Add(time.Hour), wantErr: "start time must be before end time"},
		{name: "start after end", start: t0.Add(time.Hour), end: t0.Add(time.Minute), wantErr: "start time must be before end time"},
		{name: "end in the past", start: t0.Add(-time.Hour), end: t0.Add(-time.Nanosecond), wantErr: "end time can't be in the past"},
		{name: "end now", start: t0.Add(-time.Hour), end: t0},
		{name: "pending", start: t0.Add(time.Hour), end: t0.Add(2 * time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPost(&Silence{Matchers: matchers(t, `a="b"`), StartsAt: tc.start, EndsAt: tc.end}, t0)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckPost: %v", err)
				}
				return
			}
			var verr *ValidationError
			if !errors.As(err, &verr) || verr.Error() != tc.wantErr {
				t.Errorf("CheckPost: %v, want ValidationError %q", err, tc.wantErr)
			}
		})
	}
}

// TestState checks Alertmanager's getState at the boundaries: both ends
// are active.
func TestState(t *testing.T) {
	sil := &Silence{StartsAt: t0, EndsAt: t0.Add(time.Hour)}
	tests := []struct {
		name string
		now  time.Time
		want State
	}{
		{name: "before start", now: t0.Add(-time.Nanosecond), want: StatePending},
		{name: "at start", now: t0, want: StateActive},
		{name: "between", now: t0.Add(time.Minute), want: StateActive},
		{name: "at end", now: t0.Add(time.Hour), want: StateActive},
		{name: "after end", now: t0.Add(time.Hour + time.Nanosecond), want: StateExpired},
		{name: "other time zone", now: t0.In(time.FixedZone("x", 3600)), want: StateActive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sil.State(tc.now); got != tc.want {
				t.Errorf("State(%v) = %s, want %s", tc.now, got, tc.want)
			}
		})
	}
}

// TestCloneIsDeep checks that Get and List hand out copies.
func TestCloneIsDeep(t *testing.T) {
	s := newSilences(t, newClock())
	id := mustSet(t, s, &Silence{Matchers: matchers(t, `a="b"`), EndsAt: t0.Add(time.Hour), Comment: "c"})
	got := mustGet(t, s, id)
	got.Comment = "changed"
	got.Matchers[0].Value = "changed"
	got.Matchers = append(got.Matchers, raw(amlabels.MatchEqual, "x", "y"))
	list := s.List()
	list[0].Matchers[0].Name = "changed"

	again := mustGet(t, s, id)
	if diff := cmp.Diff(`{a="b"}`, again.Matchers.String()); diff != "" {
		t.Errorf("matchers changed through a copy (-want +got):\n%s", diff)
	}
	if again.Comment != "c" {
		t.Errorf("comment changed through a copy: %q", again.Comment)
	}
	if ids := s.Mutes(labelsOf("a", "b")); len(ids) != 1 {
		t.Errorf("Mutes after changing copies: %v", ids)
	}
}

package silences

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
)

// Silence mutes the alerts whose labels all its matchers match while it is
// active. Times are compared with both ends inclusive (see State).
type Silence struct {
	// ID is a UUIDv4 given by Set. Set with an empty ID creates a silence;
	// with an existing ID it updates or replaces that silence.
	ID string
	// Matchers are one AND-set: an alert is muted only if all match its
	// labels, a missing label being the empty string.
	Matchers amlabels.Matchers
	// StartsAt and EndsAt bound the time the silence is active.
	StartsAt, EndsAt time.Time
	// UpdatedAt is when the silence was last changed; Set and Expire set it.
	UpdatedAt time.Time
	// CreatedBy and Comment are free text.
	CreatedBy, Comment string
}

// State is the state of a silence at a time.
type State string

// The states of a silence, as Alertmanager names them.
const (
	// StatePending is a silence that has not started yet.
	StatePending State = "pending"
	// StateActive is a silence that mutes alerts.
	StateActive State = "active"
	// StateExpired is a silence that has ended.
	StateExpired State = "expired"
)

// State returns the silence's state at now, as Alertmanager's getState:
// pending before StartsAt, expired after EndsAt, active in between, both
// ends included.
func (s *Silence) State(now time.Time) State {
	switch {
	case now.Before(s.StartsAt):
		return StatePending
	case now.After(s.EndsAt):
		return StateExpired
	default:
		return StateActive
	}
}

// clone returns a deep copy of s. Matchers are copied too; their compiled
// regular expressions are shared, which is safe.
func (s *Silence) clone() *Silence {
	c := *s
	if s.Matchers != nil {
		c.Matchers = make(amlabels.Matchers, len(s.Matchers))
		for i, m := range s.Matchers {
			if m != nil {
				mc := *m
				c.Matchers[i] = &mc
			}
		}
	}
	return &c
}

// ErrNotFound is returned for a silence ID that is not known.
var ErrNotFound = errors.New("silence not found")

// ValidationError is a silence the caller must fix: the API answers it
// with 400 Bad Request. Its Error is Alertmanager's text for the same
// mistake.
type ValidationError struct {
	// Msg is Alertmanager's text, e.g. "matcher set 0: at least one
	// matcher must not match the empty string".
	Msg string
	// Err is the underlying cause, if any (e.g. a regexp syntax error,
	// whose text Msg includes).
	Err error
}

// Error returns Alertmanager's text.
func (e *ValidationError) Error() string { return e.Msg }

// Unwrap returns the underlying cause, if any.
func (e *ValidationError) Unwrap() error { return e.Err }

func invalid(format string, args ...any) *ValidationError {
	err := fmt.Errorf(format, args...)
	return &ValidationError{Msg: err.Error(), Err: errors.Unwrap(err)}
}

// Validate checks sil as Alertmanager's validateSilence does, and returns
// a *ValidationError with Alertmanager's text (without Set's "invalid
// silence: " prefix) for the first problem found. Set defaults a zero
// StartsAt to the current time before validating.
func Validate(sil *Silence) error {
	if sil == nil {
		return &ValidationError{Msg: "no silence"}
	}
	if _, _, err := compileMatchers(sil.Matchers); err != nil {
		return err
	}
	return validateTimes(sil, true)
}

// compileMatchers validates ms as Alertmanager's validateSilence does for
// its single matcher set and returns compiled copies of them, and for each
// the literal prefix of its regular expression, if any (see entry).
func compileMatchers(ms amlabels.Matchers) (amlabels.Matchers, []string, error) {
	// Alertmanager 0.33+ keeps matchers as sets; alertd has exactly one, so
	// its errors name set 0.
	const set = 0
	if len(ms) == 0 {
		return nil, nil, &ValidationError{Msg: "at least one matcher set required"}
	}
	out := make(amlabels.Matchers, len(ms))
	var prefixes []string
	allMatchEmpty := true
	for i, m := range ms {
		c, prefix, err := compileMatcher(m)
		if err != nil {
			return nil, nil, invalid("invalid label matcher %d in set %d: %w", i, set, err)
		}
		out[i] = c
		if prefix != "" {
			if prefixes == nil {
				prefixes = make([]string, len(ms))
			}
			prefixes[i] = prefix
		}
		allMatchEmpty = allMatchEmpty && matchesEmpty(c)
	}
	if allMatchEmpty {
		return nil, nil, invalid("matcher set %d: at least one matcher must not match the empty string", set)
	}
	return out, prefixes, nil
}

// compileMatcher validates m as Alertmanager's validateMatcher (with its
// default UTF-8 label name validation) and returns a compiled copy and,
// for a regular expression, a literal every match starts with, if any.
func compileMatcher(m *amlabels.Matcher) (*amlabels.Matcher, string, error) {
	if m == nil {
		return nil, "", errors.New("missing matcher")
	}
	if m.Name == "" || !utf8.ValidString(m.Name) {
		return nil, "", fmt.Errorf("invalid label name %q", m.Name)
	}
	var prefix string
	switch m.Type {
	case amlabels.MatchEqual, amlabels.MatchNotEqual:
		if !utf8.ValidString(m.Value) {
			return nil, "", fmt.Errorf("invalid label value %q", m.Value)
		}
	case amlabels.MatchRegexp, amlabels.MatchNotRegexp:
		// Alertmanager checks the pattern as given; NewMatcher then
		// anchors it. Every match of the pattern starts with its literal
		// prefix, so every value the anchored one matches does too.
		re, err := regexp.Compile(m.Value)
		if err != nil {
			return nil, "", fmt.Errorf("invalid regular expression %q: %w", m.Value, err)
		}
		prefix, _ = re.LiteralPrefix()
	default:
		// MatchType.String panics on unknown types; Alertmanager prints
		// the protobuf enum, which for unknown values is the number.
		return nil, "", fmt.Errorf("unknown matcher type %q", strconv.Itoa(int(m.Type)))
	}
	c, err := amlabels.NewMatcher(m.Type, m.Name, m.Value)
	if err != nil {
		return nil, "", fmt.Errorf("invalid regular expression %q: %w", m.Value, err)
	}
	return c, prefix, nil
}

// matchesEmpty reports whether m counts as matching the empty string for
// the "at least one matcher must not match the empty string" rule: as in
// Alertmanager, negative matchers never do.
func matchesEmpty(m *amlabels.Matcher) bool {
	switch m.Type {
	case amlabels.MatchEqual, amlabels.MatchRegexp:
		return m.Matches("")
	default:
		return false
	}
}

// validateTimes is the time part of Alertmanager's validateSilence. The
// order check is skipped for persisted silences: Set may store a new
// silence whose StartsAt was moved up to now, past its EndsAt, as
// Alertmanager does.
func validateTimes(sil *Silence, order bool) error {
	if sil.StartsAt.IsZero() {
		return &ValidationError{Msg: "invalid zero start timestamp"}
	}
	if sil.EndsAt.IsZero() {
		return &ValidationError{Msg: "invalid zero end timestamp"}
	}
	if order && sil.EndsAt.Before(sil.StartsAt) {
		return &ValidationError{Msg: "end time must not be before start time"}
	}
	return nil
}

// CheckPost makes the checks Alertmanager's POST /api/v2/silences handler
// makes before Set: StartsAt strictly before EndsAt, and EndsAt not before
// now. The API prefixes the error's text with "Failed to create silence: ".
func CheckPost(sil *Silence, now time.Time) error {
	if sil == nil {
		return &ValidationError{Msg: "no silence"}
	}
	if !sil.StartsAt.Before(sil.EndsAt) {
		return &ValidationError{Msg: "start time must be before end time"}
	}
	if sil.EndsAt.Before(now) {
		return &ValidationError{Msg: "end time can't be in the past"}
	}
	return nil
}

// sameMatchers reports whether a and b are the same matchers in the same
// order, as Alertmanager's canUpdate compares matcher sets.
func sameMatchers(a, b amlabels.Matchers) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Name != b[i].Name || a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}

// canUpdate reports whether prev can be changed to next in place without
// rewriting history, as Alertmanager's canUpdate.
func canUpdate(prev, next *Silence, now time.Time) bool {
	if !sameMatchers(prev.Matchers, next.Matchers) {
		return false
	}
	switch prev.State(now) {
	case StateActive:
		return prev.StartsAt.Unix() == next.StartsAt.Unix() && !next.EndsAt.Before(now)
	case StatePending:
		return !next.StartsAt.Before(now)
	default:
		return false
	}
}

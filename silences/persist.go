package silences

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
)

// recordVersion is the format version of record. A record of another
// version is an error at load, never silently misread.
const recordVersion = 1

// record is how one silence is persisted, as JSON under its ID in Bucket.
type record struct {
	Version   int             `json:"version"`
	ID        string          `json:"id"`
	Matchers  []recordMatcher `json:"matchers"`
	StartsAt  time.Time       `json:"starts_at"`
	EndsAt    time.Time       `json:"ends_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	CreatedBy string          `json:"created_by"`
	Comment   string          `json:"comment"`
}

// recordMatcher is a matcher; Type is "=", "!=", "=~" or "!~".
type recordMatcher struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

// matchTypeString is MatchType.String for the four valid types, which
// are all a stored silence can have.
func matchTypeString(t amlabels.MatchType) string {
	switch t {
	case amlabels.MatchEqual:
		return "="
	case amlabels.MatchNotEqual:
		return "!="
	case amlabels.MatchRegexp:
		return "=~"
	default:
		return "!~"
	}
}

func parseMatchType(s string) (amlabels.MatchType, bool) {
	switch s {
	case "=":
		return amlabels.MatchEqual, true
	case "!=":
		return amlabels.MatchNotEqual, true
	case "=~":
		return amlabels.MatchRegexp, true
	case "!~":
		return amlabels.MatchNotRegexp, true
	default:
		return 0, false
	}
}

func encodeRecord(sil *Silence) ([]byte, error) {
	r := record{
		Version:   recordVersion,
		ID:        sil.ID,
		Matchers:  make([]recordMatcher, len(sil.Matchers)),
		StartsAt:  sil.StartsAt,
		EndsAt:    sil.EndsAt,
		UpdatedAt: sil.UpdatedAt,
		CreatedBy: sil.CreatedBy,
		Comment:   sil.Comment,
	}
	for i, m := range sil.Matchers {
		r.Matchers[i] = recordMatcher{Type: matchTypeString(m.Type), Name: m.Name, Value: m.Value}
	}
	return json.Marshal(r)
}

// decodeRecord reads the record stored under key and returns its silence
// with compiled matchers and their prefixes (see compileMatchers).
func decodeRecord(key string, b []byte) (*Silence, []string, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, nil, err
	}
	if r.Version != recordVersion {
		return nil, nil, fmt.Errorf("unknown format version %d", r.Version)
	}
	if r.ID != key {
		return nil, nil, fmt.Errorf("record holds silence %q", r.ID)
	}
	ms := make(amlabels.Matchers, len(r.Matchers))
	for i, rm := range r.Matchers {
		t, ok := parseMatchType(rm.Type)
		if !ok {
			return nil, nil, fmt.Errorf("unknown matcher type %q", rm.Type)
		}
		ms[i] = &amlabels.Matcher{Type: t, Name: rm.Name, Value: rm.Value}
	}
	compiled, prefixes, err := compileMatchers(ms)
	if err != nil {
		return nil, nil, err
	}
	sil := &Silence{
		ID:        r.ID,
		Matchers:  compiled,
		StartsAt:  r.StartsAt.UTC(),
		EndsAt:    r.EndsAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(),
		CreatedBy: r.CreatedBy,
		Comment:   r.Comment,
	}
	if err := validateTimes(sil, false); err != nil {
		return nil, nil, err
	}
	if sil.UpdatedAt.IsZero() {
		return nil, nil, errors.New("invalid zero update timestamp")
	}
	return sil, prefixes, nil
}

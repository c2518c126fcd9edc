package eval

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// StateStore keeps the alert state of every group across restarts: the
// evaluator writes a group's state after an evaluation that changed it and
// reads them all back once, when the Manager is first given its groups.
// app gives it a bucket of the store under --storage.path.
type StateStore interface {
	// Load returns every saved state by group key.
	Load() (map[string][]byte, error)
	// Save stores the state of the group key, durably when it returns.
	Save(key string, state []byte) error
	// Delete removes the states of groups that no longer exist.
	Delete(keys []string) error
}

// The defaults of Prometheus's --rules.alert.for-outage-tolerance and
// --rules.alert.for-grace-period.
const (
	DefaultOutageTolerance = time.Hour
	DefaultForGracePeriod  = 10 * time.Minute
)

// savedGroup is the decoded state of a group: when it was last evaluated
// and its rules' alerts.
type savedGroup struct {
	lastEval time.Time
	rules    []savedRule
}

type savedRule struct {
	name      string
	rawLabels string // the rule's unexpanded labels, labels.Labels.String()
	alerts    []*Alert
}

// State encoding, version 1:
//
//	0x01 varint(lastEval) uvarint(#rules)
//	per rule: str(name) str(rawLabels) uvarint(#alerts)
//	per alert: byte(state) labels(labels) labels(annotations)
//	  varint×6 (ActiveAt FiredAt ResolvedAt LastSentAt ValidUntil
//	  KeepFiringSince, Unix ns; 0 is the zero time) uvarint(float64 bits of Value)
//	labels: uvarint(#pairs) then str(name) str(value) each
//	str: uvarint(len) bytes
const stateVersion = 1

var errBadState = errors.New("malformed alert state")

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendLabels(b []byte, ls labels.Labels) []byte {
	b = binary.AppendUvarint(b, uint64(ls.Len()))
	ls.Range(func(l labels.Label) {
		b = appendStr(b, l.Name)
		b = appendStr(b, l.Value)
	})
	return b
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

// encodeState encodes the state of g's alerting rules, evaluated last at
// lastEval. It takes each rule's lock in turn.
func (g *Group) encodeState(lastEval time.Time) []byte {
	b := []byte{stateVersion}
	b = appendTime(b, lastEval)
	b = binary.AppendUvarint(b, uint64(len(g.alerting)))
	for _, r := range g.alerting {
		r.mu.Lock()
		b = appendStr(b, r.name)
		b = appendStr(b, r.rawLabels.String())
		b = binary.AppendUvarint(b, uint64(len(r.active)))
		for _, a := range r.active {
			b = append(b, byte(a.State))
			b = appendLabels(b, a.Labels)
			b = appendLabels(b, a.Annotations)
			for _, t := range []time.Time{a.ActiveAt, a.FiredAt, a.ResolvedAt, a.LastSentAt, a.ValidUntil, a.KeepFiringSince} {
				b = appendTime(b, t)
			}
			b = binary.AppendUvarint(b, math.Float64bits(a.Value))
		}
		r.mu.Unlock()
	}
	return b
}

// decoder reads the state encoding; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errBadState
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) time() time.Time {
	if d.err != nil {
		return time.Time{}
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errBadState
		return time.Time{}
	}
	d.b = d.b[n:]
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errBadState
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// count reads a count of items of at least min bytes each, refusing
// counts the remaining bytes cannot hold.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)/minSize+1) {
		d.err = errBadState
		return 0
	}
	return int(n)
}

func (d *decoder) labels() labels.Labels {
	n := d.count(2)
	b := labels.NewScratchBuilder(n)
	for range n {
		name := d.str()
		b.Add(name, d.str())
	}
	b.Sort()
	return b.Labels()
}

func decodeState(b []byte) (*savedGroup, error) {
	if len(b) == 0 || b[0] != stateVersion {
		return nil, errBadState
	}
	d := &decoder{b: b[1:]}
	g := &savedGroup{lastEval: d.time()}
	g.rules = make([]savedRule, d.count(3))
	for i := range g.rules {
		r := &g.rules[i]
		r.name = d.str()
		r.rawLabels = d.str()
		r.alerts = make([]*Alert, d.count(10))
		for j := range r.alerts {
			if d.err != nil {
				break
			}
			if len(d.b) == 0 {
				d.err = errBadState
				break
			}
			a := &Alert{State: AlertState(d.b[0])}
			d.b = d.b[1:]
			if a.State != StatePending && a.State != StateFiring && a.State != StateInactive {
				d.err = errBadState
			}
			a.Labels = d.labels()
			a.Annotations = d.labels()
			for _, t := range []*time.Time{&a.ActiveAt, &a.FiredAt, &a.ResolvedAt, &a.LastSentAt, &a.ValidUntil, &a.KeepFiringSince} {
				*t = d.time()
			}
			a.Value = math.Float64frombits(d.uvarint())
			r.alerts[j] = a
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errBadState
	}
	if d.err != nil {
		return nil, d.err
	}
	return g, nil
}

// restoreOptions are the Prometheus flags that decide what a restart
// keeps of pending alerts.
type restoreOptions struct {
	outageTolerance, gracePeriod time.Duration
}

// restore takes over the saved alerts of the group's rules at ts, the first
// evaluation after a start, matching rules by name and unexpanded labels as
// a reload does. What is kept:
//
//   - Firing alerts stay firing, with their ActiveAt, FiredAt (so the same
//     StartsAt) and keep_firing_for progress, however long alertd was down:
//     if the condition still holds at ts they go on firing without a new
//     page; if not they resolve at ts and the resolution is sent. (After
//     a restart Prometheus makes them pending for one evaluation, and
//     after an outage longer than the tolerance it forgets them.)
//   - Resolved alerts within their 15 minutes of retention are kept, so
//     their resolution is sent again until then.
//   - Every restored firing or resolved alert is sent at ts, whenever it
//     was last sent: the Alertmanager half keeps its alerts in memory.
//   - Pending alerts follow Prometheus's RestoreForState: dropped (they
//     start over) if alertd was down longer than the outage tolerance or
//     if the rule's for is shorter than the grace period; otherwise the
//     time alertd was down does not count towards for, and an alert that
//     would fire within the grace period of ts fires no sooner than the
//     grace period after ts.
func (g *Group) restore(saved *savedGroup, ts time.Time, o restoreOptions) (kept int) {
	downAt := saved.lastEval
	outage := ts.Sub(downAt)
	used := make([]bool, len(saved.rules))
	for _, r := range g.alerting {
		raw := r.rawLabels.String()
		for i := range saved.rules {
			sr := &saved.rules[i]
			if used[i] || sr.name != r.name || sr.rawLabels != raw {
				continue
			}
			used[i] = true
			r.mu.Lock()
			for _, a := range sr.alerts {
				switch a.State {
				case StateFiring:
				case StateInactive:
					if ts.Sub(a.ResolvedAt) > resolvedRetention {
						continue
					}
				case StatePending:
					if outage > o.outageTolerance || r.holdDuration < o.gracePeriod {
						continue
					}
					remaining := r.holdDuration - downAt.Sub(a.ActiveAt)
					switch {
					case remaining <= 0:
					case remaining < o.gracePeriod:
						a.ActiveAt = ts.Add(o.gracePeriod).Add(-r.holdDuration)
					default:
						a.ActiveAt = a.ActiveAt.Add(outage)
					}
				}
				// Sent again at once: the Alertmanager half keeps its
				// alerts in memory, so after a restart it has none until
				// the evaluator sends them (a receiving Alertmanager
				// takes the repeat as the same alert).
				a.LastSentAt = time.Time{}
				if r.active == nil {
					r.active = map[uint64]*Alert{}
				}
				r.active[a.Labels.Hash()] = a
				kept++
			}
			r.dirty = true
			r.mu.Unlock()
			break
		}
	}
	return kept
}

// lastEvalPrefix starts the keys of the groups' last evaluation times,
// saved apart from their state (group keys start with a file name, never
// with a NUL).
const lastEvalPrefix = "\x00last_eval\x00"

func lastEvalKey(groupKey string) string { return lastEvalPrefix + groupKey }

// saveState writes the group's state if an evaluation changed it. Without
// a change but with pending alerts, whose restoration needs the time of the
// last evaluation, it writes only that time: an unchanged group of many
// firing alerts is not encoded and written at every evaluation.
func (g *Group) saveState(ts time.Time) {
	if g.deps.state == nil {
		return
	}
	dirty, pending := false, false
	for _, r := range g.alerting {
		r.mu.Lock()
		dirty = dirty || r.dirty
		pending = pending || r.pending > 0
		r.dirty = false
		r.mu.Unlock()
	}
	switch {
	case dirty:
		if err := g.deps.state.Save(g.key(), g.encodeState(ts)); err != nil {
			g.logger.Error("saving alert state failed; a restart now would lose this evaluation's changes", "err", err)
			// Try again after the next evaluation.
			for _, r := range g.alerting {
				r.mu.Lock()
				r.dirty = true
				r.mu.Unlock()
			}
		}
	case pending:
		if err := g.deps.state.Save(lastEvalKey(g.key()), appendTime([]byte{stateVersion}, ts)); err != nil {
			g.logger.Error("saving the time of the last evaluation failed", "err", err)
		}
	}
}

// decodeLastEval decodes a time saved by saveState under lastEvalKey.
func decodeLastEval(b []byte) (time.Time, error) {
	if len(b) == 0 || b[0] != stateVersion {
		return time.Time{}, errBadState
	}
	d := &decoder{b: b[1:]}
	t := d.time()
	if d.err == nil && len(d.b) != 0 {
		d.err = errBadState
	}
	return t, d.err
}

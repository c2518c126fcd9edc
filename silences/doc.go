// Package silences owns alertd's silences, with Alertmanager's semantics:
// the silence model (one AND-set of matchers, a time range, author and
// comment), its states (pending, active, expired), validation with
// Alertmanager's error texts, create/update/expire rules (an update that
// would rewrite history creates a new silence and expires the old one),
// matching of alert label sets, retention and garbage collection, and the
// alertd_silences{state} gauges.
//
// Every change is written to the embedded store before it is reported, so
// a restart loses no silence. Matching is indexed by the silences'
// equality matchers, so that its cost depends on the silences that could
// match an alert rather than on all silences.
//
// It imports store of alertd's own. Label sets are
// prometheus/prometheus model/labels values and matchers are Alertmanager's
// pkg/labels matchers, so it needs nothing from alert.
package silences

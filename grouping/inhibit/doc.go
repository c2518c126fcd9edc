// Package inhibit is Alertmanager's inhibition for alertd: given the
// configured inhibit_rules, it remembers the alerts that match a rule's
// source side and answers, for a label set, whether (and by which source
// alerts) it is inhibited.
//
// The semantics are Alertmanager's (inhibit/ in v0.34.2):
//   - rules are tried in order and the first rule that inhibits wins;
//   - a rule applies to a label set its target matchers match, and it is
//     inhibited when a source alert with the same values of the rule's
//     equal labels is firing at the time of the check; a missing label
//     counts as the empty value, so a label missing on both sides is equal;
//   - an alert that matches both sides of a rule is not inhibited by a
//     source alert that also matches both sides (no self-inhibition), but
//     is by a source alert that matches the source side only;
//   - the inhibitor does not know silences: a silenced source alert still
//     inhibits, as in Alertmanager.
//
// Like Alertmanager v0.34.2, a rule keeps every source alert with the same
// equal labels, not only one, so a source that resolves never hides
// another that still fires. Where several sources could inhibit, Mutes
// names the one with the latest EndsAt (Alertmanager names any of them),
// and equal labels are compared by value, not only by fingerprint.
//
// Rules are indexed by one equality matcher of each side and by the equal
// labels of the sources they hold, so Mutes and Put evaluate only the
// rules that could apply rather than all of them.
//
// It imports alert of alertd's own.
package inhibit

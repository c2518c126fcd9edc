// Package grouping is the Alertmanager half's front: the alert store that
// merges received alerts as Alertmanager does, the routing tree, and the
// dispatcher that puts alerts into aggregation groups and flushes each
// group on Alertmanager's group_wait / group_interval timers to a Notifier.
// Inhibition lives in grouping/inhibit.
//
// It imports alert of alertd's own.
package grouping

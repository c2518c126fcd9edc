package alert

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Notification is one flush of an aggregation group: what the dispatcher
// (grouping) hands to the notification pipeline (notify), as the
// Alertmanager's dispatcher hands a group to its pipeline with the context
// values of notify/notify.go.
type Notification struct {
	GroupKey            string        // Alertmanager's group key: "<route key>:<group labels>"
	GroupLabels         labels.Labels // the labels the group is grouped by
	Receiver            string        // the route's receiver name
	RepeatInterval      time.Duration
	MuteTimeIntervals   []string // the route's mute_time_intervals names
	ActiveTimeIntervals []string // the route's active_time_intervals names
	Now                 time.Time
	// Alerts are every alert of the group at Now, sorted as the
	// Alertmanager sorts them (job, instance, then labels). Those resolved
	// at Now (Resolved(Now)) are the resolved ones; the others are firing,
	// and whatever EndsAt they have (the time they would end by
	// themselves, after Now) is shown as zero, as Alertmanager's
	// dispatcher zeroes it. They are the stored alerts: never modified.
	Alerts []*Alert
}

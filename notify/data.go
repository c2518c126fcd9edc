package notify

import (
	"regexp"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/alertd/alertd/alert"
)

// Alert statuses, as Alertmanager writes them.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// KV is a set of label or annotation pairs: Alertmanager's template.KV.
// It marshals as a JSON object with sorted keys.
type KV map[string]string

// DataAlert is one alert of a notification: Alertmanager's
// template.Alert, with its JSON keys.
type DataAlert struct {
	Status       string    `json:"status"`
	Labels       KV        `json:"labels"`
	Annotations  KV        `json:"annotations"`
	StartsAt     time.Time `json:"startsAt"`
	EndsAt       time.Time `json:"endsAt"` // zero (0001-01-01T00:00:00Z) while firing
	GeneratorURL string    `json:"generatorURL"`
	Fingerprint  string    `json:"fingerprint"` // 16 hex digits
}

// Data is what one integration is asked to send: Alertmanager's
// template.Data (the data of notification templates) plus the two fields
// its webhook message adds, with Alertmanager's JSON keys. Integrations
// must not modify it: it is shared by the integrations of a receiver.
type Data struct {
	// Receiver is the receiver's name, regexp.QuoteMeta-escaped as
	// Alertmanager does.
	Receiver string `json:"receiver"`
	// Status is "firing" if any alert fires, else "resolved".
	Status string      `json:"status"`
	Alerts []DataAlert `json:"alerts"`

	GroupLabels KV `json:"groupLabels"`
	// CommonLabels and CommonAnnotations are the pairs every alert has.
	CommonLabels      KV `json:"commonLabels"`
	CommonAnnotations KV `json:"commonAnnotations"`

	ExternalURL string `json:"externalURL"`

	// GroupKey is the aggregation group's key, unhashed.
	GroupKey string `json:"groupKey"`
	// TruncatedAlerts is how many alerts Truncate removed; zero from the
	// pipeline.
	TruncatedAlerts int `json:"truncatedAlerts"`
}

// newData builds the data of alerts (already stripped of what the
// integration does not send) for notification n.
func newData(n *alert.Notification, externalURL string, alerts []*alert.Alert) *Data {
	return (&Alerts{
		Receiver:    n.Receiver,
		GroupKey:    n.GroupKey,
		GroupLabels: n.GroupLabels,
		ExternalURL: externalURL,
		Now:         n.Now,
		Alerts:      alerts,
	}).Data()
}

// Alerts is what one integration is asked to send before it becomes Data:
// the alerts themselves and what Data is made from. An AlertsIntegration
// writes its message straight from it, without the maps of Data (which
// templates need, and which cost a flush most of its allocations).
// Integrations must not modify it: it is shared by the integrations of a
// receiver.
type Alerts struct {
	Receiver    string // the receiver's name, unescaped
	GroupKey    string
	GroupLabels labels.Labels
	ExternalURL string
	// Now is the flush time: an alert is resolved if it has ended at Now.
	Now time.Time
	// Alerts are sorted as in a notification; only those to send.
	Alerts []*alert.Alert
}

// Data builds the data of a as Alertmanager's template.Data does. A
// firing alert's EndsAt is shown as zero. Times are shown in UTC, as
// Alertmanager shows the times Prometheus sends it.
func (a *Alerts) Data() *Data {
	d := &Data{
		Receiver:    regexp.QuoteMeta(a.Receiver),
		Status:      StatusResolved,
		Alerts:      make([]DataAlert, len(a.Alerts)),
		GroupLabels: toKV(a.GroupLabels),
		ExternalURL: a.ExternalURL,
		GroupKey:    a.GroupKey,
	}
	for i, al := range a.Alerts {
		da := &d.Alerts[i]
		da.Status = StatusFiring
		da.Labels = toKV(al.Labels)
		da.Annotations = toKV(al.Annotations)
		da.StartsAt = al.StartsAt.UTC()
		da.GeneratorURL = al.GeneratorURL
		da.Fingerprint = fingerprintString(alert.Fingerprint(al.Labels))
		if al.Resolved(a.Now) {
			da.Status = StatusResolved
			da.EndsAt = al.EndsAt.UTC()
		} else {
			d.Status = StatusFiring
		}
	}
	d.CommonLabels = commonOf(a.Alerts, func(a *alert.Alert) labels.Labels { return a.Labels })
	d.CommonAnnotations = commonOf(a.Alerts, func(a *alert.Alert) labels.Labels { return a.Annotations })
	return d
}

// commonOf returns the pairs of field that every alert has, as common does
// for DataAlerts, without building and pruning a map.
func commonOf(alerts []*alert.Alert, field func(*alert.Alert) labels.Labels) KV {
	if len(alerts) == 0 {
		return KV{}
	}
	first := field(alerts[0])
	if len(alerts) == 1 {
		return toKV(first)
	}
	out := make(KV, first.Len())
	first.Range(func(l labels.Label) {
		for _, a := range alerts[1:] {
			if v, ok := getLabel(field(a), l.Name); !ok || v != l.Value {
				return
			}
		}
		out[l.Name] = l.Value
	})
	return out
}

// getLabel is Labels.Get that tells an empty value from an absent label
// (labels never have empty values, but annotations may).
func getLabel(ls labels.Labels, name string) (string, bool) {
	v, ok := "", false
	ls.Range(func(l labels.Label) {
		if !ok && l.Name == name {
			v, ok = l.Value, true
		}
	})
	return v, ok
}

// fingerprintString is fmt.Sprintf("%016x", fp).
func fingerprintString(fp uint64) string {
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = "0123456789abcdef"[fp&0xf]
		fp >>= 4
	}
	return string(b[:])
}

// summarise sets Status, CommonLabels and CommonAnnotations from Alerts.
func (d *Data) summarise() {
	d.Status = StatusResolved
	for _, a := range d.Alerts {
		if a.Status == StatusFiring {
			d.Status = StatusFiring
			break
		}
	}
	d.CommonLabels, d.CommonAnnotations = KV{}, KV{}
	if len(d.Alerts) == 0 {
		return
	}
	d.CommonLabels = common(d.Alerts, func(a *DataAlert) KV { return a.Labels })
	d.CommonAnnotations = common(d.Alerts, func(a *DataAlert) KV { return a.Annotations })
}

// common returns the pairs of field that every alert has.
func common(alerts []DataAlert, field func(*DataAlert) KV) KV {
	out := make(KV, len(field(&alerts[0])))
	for k, v := range field(&alerts[0]) {
		out[k] = v
	}
	for i := 1; i < len(alerts) && len(out) > 0; i++ {
		kv := field(&alerts[i])
		for k, v := range out {
			if w, ok := kv[k]; !ok || w != v {
				delete(out, k)
			}
		}
	}
	return out
}

// Truncate returns d with at most maxAlerts alerts, as Alertmanager's
// webhook max_alerts does: the first maxAlerts are kept, Status and the
// common labels and annotations are those of the kept alerts, and
// TruncatedAlerts counts the others. It returns d itself when nothing is
// removed (maxAlerts zero means no limit) and never modifies d.
func (d *Data) Truncate(maxAlerts int) *Data {
	if maxAlerts <= 0 || len(d.Alerts) <= maxAlerts {
		return d
	}
	t := *d
	t.Alerts = d.Alerts[:maxAlerts:maxAlerts]
	t.TruncatedAlerts = d.TruncatedAlerts + len(d.Alerts) - maxAlerts
	t.summarise()
	return &t
}

func toKV(ls labels.Labels) KV {
	kv := make(KV, ls.Len())
	ls.Range(func(l labels.Label) { kv[l.Name] = l.Value })
	return kv
}

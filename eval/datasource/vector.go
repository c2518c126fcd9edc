package datasource

import (
	"context"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Sample is one element of an instant-vector query result. A scalar result
// becomes a single Sample with empty labels, as Prometheus's rule engine does.
type Sample struct {
	Metric labels.Labels
	Value  float64
}

// Vector is an instant-query result.
type Vector []Sample

// QueryFunc runs the PromQL expression q at time ts.
type QueryFunc func(ctx context.Context, q string, ts time.Time) (Vector, error)

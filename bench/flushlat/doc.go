// Package flushlat holds BenchmarkFlushToRequest: how long after an
// aggregation group's flush is due its notification reaches the receiver,
// for 1,000 groups due at once, for every integration alertd delivers to.
// It has no code of its own outside the benchmark.
package flushlat

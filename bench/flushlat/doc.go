// Package flushlat holds the delivery benchmarks: BenchmarkFlushToRequest,
// how long after an aggregation group's flush is due its notification
// reaches the receiver, for 1,000 groups due at once, for every
// integration alertd delivers to; and BenchmarkWebhookDelivery, the cost
// per notification of bench/amload's delivery (10,000 groups of 10 alerts
// to one webhook) in one process. It has no code of its own outside the
// benchmarks.
package flushlat

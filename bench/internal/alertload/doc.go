// Package alertload is the notification load of the benchmark harnesses:
// N alerts posted to /api/v2/alerts of an Alertmanager or of alertd in
// batches over G groups, routed to a webhook receiver the harness serves.
// It runs one system through the load and returns what it did: ingest
// time, the time from the first group's flush to the last delivery, how
// many alerts arrived and how many of them were distinct, and the CPU and
// memory the process used.
//
// It is imported only by the programs under bench/; of this module it
// imports internal/testenv and the other bench/internal packages only.
package alertload

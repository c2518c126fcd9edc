// Package ruleload is the evaluation load of the benchmark harnesses: R
// alerting rules spread over G groups, each rule selecting S series of one
// metric that a scrape target serves, all of them firing, evaluated every
// interval. It writes the rule file and the target's series, and checks
// that a system fires exactly the alerts the load should fire.
//
// It is imported only by the programs under bench/ and imports nothing of
// alertd's own.
package ruleload
